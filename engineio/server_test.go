package engineio

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/ws"
	"testing"
)

func TestHandshakePolling(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	r := do(t, "GET", ts.URL+"/engine.io/?EIO=4&transport=polling", "")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	m := openRe.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("body %q", r.body)
	}
	want := `0{"sid":"` + m[1] + `","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	if r.body != want {
		t.Fatalf("body %q, want %q", r.body, want)
	}
	for k, v := range map[string]string{"Content-Type": "text/plain; charset=UTF-8", "Cache-Control": "no-store", "Content-Length": strconv.Itoa(len(want))} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if r.header.Get("Set-Cookie") != "" || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("unexpected headers %v", r.header)
	}
	if n := srv.ClientsCount(); n != 1 {
		t.Errorf("ClientsCount = %d", n)
	}
}

func TestPollingEcho(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, testOpts())
	sid := handshake(t, ts.URL)
	r := do(t, "POST", pollURL(ts.URL, sid), "4test1\x1e4test2\x1ebAQID")
	if r.status != 200 || r.body != "ok" || r.header.Get("Content-Type") != "text/html" {
		t.Fatalf("POST: %d %q %v", r.status, r.body, r.header)
	}
	r = do(t, "GET", pollURL(ts.URL, sid), "")
	if r.status != 200 || r.body != "4test1\x1e4test2\x1ebAQID" {
		t.Fatalf("GET: %d %q", r.status, r.body)
	}
}

func TestOptionsDefaults(t *testing.T) {
	t.Parallel()
	o := NewServer(newEchoHandler(), nil).Options()
	if o.Path != "/engine.io/" || o.PingInterval != 25*time.Second || o.PingTimeout != 20*time.Second ||
		o.UpgradeTimeout != 10*time.Second || o.MaxHTTPBufferSize != 1e6 || o.MaxQueuePackets != 8192 ||
		o.MaxQueueBytes != 2e6 || o.Logger == nil || o.CORS != nil || o.Cookie != nil ||
		strings.Join(o.Transports, ",") != "polling,websocket" {
		t.Fatalf("defaults %+v", o)
	}
	o = NewServer(newEchoHandler(), &ServerOptions{Path: "/socket.io", Cookie: &CookieOptions{Name: "sticky"}}).Options()
	if o.Path != "/socket.io/" || *o.Cookie != (CookieOptions{Name: "sticky", Path: "/"}) {
		t.Fatalf("options %+v %+v", o, o.Cookie)
	}
}

func TestSessionAccessors(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	r := do(t, "GET", ts.URL+"/engine.io/?EIO=4&transport=polling&foo=bar", "", "X-Test", "yes")
	s := srv.lookup(openRe.FindStringSubmatch(r.body)[1])
	if s.Transport() != "polling" || s.Request().Header.Get("X-Test") != "yes" || s.Request().URL.Query().Get("foo") != "bar" {
		t.Fatalf("session %v %v", s.Transport(), s.Request())
	}
	if s.Data() != nil {
		t.Fatal("Data not nil")
	}
	s.SetData(42)
	if s.Data() != 42 {
		t.Fatal("Data lost")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.opened) != 1 || h.opened[0] != s || len(s.ID()) != 20 {
		t.Fatalf("OnOpen %v, ID %q", h.opened, s.ID())
	}
}

// Frames a client sends right behind its upgrade request (before reading the
// 101) are not lost in net/http's buffer.
func TestWebSocketPipelinedFrames(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, newEchoHandler(), nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var frame strings.Builder
	_ = ws.WriteFrame(&frame, ws.MaskFrame(ws.NewTextFrame([]byte("4early"))))
	req := "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" + frame.String()
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", res, err)
	}
	c := &wsClient{t: t, conn: conn, br: br}
	c.expectOpen()
	c.expectText("4early")
}

// Request rebuilds the handshake request from what the session keeps: a
// fresh copy each time, every header value in order.
func TestSessionRequestCopy(t *testing.T) {
	t.Parallel()
	srv, ts := newTestServer(t, newEchoHandler(), nil)
	req, _ := http.NewRequest("GET", ts.URL+"/engine.io/?EIO=4&transport=polling&a=1&a=%202", nil)
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header.Set("Cookie", "k=v")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	s := srv.lookup(openRe.FindStringSubmatch(string(body))[1])
	r := s.Request()
	if r.Method != "GET" || r.RequestURI != "/engine.io/?EIO=4&transport=polling&a=1&a=%202" ||
		r.URL.Path != "/engine.io/" || strings.Join(r.URL.Query()["a"], ",") != "1, 2" ||
		strings.Join(r.Header.Values("X-Multi"), ",") != "one,two" || r.Header.Get("Cookie") != "k=v" ||
		r.Host != strings.TrimPrefix(ts.URL, "http://") || r.RemoteAddr == "" || r.TLS != nil ||
		r.Proto != "HTTP/1.1" || r.Context() == nil {
		t.Fatalf("request %+v", r)
	}
	if n, err := r.Body.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("body read %d %v", n, err)
	}
	r.Header.Set("X-Multi", "changed")
	r.URL.RawQuery = ""
	if r2 := s.Request(); r2.Header.Get("X-Multi") != "one" || r2.URL.RawQuery == "" {
		t.Fatal("a change to one copy shows in the next")
	}
}
