// Package rawclient is a raw Engine.IO client for tests: it sends and
// expects exact packets over long-polling or WebSocket, the way the official
// protocol test suites do, so tests can assert the wire byte for byte.
//
// Packets are Engine.IO packets as strings with their type digit
// (`42["msg"]`). Binary messages are written "b" + standard base64 on both
// transports (on WebSocket they travel as binary frames).
//
// # Concurrency
//
// A Client is used by one test goroutine. It owns no goroutine.
package rawclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Timeout bounds each read and request.
var Timeout = 5 * time.Second

// Client is a raw Engine.IO v4 client on one transport.
type Client struct {
	t       testing.TB
	SID     string
	pending []string

	// polling
	url string

	// websocket
	conn net.Conn
	rw   io.ReadWriter
}

// Polling opens a long-polling session on base + path ("/socket.io/").
func Polling(t testing.TB, base, path string) *Client {
	t.Helper()
	c := &Client{t: t, url: base + path + "?EIO=4&transport=polling"}
	open := c.get(c.url)
	c.url += "&sid=" + c.parseOpen(open)
	t.Cleanup(func() {
		// Close the session so that no request stays held.
		if resp, err := http.Post(c.url, "text/plain;charset=UTF-8", strings.NewReader("1")); err == nil {
			resp.Body.Close()
		}
	})
	return c
}

// WebSocket opens a WebSocket-only session on base ("http://host") + path.
func WebSocket(t testing.TB, base, path string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	url := "ws" + strings.TrimPrefix(base, "http") + path + "?EIO=4&transport=websocket"
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		t.Fatalf("rawclient: dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &Client{t: t, conn: conn, rw: conn}
	if br != nil { // frames the dialer read ahead
		c.rw = struct {
			io.Reader
			io.Writer
		}{io.MultiReader(br, conn), conn}
	}
	f, err := c.readFrame(time.Now().Add(Timeout))
	if err != nil {
		t.Fatalf("rawclient: no open packet: %v", err)
	}
	c.parseOpen(f)
	return c
}

func (c *Client) parseOpen(p string) string {
	c.t.Helper()
	var open struct {
		SID string `json:"sid"`
	}
	if !strings.HasPrefix(p, "0") || json.Unmarshal([]byte(p[1:]), &open) != nil || open.SID == "" {
		c.t.Fatalf("rawclient: open packet %q", p)
	}
	c.SID = open.SID
	return open.SID
}

func (c *Client) get(url string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("rawclient: GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		c.t.Fatalf("rawclient: GET status %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// readFrame reads one WebSocket frame as a packet ("b"+base64 for binary),
// waiting until deadline at most.
func (c *Client) readFrame(deadline time.Time) (string, error) {
	_ = c.conn.SetReadDeadline(deadline)
	data, op, err := wsutil.ReadServerData(c.rw)
	if err != nil {
		return "", err
	}
	if op == ws.OpBinary {
		return B64(data), nil
	}
	return string(data), nil
}

// Send sends packets: one POST on polling, one frame each on WebSocket.
func (c *Client) Send(packets ...string) {
	c.t.Helper()
	if c.conn == nil {
		resp, err := http.Post(c.url, "text/plain;charset=UTF-8", strings.NewReader(strings.Join(packets, "\x1e")))
		if err != nil {
			c.t.Fatalf("rawclient: POST: %v", err)
		}
		defer resp.Body.Close()
		if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != "ok" {
			c.t.Fatalf("rawclient: POST status %d: %s", resp.StatusCode, b)
		}
		return
	}
	for _, p := range packets {
		var err error
		if data, ok := strings.CutPrefix(p, "b"); ok {
			var bin []byte
			if bin, err = base64.StdEncoding.DecodeString(data); err == nil {
				err = wsutil.WriteClientBinary(c.conn, bin)
			}
		} else {
			err = wsutil.WriteClientText(c.conn, []byte(p))
		}
		if err != nil {
			c.t.Fatalf("rawclient: write: %v", err)
		}
	}
}

// errClosed is next's error when the server ended the connection.
var errClosed = errors.New("rawclient: connection closed")

// next returns the next packet, answering and skipping pings, within
// Timeout (pings do not extend it).
func (c *Client) next() (string, error) {
	deadline := time.Now().Add(Timeout)
	for {
		for len(c.pending) == 0 {
			if time.Now().After(deadline) {
				return "", errors.New("rawclient: timed out waiting for a packet")
			}
			if c.conn == nil {
				c.pending = strings.Split(c.get(c.url), "\x1e")
				continue
			}
			f, err := c.readFrame(deadline)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return "", errors.New("rawclient: timed out waiting for a packet")
			}
			if err != nil {
				return "", errClosed
			}
			c.pending = []string{f}
		}
		p := c.pending[0]
		c.pending = c.pending[1:]
		if p == "2" {
			c.Send("3")
			continue
		}
		return p, nil
	}
}

// Next returns the next packet (pings are answered and skipped).
func (c *Client) Next() string {
	c.t.Helper()
	p, err := c.next()
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

// Expect reads packets and compares them with want, in order; a want ending
// in "*" matches by prefix. It returns the packets read.
func (c *Client) Expect(want ...string) []string {
	c.t.Helper()
	got := make([]string, 0, len(want))
	for _, w := range want {
		p := c.Next()
		got = append(got, p)
		if pre, ok := strings.CutSuffix(w, "*"); ok && strings.HasPrefix(p, pre) {
			continue
		}
		if p != w {
			c.t.Fatalf("rawclient: got packet %.200q, want %.200q (so far %.200q)", p, w, got)
		}
	}
	return got
}

// ExpectClose reads until the server closes the session: a close packet on
// polling (noops skipped), the end of the connection on WebSocket.
func (c *Client) ExpectClose() {
	c.t.Helper()
	for {
		p, err := c.next()
		if err == errClosed || (err == nil && c.conn == nil && p == "1") {
			return
		}
		if err != nil {
			c.t.Fatal(err)
		}
		if p != "6" {
			c.t.Fatalf("rawclient: got %.200q while waiting for the close", p)
		}
	}
}

// Connect joins namespace nsp ("/" or "/x") with the auth JSON (may be
// empty) and returns the socket id from the CONNECT reply.
func (c *Client) Connect(nsp, auth string) string {
	c.t.Helper()
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.Send(prefix + auth)
	p := c.Expect(prefix + `{"sid":"*`)[0]
	var reply struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(p, prefix)), &reply); err != nil || len(reply.SID) != 20 {
		c.t.Fatalf("rawclient: CONNECT reply %q: sid %q %v", p, reply.SID, err)
	}
	return reply.SID
}

// B64 is a binary message as this package writes it: "b" + base64.
func B64(b []byte) string { return "b" + base64.StdEncoding.EncodeToString(b) }
