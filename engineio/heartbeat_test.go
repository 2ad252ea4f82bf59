package engineio

import (
	"testing"
	"time"
)

func TestHeartbeatPollingTimeout(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, testOpts())
	sid := handshake(t, ts.URL)
	start := time.Now() // like the suite: measured once the handshake arrived
	// well before pingInterval+pingTimeout the session is open (skipped
	// when the machine is so loaded that "well before" has passed)
	if time.Since(start) < 200*time.Millisecond {
		if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.body != "2" && time.Since(start) < 450*time.Millisecond {
			t.Fatalf("GET %d %q, want the ping", r.status, r.body)
		}
	}
	// the official suite: exactly 500 ms after the handshake the sid is unknown
	time.Sleep(time.Until(start.Add(500 * time.Millisecond)))
	expectUnknown(t, ts.URL, sid)
	if reason := h.waitClose(t); reason != ReasonPingTimeout {
		t.Fatalf("reason %q", reason)
	}
}

// generousOpts ping often but tolerate a loaded machine.
func generousOpts() *ServerOptions {
	return &ServerOptions{PingInterval: 300 * time.Millisecond, PingTimeout: 2 * time.Second}
}

func TestHeartbeatPollingPong(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, generousOpts())
	sid := handshake(t, ts.URL)
	for i := 0; i < 3; i++ {
		r := do(t, "GET", pollURL(ts.URL, sid), "")
		if r.status != 200 || r.body != "2" {
			t.Fatalf("ping %d: %d %q", i, r.status, r.body)
		}
		if r := do(t, "POST", pollURL(ts.URL, sid), "3"); r.status != 200 {
			t.Fatalf("pong %d: %d", i, r.status)
		}
	}
	select {
	case r := <-h.closed:
		t.Fatalf("closed: %s", r)
	default:
	}
}

func TestHeartbeatMessagesDoNotCount(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, testOpts())
	sid := handshake(t, ts.URL)
	for i := 0; i < 3; i++ {
		do(t, "POST", pollURL(ts.URL, sid), "4x")
		time.Sleep(100 * time.Millisecond)
	}
	if reason := h.waitClose(t); reason != ReasonPingTimeout {
		t.Fatalf("reason %q", reason)
	}
}

func TestHeartbeatWebSocket(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, generousOpts())
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	c.expectOpen()
	c.expectText("2")
	c.sendText("3")
	c.expectText("2")
	// no pong: the server closes the WebSocket (close frame, no status)
	if code := c.expectClose(); code != 1005 {
		t.Fatalf("close code %d", code)
	}
	if reason := h.waitClose(t); reason != ReasonPingTimeout {
		t.Fatalf("reason %q", reason)
	}
}

// A ping timer that fires late (a stalled process) still leaves the client
// half a pingTimeout to answer, while an on-time ping keeps the exact
// pingInterval+pingTimeout deadline.
func TestHeartbeatLatePingKeepsHalfTimeout(t *testing.T) {
	t.Parallel()
	srv, ts := newTestServer(t, newEchoHandler(), &ServerOptions{PingInterval: time.Hour, PingTimeout: time.Hour})
	sid := handshake(t, ts.URL)
	s := srv.lookup(sid)

	s.mu.Lock()
	opened := time.Now()
	s.schedulePingLocked(opened) // due at +1h, expires at +2h
	s.queuePingLocked(opened.Add(time.Hour))
	onTime := s.pongBy
	s.schedulePingLocked(opened)
	s.queuePingLocked(opened.Add(time.Hour + 50*time.Minute)) // 50 minutes late
	late := s.pongBy
	s.mu.Unlock()

	base := opened.Sub(monoBase)
	if got := onTime - base; got != 2*time.Hour {
		t.Fatalf("on-time ping: expires at +%v, want +2h", got)
	}
	if got := late - base; got != 2*time.Hour+20*time.Minute {
		t.Fatalf("late ping: expires at +%v, want +2h20m (queued +1h50m, plus half the timeout)", got)
	}
	if s.expire(opened.Add(2*time.Hour + 10*time.Minute)) {
		t.Fatal("expired before the late ping's half timeout")
	}
	if !s.expire(opened.Add(2*time.Hour + 20*time.Minute)) {
		t.Fatal("not expired at its deadline")
	}
	expectUnknown(t, ts.URL, sid)
}

// The session's one heartbeat timer may fire early or twice (a Reset racing
// its callback): the callback then only re-arms it; a ping is queued once
// due, and the session expires once the pong is overdue.
func TestHeartbeatStaleFiring(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, &ServerOptions{PingInterval: time.Hour, PingTimeout: time.Hour})
	sid := handshake(t, ts.URL)
	s := srv.lookup(sid)
	pings := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := 0
		for _, p := range s.queue {
			if p.Type == PacketPing {
				n++
			}
		}
		return n
	}
	s.onHeartbeat() // an hour early
	s.onHeartbeat()
	if n := pings(); n != 0 {
		t.Fatalf("%d pings queued before the ping is due", n)
	}
	s.mu.Lock()
	s.pongBy = time.Since(monoBase) + time.Hour - time.Millisecond // the ping is now due
	s.mu.Unlock()
	s.onHeartbeat()
	s.onHeartbeat() // stale: the pong is not overdue
	s.mu.Lock()
	sent, pongBy := s.pingSent, s.pongBy
	s.mu.Unlock()
	if n, in := pings(), pongBy-time.Since(monoBase); n != 1 || !sent || in < 29*time.Minute {
		t.Fatalf("%d pings queued, sent %v, pong due in %v (want at least half the timeout)", n, sent, in)
	}
	s.mu.Lock()
	s.pongBy = time.Since(monoBase) - time.Millisecond // the pong is overdue
	s.mu.Unlock()
	s.onHeartbeat()
	if reason := h.waitClose(t); reason != ReasonPingTimeout {
		t.Fatalf("reason %q", reason)
	}
	expectUnknown(t, ts.URL, sid)
	s.onHeartbeat() // after the close: nothing
}
