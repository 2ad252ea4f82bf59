package socketio

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/seed9706/socketio/engineio"
)

// sinkSession is an Engine.IO session without a transport: it keeps the
// first data slice sent to it and counts the rest.
type sinkSession struct {
	mu    sync.Mutex
	first [][]byte
	count int
}

var sinkRequest = httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=websocket", nil)

func (s *sinkSession) ID() string             { return "sink" }
func (s *sinkSession) Request() *http.Request { return sinkRequest.Clone(context.Background()) }
func (s *sinkSession) Transport() string      { return "websocket" }
func (s *sinkSession) Close()                 {}
func (s *sinkSession) CloseWithReason(string) {}
func (s *sinkSession) Abort(string)           {}
func (s *sinkSession) SendVolatile(msgs ...engineio.Message) bool {
	return s.Send(msgs...) == nil
}
func (s *sinkSession) SendLater(msgs ...engineio.Message) error { return s.Send(msgs...) }
func (s *sinkSession) RunInline(engineio.InlineRunner) bool     { return false }
func (s *sinkSession) CanRunInline() bool                       { return false }
func (s *sinkSession) sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

func (s *sinkSession) Send(msgs ...engineio.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count == 1 { // the first packet is the CONNECT reply
		for _, m := range msgs {
			s.first = append(s.first, m.Data)
		}
	}
	s.count++
	return nil
}

// connectSinks connects n sockets without transports to namespace "/",
// each through a CONNECT packet as a client would.
func connectSinks(srv *Server, n int) []*sinkSession {
	sinks := make([]*sinkSession, n)
	for i := range sinks {
		sinks[i] = &sinkSession{}
		newConn(srv, sinks[i]).onMessage(engineio.Message{Data: []byte("0")}) // CONNECT "/"
	}
	for _, s := range sinks { // until each has its CONNECT reply
		for s.sent() == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	return sinks
}

func TestBroadcastSharesOneEncoding(t *testing.T) {
	srv := NewServer(nil)
	sinks := connectSinks(srv, 50)
	if err := srv.Emit("bin", "text", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	ref := sinks[0].first
	if len(ref) != 2 || string(ref[0]) != `51-["bin","text",{"_placeholder":true,"num":0}]` || string(ref[1]) != "\x01\x02\x03" {
		t.Fatalf("messages %q", ref)
	}
	for i, s := range sinks {
		if len(s.first) != 2 || &s.first[0][0] != &ref[0][0] || &s.first[1][0] != &ref[1][0] {
			t.Fatalf("socket %d got its own encoding", i)
		}
	}
}

// BenchmarkBroadcast measures one broadcast to every socket of a namespace
// (select the targets, encode once, queue for each), transports excluded.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) {
			srv := NewServer(nil)
			connectSinks(srv, n)
			b.ReportAllocs()
			for b.Loop() {
				if err := srv.Emit("news", "hello", 42); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/socket")
		})
	}
}

// BenchmarkEncodeOnce compares a broadcast to 1,000 sockets, encoded once,
// with emitting the same event to each socket, encoded each time.
func BenchmarkEncodeOnce(b *testing.B) {
	srv := NewServer(nil)
	connectSinks(srv, 1000)
	sockets := srv.Of("/").Sockets()
	payload := map[string]any{"user": "ann", "text": "hello, world", "n": 42, "tags": []any{"a", "b"}}
	b.Run("broadcast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = srv.Emit("news", payload)
		}
	})
	b.Run("per-socket", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, s := range sockets {
				_ = s.Emit("news", payload)
			}
		}
	})
}

// BenchmarkEmit measures one emit to one socket (encode + queue).
func BenchmarkEmit(b *testing.B) {
	srv := NewServer(nil)
	connectSinks(srv, 1)
	s := srv.Of("/").Sockets()[0]
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Emit("news", "hello", 42); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIdleSocketsOwnNoGoroutine(t *testing.T) {
	srv := NewServer(nil)
	before := runtime.NumGoroutine()
	connectSinks(srv, 500)
	_ = srv.Emit("news", 1) // a broadcast starts nothing either
	waitFor(t, "task goroutines to exit", func() bool { return runtime.NumGoroutine() < before+10 })
}

// BenchmarkReceiveEvent measures one event from the read path to its
// handler: decode, route, queue, dispatch.
func BenchmarkReceiveEvent(b *testing.B) {
	srv := NewServer(nil)
	var handled sync.WaitGroup
	srv.OnConnection(func(s *Socket) {
		s.On("msg", func(e *Event) {
			var n int
			_ = e.Args(&n)
			handled.Done()
		})
	})
	sink := &sinkSession{}
	c := newConn(srv, sink)
	c.onMessage(engineio.Message{Data: []byte("0")})
	for len(srv.Of("/").Sockets()) == 0 {
		time.Sleep(time.Millisecond)
	}
	msg := []byte(`2["msg",42]`)
	b.ReportAllocs()
	for b.Loop() {
		handled.Add(1)
		c.onMessage(engineio.Message{Data: append([]byte(nil), msg...)})
	}
	handled.Wait()
}

// BenchmarkEchoEvent measures the echo scenario: one event at a time from
// the read path to a handler that emits back, the socket idle in between
// (as when each event waits for a network round trip).
func BenchmarkEchoEvent(b *testing.B) {
	srv := NewServer(nil)
	handled := make(chan struct{})
	srv.OnConnection(func(s *Socket) {
		s.On("msg", func(e *Event) {
			var n int
			_ = e.Args(&n)
			_ = s.Emit("msg", n)
			handled <- struct{}{}
		})
	})
	sink := &sinkSession{}
	c := newConn(srv, sink)
	c.onMessage(engineio.Message{Data: []byte("0")})
	for len(srv.Of("/").Sockets()) == 0 {
		time.Sleep(time.Millisecond)
	}
	msg := []byte(`2["msg",42]`)
	b.ReportAllocs()
	for b.Loop() {
		c.onMessage(engineio.Message{Data: append([]byte(nil), msg...)})
		<-handled
	}
}

// newAckEchoServer serves an "echo" event acknowledged with its arguments,
// with the bench server's CORS.
func newAckEchoServer(b *testing.B) *httptest.Server {
	srv := NewServer(&ServerOptions{CORS: &engineio.CORSOptions{AllowedOrigins: []string{"*"}, AllowCredentials: true}})
	srv.OnConnection(func(s *Socket) {
		s.On("echo", func(e *Event) { _ = e.Ack(e.Values()...) })
	})
	hs := httptest.NewServer(srv)
	b.Cleanup(func() {
		_ = srv.Close(context.Background())
		hs.CloseClientConnections()
		hs.Close()
	})
	return hs
}

// BenchmarkPollingAck measures S5 on the server: one acknowledged emit
// over HTTP long-polling (a POST, then the GET carrying the ack), through
// net/http, Engine.IO and the socket's task queue, with the bench server's
// CORS. The client is a hand-written keep-alive connection, so allocations
// are the server's.
func BenchmarkPollingAck(b *testing.B) {
	hs := newAckEchoServer(b)
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	var body []byte
	do := func(req []byte) []byte {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		n := -1
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		body = slices.Grow(body[:0], n)[:n]
		if _, err := io.ReadFull(br, body); err != nil {
			b.Fatal(err)
		}
		return body
	}
	const hdr = " HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\nAccept-Encoding: gzip\r\n"
	get := func(q string) []byte { return []byte("GET /socket.io/?EIO=4&transport=polling" + q + hdr + "\r\n") }
	post := func(q, payload string) []byte {
		return []byte("POST /socket.io/?EIO=4&transport=polling" + q + hdr + "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: " +
			strconv.Itoa(len(payload)) + "\r\n\r\n" + payload)
	}
	open := string(do(get("")))
	sid, _, _ := strings.Cut(strings.TrimPrefix(open, `0{"sid":"`), `"`)
	q := "&sid=" + sid
	if got := string(do(post(q, "40"))); got != "ok" {
		b.Fatalf("POST 40: %q", got)
	}
	if got := string(do(get(q))); !strings.HasPrefix(got, "40{") {
		b.Fatalf("CONNECT reply %q", got)
	}
	postReq, getReq := post(q, `421["echo","hello there, 32 bytes of payload!"]`), get(q)
	const want = `431["hello there, 32 bytes of payload!"]`
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if got := do(postReq); string(got) != "ok" {
			b.Fatalf("POST: %q", got)
		}
		if got := do(getReq); string(got) != want {
			b.Fatalf("GET: %q", got)
		}
	}
	// CPU per op (server and client: wall time is noisy on a shared machine).
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkConnectWebSocket measures S2a in one process: a WebSocket
// handshake, the open packet, CONNECT and its reply, then the close, with
// one connection handler; cpu-ns/op counts the client too.
func BenchmarkConnectWebSocket(b *testing.B) {
	hs := newAckEchoServer(b)
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	connect := ws.MaskFrame(ws.NewTextFrame([]byte("40")))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		conn, br, _, err := ws.Dial(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		var r io.Reader = conn
		if br != nil {
			r = br
		}
		read := func() []byte {
			h, err := ws.ReadHeader(r)
			if err != nil {
				b.Fatal(err)
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(r, p); err != nil {
				b.Fatal(err)
			}
			return p
		}
		if p := read(); p[0] != '0' {
			b.Fatalf("open %q", p)
		}
		if err := ws.WriteFrame(conn, connect); err != nil {
			b.Fatal(err)
		}
		if p := read(); !bytes.HasPrefix(p, []byte("40{")) {
			b.Fatalf("CONNECT reply %q", p)
		}
		conn.Close()
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkIdleSocketRetained reports the heap an idle connected socket
// keeps on the Socket.IO side (conn, Socket, adapter rooms, namespace
// entry), with the nine handlers the bench server registers; the Engine.IO
// session and the transport are not included (sinkSession stands in).
func BenchmarkIdleSocketRetained(b *testing.B) {
	srv := NewServer(nil)
	names := []string{"echo", "join", "leave", "broadcast", "broadcast-except", "sockets", "request", "rooms", "disconnect-me"}
	srv.OnConnection(func(s *Socket) {
		for _, name := range names {
			s.On(name, func(e *Event) { _ = s.Emit(name) })
		}
	})
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	sinks := make([]*sinkSession, 0, b.N)
	for len(sinks) < b.N { // in batches: exited task goroutines are reused, not counted
		batch := connectSinks(srv, min(100, b.N-len(sinks)))
		sinks = append(sinks, batch...)
		waitIdle := time.Now().Add(time.Second)
		for _, s := range srv.root.Sockets() {
			for s.queue.Running() && time.Now().Before(waitIdle) {
				time.Sleep(time.Millisecond)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	if n := len(srv.root.Sockets()); n != b.N {
		b.Fatalf("%d sockets connected, want %d", n, b.N)
	}
	b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/float64(b.N), "retained-B/socket")
	runtime.KeepAlive(sinks)
}
