package engineio

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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
