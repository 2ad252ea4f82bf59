package engineio

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"

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

// BenchmarkIdleWebSocketSessions reports the server-side heap and goroutines
// per idle WebSocket session (clients are bare connections in the same process).
func BenchmarkIdleWebSocketSessions(b *testing.B) {
	const n = 1000
	for b.Loop() {
		srv := NewServer(echoOnly{}, nil)
		ts := newPlainServer(b, srv)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		g0 := runtime.NumGoroutine()
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
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heapB/session")
		b.ReportMetric(float64(after.StackInuse-before.StackInuse)/n, "stackB/session")
		b.ReportMetric(float64(runtime.NumGoroutine()-g0)/n, "goroutines/session")
		for _, c := range conns {
			c.Close()
		}
		_ = srv.Close(b.Context())
	}
}
