package socketio

import (
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/rawclient"
)

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A client that reads nothing cannot make the server hold more than its
// queue bound: past it, it is disconnected, and broadcasts go on for others.
func TestSlowClientIsDisconnectedAndMemoryStaysBounded(t *testing.T) {
	srv, hs := newTestServer(t, &ServerOptions{MaxQueuePackets: 64, MaxQueueBytes: 256 << 10})
	sockets := make(chan *Socket, 2)
	reasons := make(chan string, 2)
	srv.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(r string) { reasons <- r })
		sockets <- s
	})
	slow := rawclient.Polling(t, hs.URL, "/socket.io/")
	slow.Connect("/", "")
	<-sockets
	fast := rawclient.Polling(t, hs.URL, "/socket.io/")
	fast.Connect("/", "")
	fastSock := <-sockets

	before := heapInUse()
	payload := strings.Repeat("x", 10<<10)
	const n = 5000 // 50 MB if it were all kept
	for i := range n {
		// Each emit encodes a fresh 10 KB packet.
		if err := srv.Except(fastSock.ID()).Emit("big", i, payload); err != nil {
			t.Fatal(err)
		}
	}
	after := heapInUse()
	if after > before && after-before > 8<<20 {
		t.Fatalf("heap grew by %d MB while sending to a client that reads nothing", (after-before)>>20)
	}

	// Other clients are still served.
	_ = srv.Emit("after")
	fast.Expect(`42["after"]`)

	// The slow client was dropped at once, not after an orderly close that
	// would wait for it to drain a full queue: its disconnect handlers ran
	// and its session is gone.
	select {
	case r := <-reasons:
		if r != ReasonForcedServerClose {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the slow client's socket was not disconnected")
	}
	resp, err := http.Get(hs.URL + "/socket.io/?EIO=4&transport=polling&sid=" + slow.SID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || string(body) != `{"code":1,"message":"Session ID unknown"}` {
		t.Fatalf("slow client's next poll: %d %s", resp.StatusCode, body)
	}
}

// Volatile packets that a client cannot take now are dropped, and the
// client stays connected.
func TestVolatilePacketsAreDroppedNotFatal(t *testing.T) {
	srv, hs := newTestServer(t, &ServerOptions{MaxQueuePackets: 8})
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	s := <-sockets
	for i := range 100 {
		_ = srv.Volatile().Emit("v", i)
		_ = s.Volatile().Emit("v", i)
	}
	if !s.Connected() {
		t.Fatal("volatile overflow disconnected the client")
	}
	// No GET was waiting, so every volatile packet was dropped.
	_ = s.Emit("marker")
	c.Expect(`42["marker"]`)
}

// The same over WebSocket: a client that stops reading fills its TCP
// buffers, then its queue, and costs no more than that.
func TestSlowWebSocketClientMemoryStaysBounded(t *testing.T) {
	srv, hs := newTestServer(t, &ServerOptions{MaxQueuePackets: 64, MaxQueueBytes: 256 << 10})
	sockets := make(chan *Socket, 2)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	slow := rawclient.WebSocket(t, hs.URL, "/socket.io/")
	slow.Connect("/", "") // and never reads again
	<-sockets
	fast := rawclient.Polling(t, hs.URL, "/socket.io/")
	fast.Connect("/", "")
	fastSock := <-sockets

	before := heapInUse()
	payload := strings.Repeat("y", 10<<10)
	for i := range 5000 { // 50 MB if it were all kept
		if err := srv.Except(fastSock.ID()).Emit("big", i, payload); err != nil {
			t.Fatal(err)
		}
	}
	after := heapInUse()
	if after > before && after-before > 8<<20 {
		t.Fatalf("heap grew by %d MB while sending to a client that reads nothing", (after-before)>>20)
	}
	_ = srv.Emit("after")
	fast.Expect(`42["after"]`)
}
