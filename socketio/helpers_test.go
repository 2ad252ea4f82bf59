package socketio

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// newTestServer starts srv on an httptest server closed at test end.
func newTestServer(t *testing.T, opts *ServerOptions) (*Server, *httptest.Server) {
	t.Helper()
	srv := NewServer(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	return srv, hs
}

// pollClient is a raw Engine.IO long-polling client that sends and expects
// exact packets.
type pollClient struct {
	t       *testing.T
	base    string
	sid     string
	pending []string // packets received but not yet expected
}

func dialPolling(t *testing.T, hs *httptest.Server) *pollClient {
	t.Helper()
	c := &pollClient{t: t, base: hs.URL + "/socket.io/?EIO=4&transport=polling"}
	body := c.get(c.base)
	if !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake: %q", body)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil {
		t.Fatalf("handshake %q: %v", body, err)
	}
	c.sid = open.SID
	t.Cleanup(func() {
		// Best effort: close the session so no request stays held.
		req, _ := http.NewRequest("POST", c.url(), strings.NewReader("1"))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	return c
}

func (c *pollClient) url() string { return c.base + "&sid=" + c.sid }

func (c *pollClient) get(url string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		c.t.Fatalf("GET status %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// send POSTs Engine.IO packets (already with their type digit); binary
// attachments are given as "b<base64>".
func (c *pollClient) send(packets ...string) {
	c.t.Helper()
	resp, err := http.Post(c.url(), "text/plain;charset=UTF-8", strings.NewReader(strings.Join(packets, "\x1e")))
	if err != nil {
		c.t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "ok" {
		c.t.Fatalf("POST status %d: %s", resp.StatusCode, b)
	}
}

// next returns the next Engine.IO packet from the server.
func (c *pollClient) next() string {
	c.t.Helper()
	for len(c.pending) == 0 {
		c.pending = strings.Split(c.get(c.url()), "\x1e")
	}
	p := c.pending[0]
	c.pending = c.pending[1:]
	return p
}

// expect reads packets and compares them with want, in order. A want ending
// in "*" matches by prefix.
func (c *pollClient) expect(want ...string) []string {
	c.t.Helper()
	got := make([]string, 0, len(want))
	for _, w := range want {
		p := c.next()
		got = append(got, p)
		if pre, ok := strings.CutSuffix(w, "*"); ok && strings.HasPrefix(p, pre) {
			continue
		}
		if p != w {
			c.t.Fatalf("got packet %q, want %q (so far %q)", p, w, got)
		}
	}
	return got
}

// connect joins namespace nsp ("/" or "/x") and returns the socket id.
func (c *pollClient) connect(nsp, auth string) string {
	c.t.Helper()
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.send(prefix + auth)
	p := c.expect(prefix + `{"sid":"*`)[0]
	var reply struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(p, prefix)), &reply); err != nil || len(reply.SID) != 20 {
		c.t.Fatalf("CONNECT reply %q: sid %q %v", p, reply.SID, err)
	}
	return reply.SID
}

func b64(b []byte) string { return "b" + base64.StdEncoding.EncodeToString(b) }

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newHTTPTest serves srv on an httptest server; the test closes srv itself.
func newHTTPTest(t *testing.T, srv *Server) *httptest.Server {
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
	})
	return hs
}

// expectClose reads until the server's close packet "1" (noops skipped).
func (c *pollClient) expectClose() {
	c.t.Helper()
	for {
		switch p := c.next(); p {
		case "1":
			return
		case "6":
		default:
			c.t.Fatalf("got %q, want the close packet", p)
		}
	}
}
