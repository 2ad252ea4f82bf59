package engineio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRequestErrors(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, newEchoHandler(), &ServerOptions{
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("deny") != "" {
				return errors.New("not today")
			}
			return nil
		},
	})
	base := ts.URL + "/engine.io/"
	cases := []struct {
		name, method, url string
		hdr               []string
		status            int
		body              string
	}{
		{"no transport", "GET", "?EIO=4", nil, 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown transport", "GET", "?EIO=4&transport=tobi", nil, 400, `{"code":0,"message":"Transport unknown"}`},
		{"webtransport", "GET", "?EIO=4&transport=webtransport", nil, 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown sid", "GET", "?EIO=4&transport=polling&sid=test", nil, 400, `{"code":1,"message":"Session ID unknown"}`},
		{"unknown sid post", "POST", "?EIO=4&transport=polling&sid=test", nil, 400, `{"code":1,"message":"Session ID unknown"}`},
		{"post handshake", "POST", "?EIO=4&transport=polling", nil, 400, `{"code":2,"message":"Bad handshake method"}`},
		{"put handshake", "PUT", "?EIO=4&transport=polling", nil, 400, `{"code":2,"message":"Bad handshake method"}`},
		{"websocket without upgrade", "GET", "?EIO=4&transport=websocket", nil, 400, `{"code":3,"message":"Bad request"}`},
		{"forbidden", "GET", "?EIO=4&transport=polling&deny=1", nil, 403, `{"code":4,"message":"not today"}`},
		{"EIO 3", "GET", "?EIO=3&transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO missing", "GET", "?transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO abc", "GET", "?EIO=abc&transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		// the transport is checked before the sid, the sid before the method
		{"order transport first", "POST", "?EIO=3&sid=x", nil, 400, `{"code":0,"message":"Transport unknown"}`},
		{"order sid before EIO", "GET", "?EIO=3&transport=polling&sid=x", nil, 400, `{"code":1,"message":"Session ID unknown"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, c.method, base+c.url, "", c.hdr...)
			if r.status != c.status || r.body != c.body || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("got %d %q (%s), want %d %q", r.status, r.body, r.header.Get("Content-Type"), c.status, c.body)
			}
		})
	}
}

func TestInvalidOrigin(t *testing.T) {
	t.Parallel()
	srv := NewServer(newEchoHandler(), nil)
	// net/http clients and servers refuse such headers, so call ServeHTTP directly.
	req := httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "a\x01b")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 400 || rec.Body.String() != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
	if srv.ClientsCount() != 0 {
		t.Fatal("session created")
	}
}

func TestPathPrefixAndTrailingSlash(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, newEchoHandler(), nil)
	if r := do(t, "GET", ts.URL+"/engine.io?EIO=4&transport=polling", ""); r.status != 404 {
		t.Fatalf("/engine.io without slash: %d, want 404", r.status)
	}
	if r := do(t, "GET", ts.URL+"/engine.io/anything?EIO=4&transport=polling", ""); r.status != 200 || !openRe.MatchString(r.body) {
		t.Fatalf("prefix match: %d %q", r.status, r.body)
	}
	_, ts2 := newTestServer(t, newEchoHandler(), &ServerOptions{Path: "/socket.io"})
	if r := do(t, "GET", ts2.URL+"/socket.io/?EIO=4&transport=polling", ""); r.status != 200 {
		t.Fatalf("custom path: %d", r.status)
	}
}

// rawUpgrade sends a WebSocket upgrade request by hand and returns the raw response head and body.
func rawUpgrade(t *testing.T, base, query string) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET /engine.io/?" + query + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(conn) // the server closes the connection
	head, body, _ := strings.Cut(string(raw), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	hdr := map[string]string{}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ": ")
		hdr[strings.ToLower(k)] = v
	}
	return lines[0] + "|" + hdr["connection"] + "|" + hdr["content-type"] + "|" + body
}

func TestWebSocketRequestErrors(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, newEchoHandler(), &ServerOptions{
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("deny") != "" {
				return errors.New("nope")
			}
			return nil
		},
	})
	cases := map[string]string{
		"EIO=4&transport=tobi":              "HTTP/1.1 400 Bad Request|close|text/html|Transport unknown",
		"EIO=4&transport=websocket&sid=foo": "HTTP/1.1 400 Bad Request|close|text/html|Session ID unknown",
		"EIO=3&transport=websocket":         "HTTP/1.1 400 Bad Request|close|text/html|Unsupported protocol version",
		"EIO=4&transport=websocket&deny=1":  "HTTP/1.1 400 Bad Request|close|text/html|nope",
		"EIO=4&transport=polling":           "HTTP/1.1 400 Bad Request|close|text/html|Bad request",
	}
	for q, want := range cases {
		if got := rawUpgrade(t, ts.URL, q); got != want {
			t.Errorf("%s: got %q, want %q", q, got, want)
		}
	}
}

func TestHandshakeWebSocket(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, &ServerOptions{InitialPacket: []byte("hi")})
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	f, err := c.next()
	if err != nil {
		t.Fatal(err)
	}
	m := openRe.FindStringSubmatch(string(f.Payload))
	want := `0{"sid":"` + m[1] + `","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	if string(f.Payload) != want {
		t.Fatalf("open = %q, want %q", f.Payload, want)
	}
	c.expectText("4hi")
	c.sendText("4hello")
	c.expectText("4hello")
	c.send(2, []byte{1, 2, 3}) // binary frame
	f, err = c.next()
	if err != nil || f.Header.OpCode != 2 || string(f.Payload) != "\x01\x02\x03" {
		t.Fatalf("binary echo: %v %v %q", err, f.Header.OpCode, f.Payload)
	}
}

func TestHandshakeOptions(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, newEchoHandler(), &ServerOptions{
		PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, MaxHTTPBufferSize: 1234,
		DisableUpgrades: true, InitialPacket: []byte("welcome"), Cookie: &CookieOptions{},
	})
	r := do(t, "GET", ts.URL+"/engine.io/?EIO=4&transport=polling", "")
	m := openRe.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("body %q", r.body)
	}
	want := `0{"sid":"` + m[1] + `","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1234}` + "\x1e4welcome"
	if r.body != want {
		t.Fatalf("body %q, want %q", r.body, want)
	}
	if got, want := r.header.Get("Set-Cookie"), "io="+m[1]+"; Path=/; HttpOnly; SameSite=Lax"; got != want {
		t.Fatalf("Set-Cookie %q, want %q", got, want)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, newEchoHandler(), &ServerOptions{CORS: &CORSOptions{AllowedOrigins: []string{"*"}}})
	r := do(t, "OPTIONS", ts.URL+"/engine.io/?EIO=4&transport=polling", "", "Origin", "http://a.example",
		"Access-Control-Request-Headers", "content-type")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		r.header.Get("Access-Control-Allow-Methods") != "GET,HEAD,PUT,PATCH,POST,DELETE" ||
		r.header.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	r = do(t, "GET", ts.URL+"/engine.io/?EIO=4&transport=polling", "", "Origin", "http://a.example")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET: %d %v", r.status, r.header)
	}
	r = do(t, "GET", ts.URL+"/engine.io/?EIO=4&transport=polling&sid=nope", "", "Origin", "http://a.example")
	if r.status != 400 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("error response keeps CORS headers: %d %v", r.status, r.header)
	}

	_, ts2 := newTestServer(t, newEchoHandler(), &ServerOptions{CORS: &CORSOptions{
		AllowedOrigins: []string{"http://ok.example"}, AllowCredentials: true, MaxAge: time.Hour}})
	r = do(t, "OPTIONS", ts2.URL+"/engine.io/", "", "Origin", "http://ok.example")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "http://ok.example" ||
		r.header.Get("Access-Control-Allow-Credentials") != "true" || r.header.Get("Access-Control-Max-Age") != "3600" ||
		r.header.Get("Vary") != "Origin" {
		t.Fatalf("credentials preflight: %d %v", r.status, r.header)
	}
	r = do(t, "GET", ts2.URL+"/engine.io/?EIO=4&transport=polling", "", "Origin", "http://evil.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("disallowed origin got %v", r.header)
	}
}

// recordingListener records every write to its accepted connections.
type recordingListener struct {
	net.Listener
	mu     sync.Mutex
	writes [][]byte
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, l: l}, nil
}

type recordingConn struct {
	net.Conn
	l *recordingListener
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	c.l.writes = append(c.l.writes, bytes.Clone(p))
	c.l.mu.Unlock()
	return c.Conn.Write(p)
}

type greeter struct{ *echoHandler }

func (g *greeter) OnOpen(s *Session) { _ = s.Send(Message{Data: []byte("hello")}) }

// A WebSocket handshake answers with the 101 response, the open packet and
// what OnOpen sent, in that order and in one write.
func TestWebSocketHandshakeOneWrite(t *testing.T) {
	t.Parallel()
	srv := NewServer(&greeter{echoHandler: newEchoHandler()}, quietOpts())
	ts := httptest.NewUnstartedServer(srv)
	rl := &recordingListener{Listener: ts.Listener}
	ts.Listener = rl
	ts.Start()
	t.Cleanup(func() {
		_ = srv.Close(context.Background())
		ts.CloseClientConnections()
		ts.Close()
	})
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	c.expectOpen()
	c.expectText("4hello")
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if len(rl.writes) == 0 {
		t.Fatal("no write recorded")
	}
	first := string(rl.writes[0])
	i101, iOpen, iHello := strings.Index(first, "HTTP/1.1 101 "), strings.Index(first, `0{"sid":"`), strings.Index(first, "4hello")
	if i101 != 0 || iOpen < 0 || iHello < iOpen {
		t.Fatalf("first write %q, want the 101 response, then the open packet, then 4hello", first)
	}
}
