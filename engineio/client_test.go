package engineio

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// testClient records what a ClientConn delivers.
type testClient struct {
	msgs   chan Message
	closed chan string
}

func newTestClient() *testClient {
	return &testClient{msgs: make(chan Message, 100), closed: make(chan string, 1)}
}

func (tc *testClient) options(o DialOptions) *DialOptions {
	o.OnMessage = func(m Message) { tc.msgs <- Message{Data: bytes.Clone(m.Data), Binary: m.Binary} }
	o.OnClose = func(reason string, err error) { tc.closed <- reason }
	return &o
}

func (tc *testClient) next(t *testing.T) Message {
	t.Helper()
	select {
	case m := <-tc.msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
		return Message{}
	}
}

func (tc *testClient) waitClose(t *testing.T) string {
	t.Helper()
	select {
	case r := <-tc.closed:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose not called")
		return ""
	}
}

// clientTestOpts ping often, with slack for a loaded machine.
func clientTestOpts() *ServerOptions {
	return &ServerOptions{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second}
}

func waitDone(t *testing.T, c *ClientConn) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("connection goroutines did not end")
	}
}

func dialTest(t *testing.T, url string, opts *DialOptions) *ClientConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); <-c.Done() })
	return c
}

func waitTransport(t *testing.T, c *ClientConn, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Transport() != want {
		if time.Now().After(deadline) {
			t.Fatalf("transport %q, want %q", c.Transport(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClientEcho(t *testing.T) {
	for _, tt := range []struct {
		name       string
		transports []string
		final      string
	}{
		{"polling", []string{"polling"}, "polling"},
		{"websocket", []string{"websocket"}, "websocket"},
		{"upgrade", nil, "websocket"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newEchoHandler()
			_, ts := newTestServer(t, h, clientTestOpts())
			tc := newTestClient()
			c := dialTest(t, ts.URL, tc.options(DialOptions{Transports: tt.transports}))
			if c.ID() == "" || c.PingInterval() != 200*time.Millisecond || c.PingTimeout() != time.Second || c.MaxPayload() != 1e6 {
				t.Fatalf("handshake: sid %q, %v %v %d", c.ID(), c.PingInterval(), c.PingTimeout(), c.MaxPayload())
			}
			// Sent while the upgrade may be under way: order must hold.
			want := []Message{{Data: []byte("hello")}, {Data: []byte{1, 2, 3}, Binary: true}, {Data: []byte("é€")}}
			for i := range 30 {
				m := want[i%len(want)]
				if err := c.Send(m); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 30 {
				got, m := tc.next(t), want[i%len(want)]
				if !bytes.Equal(got.Data, m.Data) || got.Binary != m.Binary {
					t.Fatalf("message %d = %+v, want %+v", i, got, m)
				}
			}
			waitTransport(t, c, tt.final)
			// Stays alive across several heartbeats.
			time.Sleep(time.Second)
			if err := c.Send(Message{Data: []byte("still")}); err != nil {
				select {
				case r := <-tc.closed:
					t.Fatalf("%v: closed with %q", err, r)
				default:
					t.Fatal(err)
				}
			}
			if got := tc.next(t); string(got.Data) != "still" {
				t.Fatalf("got %q", got.Data)
			}
			if c.Context().Err() != nil {
				t.Fatal("Context canceled while the connection is open")
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if r := tc.waitClose(t); r != "forced close" {
				t.Fatalf("client reason %q", r)
			}
			if r := h.waitClose(t); r != ReasonTransportClose {
				t.Fatalf("server reason %q", r)
			}
			waitDone(t, c)
			if err := c.Send(Message{Data: []byte("x")}); !errors.Is(err, ErrClosed) {
				t.Fatalf("Send after Close: %v", err)
			}
		})
	}
}

func TestClientServerCloses(t *testing.T) {
	for _, transports := range [][]string{{"polling"}, {"websocket"}} {
		t.Run(transports[0], func(t *testing.T) {
			h := newEchoHandler()
			_, ts := newTestServer(t, h, clientTestOpts())
			tc := newTestClient()
			c := dialTest(t, ts.URL, tc.options(DialOptions{Transports: transports}))
			h.mu.Lock()
			s := h.opened[0]
			h.mu.Unlock()
			s.Close()
			if r := tc.waitClose(t); r != ReasonTransportClose {
				t.Fatalf("reason %q", r)
			}
			waitDone(t, c)
		})
	}
}

func TestClientHandshakeRejected(t *testing.T) {
	_, ts := newTestServer(t, newEchoHandler(), &ServerOptions{AllowRequest: func(*http.Request) error { return errors.New("nope") }})
	_, err := Dial(context.Background(), ts.URL, &DialOptions{Transports: []string{"polling"}})
	var re *RequestError
	if !errors.As(err, &re) || re.Code != CodeForbidden || re.Message != "nope" {
		t.Fatalf("err = %v", err)
	}
	_, err = Dial(context.Background(), ts.URL, &DialOptions{Path: "/other"})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 404 {
		t.Fatalf("err = %v", err)
	}
	if _, err := Dial(context.Background(), ts.URL, &DialOptions{Transports: []string{"webtransport"}}); !errors.Is(err, ErrNoTransports) {
		t.Fatalf("err = %v", err)
	}
}

// fakeServer answers the polling handshake with the given open packet and
// records the requests; GETs after the handshake are held until release.
type fakeServer struct {
	open    string
	poll    string // the answer to a held GET once released
	mu      sync.Mutex
	reqs    []*http.Request
	posts   []string
	release chan struct{}
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	if r.Method == http.MethodPost {
		f.posts = append(f.posts, string(body))
	}
	f.mu.Unlock()
	switch {
	case r.URL.Query().Get("sid") == "":
		io.WriteString(w, f.open)
	case r.Method == http.MethodPost:
		io.WriteString(w, "ok")
	default:
		select {
		case <-f.release:
			f.mu.Lock()
			poll := f.poll
			f.mu.Unlock()
			io.WriteString(w, poll)
		case <-r.Context().Done():
		}
	}
}

func newFakeServer(t *testing.T, open string) (*fakeServer, *httptest.Server) {
	f := &fakeServer{open: open, poll: "6", release: make(chan struct{})}
	ts := httptest.NewServer(f)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	return f, ts
}

func TestClientPingTimeout(t *testing.T) {
	_, ts := newFakeServer(t, `0{"sid":"abc","upgrades":[],"pingInterval":50,"pingTimeout":50,"maxPayload":1000}`)
	tc := newTestClient()
	c := dialTest(t, ts.URL, tc.options(DialOptions{}))
	if r := tc.waitClose(t); r != ReasonPingTimeout {
		t.Fatalf("reason %q", r)
	}
	if c.Context().Err() == nil {
		t.Fatal("Context not canceled after the close")
	}
	waitDone(t, c)
}

func TestClientRequestsAndBatches(t *testing.T) {
	f, ts := newFakeServer(t, `0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":20}`+"\x1e4first")
	tc := newTestClient()
	c := dialTest(t, ts.URL+"/custom?x=1", tc.options(DialOptions{
		Query:          map[string][]string{"token": {"a b"}},
		Header:         http.Header{"X-Test": {"yes"}},
		DisableUpgrade: true,
	}))
	if got := tc.next(t); string(got.Data) != "first" {
		t.Fatalf("packet after open: %q", got.Data)
	}
	// 1 + 6 = 7; + 2 + 6 = 15; + 2 + 6 = 23 > 20: a new batch.
	for _, m := range []string{"aaaaa", "bbbbb", "ccccc", "0123456789012345678901234"} {
		if err := c.Send(Message{Data: []byte(m)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	want := []string{"4aaaaa\x1e4bbbbb", "4ccccc", "40123456789012345678901234"}
	for {
		f.mu.Lock()
		posts := append([]string(nil), f.posts...)
		reqs := append([]*http.Request(nil), f.reqs...)
		f.mu.Unlock()
		if strings.Join(posts, "|") == strings.Join(want, "|") {
			for _, r := range reqs {
				q := r.URL.Query()
				if r.URL.Path != "/custom/" || q.Get("x") != "1" || q.Get("token") != "a b" || q.Get("EIO") != "4" ||
					q.Get("transport") != "polling" || len(q.Get("t")) != 8 || r.Header.Get("X-Test") != "yes" {
					t.Fatalf("request %s %s %v", r.Method, r.URL, r.Header)
				}
				if r.Method == http.MethodPost && q.Get("sid") != "abc" {
					t.Fatalf("POST without sid: %s", r.URL)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("posts %q, want %q", posts, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Close()
	f.mu.Lock()
	last := f.posts[len(f.posts)-1]
	f.mu.Unlock()
	if last != "1" {
		t.Fatalf("close POST body %q", last)
	}
	if r := tc.waitClose(t); r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
}

func TestClientBadHandshake(t *testing.T) {
	for _, open := range []string{"", "4hello", `0{"sid":""}`, "0notjson", `0{"sid":"a","pingInterval":1,"pingTimeout":1}` + "\x1ezz"} {
		_, ts := newFakeServer(t, open)
		if _, err := Dial(context.Background(), ts.URL, &DialOptions{Transports: []string{"polling"}}); !errors.Is(err, ErrBadHandshake) {
			t.Errorf("open %q: err = %v", open, err)
		}
	}
}

func TestClientParseErrorOnPolling(t *testing.T) {
	f, ts := newFakeServer(t, `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000}`)
	f.poll = "4ok\x1ezz\x1e4never"
	tc := newTestClient()
	c := dialTest(t, ts.URL, tc.options(DialOptions{}))
	close(f.release)
	if got := tc.next(t); string(got.Data) != "ok" {
		t.Fatalf("got %q", got.Data)
	}
	if r := tc.waitClose(t); r != ReasonParseError {
		t.Fatalf("reason %q", r)
	}
	waitDone(t, c)
	select {
	case m := <-tc.msgs:
		t.Fatalf("message after the bad packet: %q", m.Data)
	default:
	}
}

func TestClientRememberUpgrade(t *testing.T) {
	h := newEchoHandler()
	_, ts := newTestServer(t, h, clientTestOpts())
	c := dialTest(t, ts.URL, &DialOptions{})
	waitTransport(t, c, "websocket")
	c.Close()
	<-c.Done()
	c2 := dialTest(t, ts.URL, &DialOptions{RememberUpgrade: true})
	if tr := c2.Transport(); tr != "websocket" {
		t.Fatalf("RememberUpgrade: opened with %q", tr)
	}
	c3 := dialTest(t, ts.URL, &DialOptions{Transports: []string{"polling"}})
	if tr := c3.Transport(); tr != "polling" {
		t.Fatalf("opened with %q", tr)
	}
}

func FuzzClientWSRead(f *testing.F) {
	frame := func(op ws.OpCode, fin bool, payload string) []byte {
		var b bytes.Buffer
		_ = ws.WriteHeader(&b, ws.Header{Fin: fin, OpCode: op, Length: int64(len(payload))})
		b.WriteString(payload)
		return b.Bytes()
	}
	f.Add(frame(ws.OpText, true, "4hello"))
	f.Add(frame(ws.OpBinary, true, "\x01\x02"))
	f.Add(append(frame(ws.OpText, false, "4he"), frame(ws.OpContinuation, true, "llo")...))
	f.Add(append(frame(ws.OpPing, true, "x"), frame(ws.OpText, true, "3probe")...))
	f.Add(frame(ws.OpClose, true, "\x03\xe8"))
	f.Add(frame(ws.OpText, true, "9bad"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := &clientWS{br: bufio.NewReader(bytes.NewReader(data)), limit: 1 << 10, conn: discardConn{}}
		for range 10 {
			p, err := w.readPacket()
			if err != nil {
				return
			}
			if len(p.Data) > 1<<10 {
				t.Fatalf("message of %d bytes over the limit", len(p.Data))
			}
		}
	})
}

type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

func TestClientTLS(t *testing.T) {
	h := newEchoHandler()
	srv := NewServer(h, clientTestOpts())
	ts := httptest.NewTLSServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	for _, tt := range []struct {
		name string
		opts DialOptions
	}{
		{"tls config", DialOptions{TLSConfig: &tls.Config{RootCAs: pool}}},
		{"caller's client", DialOptions{HTTPClient: ts.Client(), Transports: []string{"polling"}}},
		{"wss", DialOptions{TLSConfig: &tls.Config{RootCAs: pool}, Transports: []string{"websocket"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestClient()
			c := dialTest(t, ts.URL, tc.options(tt.opts))
			if err := c.Send(Message{Data: []byte("secure")}); err != nil {
				t.Fatal(err)
			}
			if got := tc.next(t); string(got.Data) != "secure" {
				t.Fatalf("got %q", got.Data)
			}
			if tt.opts.HTTPClient == nil {
				waitTransport(t, c, "websocket")
			}
		})
	}
	// Without the CA, the handshake fails.
	if _, err := Dial(context.Background(), ts.URL, &DialOptions{Transports: []string{"websocket"}}); err == nil {
		t.Fatal("dialed an untrusted server")
	}
}

func TestClientHeadersOnWebSocket(t *testing.T) {
	_, ts := newTestServer(t, newEchoHandler(), &ServerOptions{AllowRequest: func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer x" {
			return errors.New("no token")
		}
		return nil
	}})
	c := dialTest(t, ts.URL, &DialOptions{Transports: []string{"websocket"}, Header: http.Header{"Authorization": {"Bearer x"}}})
	if c.Transport() != "websocket" {
		t.Fatalf("transport %q", c.Transport())
	}
	if _, err := Dial(context.Background(), ts.URL, &DialOptions{Transports: []string{"websocket"}}); err == nil {
		t.Fatal("dialed without the header")
	}
}

// FuzzClientHandshake decodes a polling handshake response as Dial does.
func FuzzClientHandshake(f *testing.F) {
	f.Add([]byte(`0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	f.Add([]byte(`0{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":100}` + "\x1e4hello\x1ebAQID"))
	f.Add([]byte(`0{"sid":""}`))
	f.Add([]byte("4hello"))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := &ClientConn{}
		pkts, err := DecodePayload(body)
		if err != nil || len(pkts) == 0 {
			return
		}
		if c.parseOpen(pkts[0]) == nil && (c.sid == "" || c.pingInterval <= 0 || c.pingTimeout <= 0) {
			t.Fatalf("accepted open packet %q", pkts[0].Data)
		}
	})
}

func TestClientMaxMessageSize(t *testing.T) {
	for _, transports := range [][]string{{"polling"}, {"websocket"}} {
		t.Run(transports[0], func(t *testing.T) {
			_, ts := newTestServer(t, newEchoHandler(), clientTestOpts())
			tc := newTestClient()
			c := dialTest(t, ts.URL, tc.options(DialOptions{Transports: transports, MaxMessageSize: 200}))
			if err := c.Send(Message{Data: bytes.Repeat([]byte("x"), 300)}); err != nil {
				t.Fatal(err)
			}
			if r := tc.waitClose(t); r != ReasonTransportError {
				t.Fatalf("reason %q", r)
			}
			waitDone(t, c)
		})
	}
}
