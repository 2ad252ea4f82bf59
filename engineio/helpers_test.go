package engineio

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// echoHandler sends every message back and records the events.
type echoHandler struct {
	mu       sync.Mutex
	opened   []*Session
	messages []Message
	closes   []string
	closed   chan string // receives each close reason
	noEcho   bool
}

func newEchoHandler() *echoHandler { return &echoHandler{closed: make(chan string, 100)} }

func (h *echoHandler) OnOpen(s *Session) {
	h.mu.Lock()
	h.opened = append(h.opened, s)
	h.mu.Unlock()
}

func (h *echoHandler) OnMessage(s *Session, m Message) {
	h.mu.Lock()
	h.messages = append(h.messages, m)
	noEcho := h.noEcho
	h.mu.Unlock()
	if !noEcho {
		_ = s.Send(m)
	}
}

func (h *echoHandler) OnClose(s *Session, reason string, cause error) {
	h.mu.Lock()
	h.closes = append(h.closes, reason)
	h.mu.Unlock()
	h.closed <- reason
}

func (h *echoHandler) waitClose(t *testing.T) string {
	t.Helper()
	select {
	case r := <-h.closed:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose not called")
		return ""
	}
}

// testOpts are the options of the official test suite.
func testOpts() *ServerOptions {
	return &ServerOptions{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond}
}

// newTestServer starts srv on httptest; cleanup closes both.
func newTestServer(t *testing.T, h Handler, opts *ServerOptions) (*Server, *httptest.Server) {
	t.Helper()
	srv := NewServer(h, opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	return srv, ts
}

// newPlainServer serves srv on httptest without closing srv on cleanup.
func newPlainServer(t testing.TB, srv *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	return ts
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url, body string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body = http.NoBody
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

var openRe = regexp.MustCompile(`^0\{"sid":"([A-Za-z0-9_-]{20})","upgrades":\[("websocket")?\],"pingInterval":(\d+),"pingTimeout":(\d+),"maxPayload":(\d+)\}`)

// handshake opens a polling session and returns its sid.
func handshake(t *testing.T, base string) string {
	t.Helper()
	r := do(t, "GET", base+"/engine.io/?EIO=4&transport=polling", "")
	m := openRe.FindStringSubmatch(r.body)
	if r.status != 200 || m == nil {
		t.Fatalf("handshake: %d %q", r.status, r.body)
	}
	return m[1]
}

func pollURL(base, sid string) string {
	return base + "/engine.io/?EIO=4&transport=polling&sid=" + sid
}

// wsClient is a raw WebSocket client speaking frames (masked, as clients must).
type wsClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func wsURL(base, query string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/engine.io/?" + query
}

func dialWS(t *testing.T, url string) *wsClient {
	t.Helper()
	conn, br, _, err := ws.Dial(context.Background(), url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close() })
	if br == nil {
		br = bufio.NewReader(conn)
	}
	return &wsClient{t: t, conn: conn, br: br}
}

func (c *wsClient) send(op ws.OpCode, p []byte) {
	c.t.Helper()
	if err := ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewFrame(op, true, p))); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) sendText(s string) { c.send(ws.OpText, []byte(s)) }

// next returns the next frame (control frames included).
func (c *wsClient) next() (ws.Frame, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Masked {
		return ws.Frame{}, errors.New("server frame is masked")
	}
	if h.Length > 16<<20 {
		return ws.Frame{}, errors.New("frame too large for a test")
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(c.br, p)
	return ws.Frame{Header: h, Payload: p}, err
}

// expectText reads the next frame and checks it is the text want.
func (c *wsClient) expectText(want string) {
	c.t.Helper()
	f, err := c.next()
	if err != nil {
		c.t.Fatalf("read (want %q): %v", want, err)
	}
	if f.Header.OpCode != ws.OpText || string(f.Payload) != want {
		c.t.Fatalf("frame op %v %q, want text %q", f.Header.OpCode, f.Payload, want)
	}
}

// expectOpen reads the open packet and returns the sid.
func (c *wsClient) expectOpen() string {
	c.t.Helper()
	f, err := c.next()
	if err != nil {
		c.t.Fatal(err)
	}
	m := openRe.FindStringSubmatch(string(f.Payload))
	if m == nil || m[2] != "" {
		c.t.Fatalf("open frame %q", f.Payload)
	}
	return m[1]
}

// expectClose reads until a close frame and returns its status (1005 when absent).
func (c *wsClient) expectClose() ws.StatusCode {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("want close frame: %v", err)
		}
		if f.Header.OpCode == ws.OpClose {
			if len(f.Payload) < 2 {
				return ws.StatusNoStatusRcvd
			}
			code, _ := ws.ParseCloseFrameData(f.Payload)
			return code
		}
	}
}
