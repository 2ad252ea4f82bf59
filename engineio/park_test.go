package engineio

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// readLoops counts the goroutines running a WebSocket read loop.
func readLoops() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Count(buf, []byte("engineio.(*wsConn).serve("))
}

func waitReadLoops(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for readLoops() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d read loops running, want %d", readLoops(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Idle WebSocket sessions own no goroutine on Linux, and parked ones still
// read, write, notice their client leaving and close on server shutdown.
// Not parallel: it counts every read loop of the process.
func TestWebSocketParkedSessions(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("read loops park on Linux only")
	}
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, generousOpts())
	const n = 20
	clients := make([]*wsClient, n)
	for i := range clients {
		clients[i] = dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
		clients[i].expectOpen()
	}
	waitReadLoops(t, 0)

	for i, c := range clients { // a frame wakes a parked read loop
		msg := "4hello " + strings.Repeat("x", i*100) // up to several read-buffer sizes
		c.sendText(msg)
		c.expectText(msg)
	}
	waitReadLoops(t, 0)

	h.mu.Lock()
	sessions := append([]*Session(nil), h.opened...)
	h.mu.Unlock()
	for _, s := range sessions { // writing needs no read loop
		if err := s.Send(Message{Data: []byte("from server")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range clients {
		c.expectText("4from server")
	}

	for _, c := range clients[:n/2] { // the poller sees a client leave
		c.conn.Close()
	}
	for range n / 2 {
		if r := h.waitClose(t); r != ReasonTransportClose {
			t.Fatalf("close reason %q, want %q", r, ReasonTransportClose)
		}
	}

	waitReadLoops(t, 0)
	if err := srv.Close(t.Context()); err != nil { // wakes parked loops to close
		t.Fatal(err)
	}
	for _, c := range clients[n/2:] {
		if code := c.expectClose(); code != ws.StatusNoStatusRcvd {
			t.Fatalf("close code %d", code)
		}
	}
	thePollerStopped(t)
}

// A pong parks the read loop at once (the next frame is likely a
// pingInterval away); other frames keep it waiting parkAfter.
func TestWebSocketParksRightAfterPong(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("read loops park on Linux only")
	}
	h := newEchoHandler()
	srv := NewServer(h, &ServerOptions{PingInterval: 50 * time.Millisecond, PingTimeout: 5 * time.Second})
	srv.parkAfter, srv.parkSoon = time.Hour, time.Hour
	ts := newPlainServer(t, srv)
	t.Cleanup(func() { _ = srv.Close(t.Context()) })
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	c.expectOpen()
	c.sendText("4hi")
	c.expectText("4hi")
	waitReadLoops(t, 1) // waiting parkAfter
	c.expectText("2")
	c.sendText("3")
	waitReadLoops(t, 0)
	c.expectText("2") // parked, it still reads the next pong
	c.sendText("3")
	c.sendText("4still here")
	c.expectText("4still here")
}

// A new connection parks after parkSoon; one woken less than parkAfter
// after it parked is chatty and keeps its read loop for parkAfter.
func TestWebSocketParksSoonUnlessChatty(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("read loops park on Linux only")
	}
	h := newEchoHandler()
	srv := NewServer(h, &ServerOptions{PingInterval: time.Hour, PingTimeout: time.Hour})
	srv.parkAfter, srv.parkSoon = time.Hour, 10*time.Millisecond
	ts := newPlainServer(t, srv)
	t.Cleanup(func() { _ = srv.Close(t.Context()) })
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	c.expectOpen()
	c.sendText("4first")
	c.expectText("4first")
	waitReadLoops(t, 0)  // new: parked after parkSoon, not parkAfter
	c.sendText("4again") // woken well within parkAfter: chatty
	c.expectText("4again")
	time.Sleep(100 * time.Millisecond) // ten times parkSoon
	if n := readLoops(); n != 1 {
		t.Fatalf("%d read loops, want the chatty connection's one", n)
	}
	c.sendText("4still")
	c.expectText("4still")
}
