package engineio

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func benchPackets() []Packet {
	return []Packet{
		{Type: PacketMessage, Data: []byte(`2["chat message",{"user":"alice","text":"hello there"}]`)},
		{Type: PacketPing},
		{Type: PacketMessage, Data: bytes.Repeat([]byte{7}, 64), Binary: true},
		{Type: PacketMessage, Data: []byte(`3["ack",1,2,3]`)},
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	pkts := benchPackets()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(PayloadLen(pkts...)))
	for b.Loop() {
		buf = AppendPayload(buf[:0], pkts...)
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	wire := AppendPayload(nil, benchPackets()...)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		if err := eachPacket(wire, func(Packet) bool { return true }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPollingRoundTrip: one POST of a message and the GET returning its echo.
func BenchmarkPollingRoundTrip(b *testing.B) {
	srv := NewServer(echoOnly{}, nil)
	ts := newPlainServer(b, srv)
	b.Cleanup(func() { _ = srv.Close(b.Context()) })
	res, err := http.Get(ts.URL + "/engine.io/?EIO=4&transport=polling")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	url := ts.URL + "/engine.io/?EIO=4&transport=polling&sid=" + openRe.FindStringSubmatch(string(body))[1]
	const msg = `42["chat message","hello there"]`
	b.ReportAllocs()
	for b.Loop() {
		res, err := http.Post(url, "text/plain;charset=UTF-8", strings.NewReader(msg))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		res, err = http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got) != msg {
			b.Fatalf("got %q", got)
		}
	}
}

// BenchmarkWebSocketRoundTrip: one text message sent and its echo read.
func BenchmarkWebSocketRoundTrip(b *testing.B) {
	srv := NewServer(echoOnly{}, nil)
	ts := newPlainServer(b, srv)
	b.Cleanup(func() { _ = srv.Close(b.Context()) })
	conn, br, _, err := ws.Dial(b.Context(), wsURL(ts.URL, "EIO=4&transport=websocket"))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var r io.Reader = conn
	if br != nil {
		r = br
	}
	readFrame := func() []byte {
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
	readFrame() // open
	frame, err := ws.CompileFrame(ws.MaskFrame(ws.NewTextFrame([]byte(`442["chat message","hello there"]`))))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conn.Write(frame); err != nil {
			b.Fatal(err)
		}
		if p := readFrame(); len(p) != 33 {
			b.Fatalf("got %q", p)
		}
	}
}

// BenchmarkIdleWebSocketSessions reports the heap, stack and goroutines
// per idle WebSocket session, once the read loops had time to park. The
// clients are bare connections in the same process: their net.Conn (about
// 250 B each) counts in heapB/session.
func BenchmarkIdleWebSocketSessions(b *testing.B) {
	const n = 2000
	for b.Loop() {
		srv := NewServer(echoOnly{}, nil)
		ts := newPlainServer(b, srv)
		before, g0 := memSnapshot()
		conns := make([]net.Conn, 0, n)
		for range n {
			conn, br, _, err := ws.Dial(b.Context(), wsURL(ts.URL, "EIO=4&transport=websocket"))
			if err != nil {
				b.Fatal(err)
			}
			var r io.Reader = conn
			if br != nil {
				r = br
			}
			h, err := ws.ReadHeader(r) // the open packet: the session exists
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.CopyN(io.Discard, r, h.Length)
			conns = append(conns, conn)
		}
		for deadline := time.Now().Add(parkAfter + 2*time.Second); runtime.NumGoroutine()-g0 > n/100 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		after, g1 := memSnapshot()
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "heapB/session")
		b.ReportMetric(float64(int64(after.StackInuse)-int64(before.StackInuse))/n, "stackB/session")
		b.ReportMetric(float64(g1-g0)/n, "goroutines/session")
		for _, c := range conns {
			c.Close()
		}
		_ = srv.Close(b.Context())
	}
}

func memSnapshot() (runtime.MemStats, int) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m, runtime.NumGoroutine()
}

// BenchmarkBroadcastWebSocket: one message (encoded once) sent to 200
// WebSocket sessions per op; reports deliveries per second.
func BenchmarkBroadcastWebSocket(b *testing.B) {
	const n = 200
	opened := make(chan *Session, n)
	srv := NewServer(openNotifier(opened), nil)
	ts := newPlainServer(b, srv)
	b.Cleanup(func() { _ = srv.Close(b.Context()) })
	sessions := make([]*Session, 0, n)
	readers := make(chan int, n)
	var conns []net.Conn
	for range n {
		conn, br, _, err := ws.Dial(b.Context(), wsURL(ts.URL, "EIO=4&transport=websocket"))
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, conn)
		var r io.Reader = conn
		if br != nil {
			r = br
		}
		sessions = append(sessions, <-opened)
		go func() { // count the message frames this client receives
			for {
				h, err := ws.ReadHeader(r)
				if err != nil {
					return
				}
				p := make([]byte, h.Length)
				if _, err := io.ReadFull(r, p); err != nil {
					return
				}
				if len(p) > 0 && p[0] == '4' {
					readers <- 1
				}
			}
		}()
	}
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	msg := Message{Data: []byte(`2["news",{"title":"hello","n":1}]`)}
	for b.Loop() {
		for _, s := range sessions {
			if err := s.Send(msg); err != nil {
				b.Fatal(err)
			}
		}
		for range n {
			<-readers
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

type openNotifier chan *Session

func (o openNotifier) OnOpen(s *Session)             { o <- s }
func (openNotifier) OnMessage(*Session, Message)     {}
func (openNotifier) OnClose(*Session, string, error) {}

// rawHTTP is a minimal HTTP/1.1 client on one keep-alive connection, so
// that a benchmark's time and allocations are mostly the server's.
type rawHTTP struct {
	tb   testing.TB
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(tb testing.TB, addr string) *rawHTTP {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return &rawHTTP{tb: tb, conn: conn, br: bufio.NewReader(conn)}
}

// do writes req and returns the body of its response (Content-Length framed).
func (c *rawHTTP) do(req []byte, body []byte) []byte {
	if _, err := c.conn.Write(req); err != nil {
		c.tb.Fatal(err)
	}
	n := -1
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			c.tb.Fatal(err)
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if n < 0 {
		c.tb.Fatal("response without Content-Length")
	}
	body = slices.Grow(body[:0], n)[:n]
	if _, err := io.ReadFull(c.br, body); err != nil {
		c.tb.Fatal(err)
	}
	return body
}

// BenchmarkPollingServer: one POST of a message and the GET returning its
// echo, over one keep-alive connection written to by hand; CORS as in the
// bench server. Allocations are the server's (the client allocates none).
func BenchmarkPollingServer(b *testing.B) {
	srv := NewServer(echoOnly{}, &ServerOptions{CORS: &CORSOptions{AllowedOrigins: []string{"*"}, AllowCredentials: true}})
	ts := newPlainServer(b, srv)
	b.Cleanup(func() { _ = srv.Close(b.Context()) })
	c := dialRaw(b, ts.Listener.Addr().String())
	get := "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\nAccept-Encoding: gzip\r\n\r\n"
	body := c.do([]byte(get), nil)
	sid := openRe.FindStringSubmatch(string(body))[1]
	const msg = `42["chat message","hello there"]`
	get = "GET /engine.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\nAccept-Encoding: gzip\r\n\r\n"
	post := "POST /engine.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\nContent-Length: " +
		strconv.Itoa(len(msg)) + "\r\nContent-Type: text/plain;charset=UTF-8\r\nAccept-Encoding: gzip\r\n\r\n" + msg
	getReq, postReq := []byte(get), []byte(post)
	b.ReportAllocs()
	for b.Loop() {
		if body = c.do(postReq, body); string(body) != "ok" {
			b.Fatalf("POST got %q", body)
		}
		if body = c.do(getReq, body); string(body) != msg {
			b.Fatalf("GET got %q", body)
		}
	}
}
