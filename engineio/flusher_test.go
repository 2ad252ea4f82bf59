package engineio

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// quietOpts send no ping during a test.
func quietOpts() *ServerOptions {
	return &ServerOptions{PingInterval: time.Minute, PingTimeout: time.Minute}
}

// openSessions connects n WebSocket clients and returns them with their
// sessions, in the same order.
func openSessions(t *testing.T, srv *Server, h *echoHandler, base string, n int) ([]*wsClient, []*Session) {
	t.Helper()
	clients := make([]*wsClient, n)
	sessions := make([]*Session, n)
	for i := range clients {
		clients[i] = dialWS(t, wsURL(base, "EIO=4&transport=websocket"))
		sid := clients[i].expectOpen()
		h.mu.Lock()
		for _, s := range h.opened {
			if s.ID() == sid {
				sessions[i] = s
			}
		}
		h.mu.Unlock()
		if sessions[i] == nil {
			t.Fatalf("no session %s", sid)
		}
		waitWriterIdle(t, sessions[i]) // a writer still running would write what a test queues next
	}
	return clients, sessions
}

func waitWriterIdle(t *testing.T, s *Session) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		idle := !s.writing && len(s.queue) == 0
		s.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the open packet's writer never finished")
		}
		time.Sleep(time.Millisecond)
	}
}

// expectNothing checks that the client receives nothing for a while.
func (c *wsClient) expectNothing(d time.Duration) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	b, err := c.br.Peek(1)
	if err == nil {
		b, _ = c.br.Peek(c.br.Buffered())
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		c.t.Fatalf("received %q (err %v), want nothing yet", b, err)
	}
}

func TestSendLaterWaitsForUncork(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, quietOpts())
	srv.corkLimit, srv.corkStep = time.Hour, time.Hour
	clients, sessions := openSessions(t, srv, h, ts.URL, 2)

	srv.Cork()
	srv.Cork() // corks nest
	for _, s := range sessions {
		for _, m := range []string{"a", "b"} {
			if err := s.SendLater(Message{Data: []byte(m)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	clients[0].expectNothing(100 * time.Millisecond)
	srv.Uncork()
	clients[1].expectNothing(50 * time.Millisecond)

	// A direct Send writes at once, after what is queued before it.
	if err := sessions[0].Send(Message{Data: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"4a", "4b", "4c"} {
		clients[0].expectText(m)
	}
	srv.Uncork()
	clients[1].expectText("4a")
	clients[1].expectText("4b")
}

// A cork held while nothing more is queued (a handler waiting on
// something) delays the write by one corkStep, not up to corkLimit.
func TestSendLaterCorkStep(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, quietOpts())
	srv.corkLimit, srv.corkStep = time.Hour, 10*time.Millisecond
	clients, sessions := openSessions(t, srv, h, ts.URL, 1)
	srv.Cork()
	defer srv.Uncork()
	if err := sessions[0].SendLater(Message{Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	clients[0].expectText("4x")
}

func TestSendLaterCorkLimit(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, quietOpts())
	srv.corkLimit, srv.corkStep = 20*time.Millisecond, time.Hour
	clients, sessions := openSessions(t, srv, h, ts.URL, 1)
	srv.Cork() // never uncorked until the end: the limit lets the write go
	defer srv.Uncork()
	if err := sessions[0].SendLater(Message{Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	clients[0].expectText("4x")
}

// The cork limit grows with the number of sessions listed.
func TestSendLaterCorkLimitPerSession(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, quietOpts())
	srv.corkLimit, srv.corkStep, srv.corkPerList = 20*time.Millisecond, time.Hour, 50*time.Millisecond
	clients, sessions := openSessions(t, srv, h, ts.URL, 2)
	srv.Cork() // never uncorked until the end: the limit lets the write go
	defer srv.Uncork()
	start := time.Now()
	for _, s := range sessions {
		if err := s.SendLater(Message{Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	clients[0].expectText("4x")
	clients[1].expectText("4x")
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("written after %v, want the limit of two sessions, 100ms", d)
	}
}

func TestSendLaterQueueBoundAndClose(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	opts := quietOpts()
	opts.MaxQueuePackets = 2
	srv, ts := newTestServer(t, h, opts)
	srv.corkLimit, srv.corkStep = time.Hour, time.Hour
	_, sessions := openSessions(t, srv, h, ts.URL, 1)
	s := sessions[0]
	srv.Cork()
	for i := range 2 {
		if err := s.SendLater(Message{Data: []byte{'0' + byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SendLater(Message{Data: []byte("over")}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third SendLater: %v, want ErrQueueFull", err)
	}
	s.Abort(ReasonForcedClose) // listed and closed: the flusher finds nothing to write
	srv.Uncork()
	if r := h.waitClose(t); r != ReasonForcedClose {
		t.Fatalf("close reason %q", r)
	}
	if err := s.SendLater(Message{Data: []byte("late")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("SendLater after close: %v, want ErrClosed", err)
	}
}

// Over polling, SendLater answers the held GET like Send.
func TestSendLaterPolling(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, quietOpts())
	srv.corkLimit = time.Hour
	sid := handshake(t, ts.URL)
	h.mu.Lock()
	s := h.opened[0]
	h.mu.Unlock()
	srv.Cork() // the flusher is for WebSockets only
	defer srv.Uncork()
	if err := s.SendLater(Message{Data: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.body != "4hi" {
		t.Fatalf("GET %q, want 4hi", r.body)
	}
}

// Broadcasters racing each other, direct sends and corks: every client gets
// every message, each sender's in order.
func TestSendLaterConcurrentBroadcasts(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, quietOpts())
	srv.corkLimit = time.Millisecond
	const clientsN, senders, each = 8, 3, 300
	clients, sessions := openSessions(t, srv, h, ts.URL, clientsN)
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				if i%50 == 0 {
					srv.Cork()
				}
				for k, s := range sessions {
					m := Message{Data: fmt.Appendf(nil, "%d:%d", g, i)}
					send := s.SendLater
					if (i+k)%7 == 0 {
						send = s.Send
					}
					if err := send(m); err != nil {
						t.Error(err)
						return
					}
				}
				if i%50 == 49 {
					srv.Uncork()
				}
			}
		})
	}
	for _, c := range clients {
		next := make([]int, senders)
		for range senders * each {
			f, err := c.next()
			if err != nil {
				t.Fatal(err)
			}
			var g, i int
			if _, err := fmt.Sscanf(string(f.Payload), "4%d:%d", &g, &i); err != nil || g >= senders || i != next[g] {
				t.Fatalf("got %q, want 4%d:%d", f.Payload, g, next[min(g, senders-1)])
			}
			next[g]++
		}
	}
	wg.Wait()
}

// A corked session with flushNowPackets queued is written without waiting
// for the Uncork: a handler looping over broadcasts does not fill the queue
// up to its bound.
func TestSendLaterLongQueueWritesAtOnce(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, quietOpts())
	srv.corkLimit, srv.corkStep = time.Hour, time.Hour
	clients, sessions := openSessions(t, srv, h, ts.URL, 1)
	srv.Cork()
	defer srv.Uncork()
	for i := range flushNowPackets {
		if err := sessions[0].SendLater(Message{Data: fmt.Appendf(nil, "%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range flushNowPackets {
		clients[0].expectText(fmt.Sprintf("4%d", i))
	}
}
