package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/client"
	"github.com/seed9706/socketio/internal/faultproxy"
	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/socketio"
)

// feedServer is a server with recovery on whose sockets join rooms with the
// "join" event (acknowledged); Feed broadcasts "n" 1..total to a room.
func feedServer(t *testing.T) (*socketio.Server, *httptest.Server) {
	srv := socketio.NewServer(&socketio.ServerOptions{
		ConnectionStateRecovery: &socketio.ConnectionStateRecovery{},
		PingInterval:            300 * time.Millisecond,
		PingTimeout:             400 * time.Millisecond,
	})
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(e *socketio.Event) {
			var room string
			_ = e.Args(&room)
			s.Join(room)
			_ = e.Ack()
		})
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	return srv, hs
}

// feed broadcasts "n" 1..total to room, one every interval, until the test
// ends; the returned function waits for it.
func feed(t *testing.T, srv *socketio.Server, room string, total int, interval time.Duration) {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= total; i++ {
			_ = srv.To(room).Emit("n", i)
			select {
			case <-stop:
				return
			case <-time.After(interval):
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// checkSequence fails unless got is exactly 1..total.
func checkSequence(t *testing.T, got []int, total int) {
	t.Helper()
	if len(got) != total {
		t.Fatalf("got %d events, want %d: %v", len(got), total, got)
	}
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("event %d is %d (duplicate or gap): %v", i, n, got)
		}
	}
}

// The official client drops its connection while the server keeps
// broadcasting to its room, reconnects by itself and is recovered: same id,
// every event exactly once and in order.
func TestRecoveryOfficialClient(t *testing.T) {
	for _, tc := range []struct {
		name, transport string
		fault           func(*faultproxy.Proxy)
	}{
		{"websocket/cut", "websocket", (*faultproxy.Proxy).Cut},
		{"websocket/blackhole", "websocket", (*faultproxy.Proxy).Blackhole},
		// A polling client may have no request in flight at the instant
		// of a cut: cutPolling cuts until it notices. (No blackhole over
		// polling: Node's HTTP agent would reuse its silenced keep-alive
		// sockets and wait for its 20 s connect timeout.)
		{"polling/cut", "polling", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, hs := feedServer(t)
			proxy := faultproxy.Start(t, hs.Listener.Addr().String())
			transports, _ := json.Marshal([]string{tc.transport})
			p := interop.Start(t, "testdata/interop/recovery.mjs", proxy.URL(), string(transports))
			t.Cleanup(func() { _ = p.Send(map[string]any{"op": "exit"}) })

			var first struct {
				ID        string `json:"id"`
				Recovered bool   `json:"recovered"`
			}
			if err := p.Expect(t, "connect").Decode(&first); err != nil || first.Recovered {
				t.Fatalf("first connect %+v %v", first, err)
			}
			_ = p.Send(map[string]any{"op": "join", "room": "feed"})
			p.Expect(t, "joined")
			const total = 300
			feed(t, srv, "feed", total, 4*time.Millisecond)

			var got []int
			faulted, reconnected := false, false
			stopCutting := make(chan struct{})
			var cutter sync.WaitGroup
			defer func() {
				select {
				case <-stopCutting:
				default:
					close(stopCutting)
				}
				cutter.Wait()
			}()
			fault := tc.fault
			if fault == nil {
				fault = func(proxy *faultproxy.Proxy) {
					cutter.Add(1)
					go func() {
						defer cutter.Done()
						for {
							proxy.Cut()
							select {
							case <-stopCutting:
								return
							case <-time.After(100 * time.Millisecond):
							}
						}
					}()
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// Missed events come before the CONNECT reply, and the client
			// delivers them before its "connect" event.
			for len(got) < total || !reconnected {
				line, err := p.Next(ctx)
				if err != nil {
					t.Fatalf("after %d events: %v", len(got), err)
				}
				var l struct {
					Event     string `json:"event"`
					N         int    `json:"n"`
					Offset    string `json:"offset"`
					ID        string `json:"id"`
					Recovered bool   `json:"recovered"`
					Reason    string `json:"reason"`
				}
				if err := line.Decode(&l); err != nil {
					t.Fatal(err)
				}
				switch l.Event {
				case "n":
					got = append(got, l.N)
					if l.Offset == "" {
						t.Fatalf("event %d without an offset", l.N)
					}
					if len(got) == 30 {
						fault(proxy)
						faulted = true
					}
				case "disconnect":
					if tc.fault == nil {
						close(stopCutting)
					}
					t.Logf("client disconnected after %d events: %s", len(got), l.Reason)
				case "connect":
					if !faulted || l.ID != first.ID || !l.Recovered {
						t.Fatalf("reconnected as %+v, want recovered %s", l, first.ID)
					}
					reconnected = true
				default:
					t.Fatalf("unexpected line %s", line)
				}
			}
			checkSequence(t, got, total)
		})
	}
}

// Past MaxDisconnectionDuration the official client gets a new session:
// a new id and recovered false.
func TestRecoveryOfficialClientExpired(t *testing.T) {
	srv := socketio.NewServer(&socketio.ServerOptions{
		ConnectionStateRecovery: &socketio.ConnectionStateRecovery{MaxDisconnectionDuration: time.Millisecond},
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	proxy := faultproxy.Start(t, hs.Listener.Addr().String())
	p := interop.Start(t, "testdata/interop/recovery.mjs", proxy.URL(), `["websocket"]`)
	t.Cleanup(func() { _ = p.Send(map[string]any{"op": "exit"}) })
	type connect struct {
		ID        string `json:"id"`
		Recovered bool   `json:"recovered"`
	}
	var first, second connect
	_ = p.Expect(t, "connect").Decode(&first)
	_ = srv.Emit("n", 1)
	p.Expect(t, "n")
	proxy.Cut()
	p.Expect(t, "disconnect")
	if err := p.Expect(t, "connect").Decode(&second); err != nil || second.Recovered || second.ID == first.ID {
		t.Fatalf("after expiry: %+v (first %+v) %v", second, first, err)
	}
}

// The same with our Go client: a drop while the server broadcasts, an
// automatic reconnection, the same id, every event once and in order.
func TestRecoveryGoClient(t *testing.T) {
	for _, tc := range []struct {
		name, transport string
		fault           func(*faultproxy.Proxy)
	}{
		{"websocket/cut", "websocket", (*faultproxy.Proxy).Cut},
		{"websocket/blackhole", "websocket", (*faultproxy.Proxy).Blackhole},
		{"polling/blackhole", "polling", (*faultproxy.Proxy).Blackhole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, hs := feedServer(t)
			proxy := faultproxy.Start(t, hs.Listener.Addr().String())
			const total = 300
			var (
				mu        sync.Mutex
				got       []int
				connects  []string
				recovered []bool
			)
			opts := &client.Options{ManagerOptions: client.ManagerOptions{
				Transports:           []string{tc.transport},
				ReconnectionDelay:    100 * time.Millisecond,
				ReconnectionDelayMax: 200 * time.Millisecond,
			}}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			m, err := client.NewManager(proxy.URL(), &opts.ManagerOptions)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			s := m.Socket("/", nil)
			s.OnConnect(func() {
				mu.Lock()
				connects = append(connects, s.ID())
				recovered = append(recovered, s.Recovered())
				mu.Unlock()
			})
			s.On("n", func(e *client.Event) {
				var n int
				var offset string
				if err := e.Args(&n, &offset); err != nil || offset == "" {
					t.Errorf("event %s: %v", e.Raw(), err)
				}
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			})
			if err := s.ConnectWait(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.EmitWithAck(ctx, "join", "feed"); err != nil {
				t.Fatal(err)
			}
			feed(t, srv, "feed", total, 4*time.Millisecond)
			waitUntil(t, ctx, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 30 })
			tc.fault(proxy)
			waitUntil(t, ctx, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) >= total && len(connects) >= 2
			})
			mu.Lock()
			defer mu.Unlock()
			if len(connects) != 2 || connects[1] != connects[0] || recovered[0] || !recovered[1] {
				t.Fatalf("connections %v, recovered %v", connects, recovered)
			}
			if err := s.RecoveryError(); err != nil {
				t.Fatalf("RecoveryError after a recovery: %v", err)
			}
			checkSequence(t, got, total)
		})
	}
}

func waitUntil(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("timed out")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Past MaxDisconnectionDuration our client reconnects with a new id, and
// RecoveryError tells the application to resynchronise.
func TestRecoveryGoClientReportsFailure(t *testing.T) {
	srv := socketio.NewServer(&socketio.ServerOptions{
		ConnectionStateRecovery: &socketio.ConnectionStateRecovery{MaxDisconnectionDuration: time.Millisecond},
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	proxy := faultproxy.Start(t, hs.Listener.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := client.NewManager(proxy.URL(), &client.ManagerOptions{
		Transports:        []string{"websocket"},
		ReconnectionDelay: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.Socket("/", nil)
	connected := make(chan struct{}, 2)
	s.OnConnect(func() { connected <- struct{}{} })
	if err := s.ConnectWait(ctx); err != nil {
		t.Fatal(err)
	}
	<-connected
	first := s.ID()
	if s.Recovered() || s.RecoveryError() != nil {
		t.Fatalf("first connection: recovered %v, %v", s.Recovered(), s.RecoveryError())
	}
	proxy.Cut()
	select {
	case <-connected:
	case <-ctx.Done():
		t.Fatal("no reconnection")
	}
	if s.Recovered() || s.ID() == first || !errors.Is(s.RecoveryError(), client.ErrNotRecovered) {
		t.Fatalf("after expiry: id %s (was %s), recovered %v, %v", s.ID(), first, s.Recovered(), s.RecoveryError())
	}
}

// Missed events that do not fit in the client's MaxBufferedPackets are not
// silently lost: the client reports that it was not recovered.
func TestRecoveryGoClientBufferTooSmall(t *testing.T) {
	srv, hs := feedServer(t)
	proxy := faultproxy.Start(t, hs.Listener.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := client.NewManager(proxy.URL(), &client.ManagerOptions{
		Transports:          []string{"websocket"},
		ReconnectionDelay:   500 * time.Millisecond,
		RandomizationFactor: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.Socket("/", &client.SocketOptions{MaxBufferedPackets: 5})
	var mu sync.Mutex
	var got []int
	s.On("n", func(e *client.Event) {
		var n int
		_ = e.Args(&n)
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
	})
	connected := make(chan struct{}, 2)
	s.OnConnect(func() { connected <- struct{}{} })
	if err := s.ConnectWait(ctx); err != nil {
		t.Fatal(err)
	}
	<-connected
	_, _ = s.EmitWithAck(ctx, "join", "feed")
	_ = srv.To("feed").Emit("n", 1)
	waitUntil(t, ctx, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	proxy.Cut()
	for n := 2; n <= 21; n++ {
		_ = srv.To("feed").Emit("n", n)
	}
	select {
	case <-connected:
	case <-ctx.Done():
		t.Fatal("no reconnection")
	}
	if s.Recovered() || !errors.Is(s.RecoveryError(), client.ErrNotRecovered) {
		t.Fatalf("recovered %v, %v", s.Recovered(), s.RecoveryError())
	}
	t.Log(s.RecoveryError())
	waitUntil(t, ctx, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 6 })
}

// The official client has no offset before its first event, so the official
// server cannot recover it; this one can (from where the session started).
func TestRecoveryOfficialClientBeforeFirstEvent(t *testing.T) {
	srv, hs := feedServer(t)
	proxy := faultproxy.Start(t, hs.Listener.Addr().String())
	p := interop.Start(t, "testdata/interop/recovery.mjs", proxy.URL(), `["websocket"]`)
	t.Cleanup(func() { _ = p.Send(map[string]any{"op": "exit"}) })
	var first, second struct {
		ID        string `json:"id"`
		Recovered bool   `json:"recovered"`
	}
	_ = p.Expect(t, "connect").Decode(&first)
	_ = p.Send(map[string]any{"op": "join", "room": "feed"})
	p.Expect(t, "joined") // an acknowledgement, not an event: still no offset
	proxy.Cut()
	p.Expect(t, "disconnect")
	for n := 1; n <= 5; n++ {
		_ = srv.To("feed").Emit("n", n)
	}
	var got []int
	for len(got) < 5 {
		var l struct {
			N int `json:"n"`
		}
		_ = p.Expect(t, "n").Decode(&l)
		got = append(got, l.N)
	}
	if err := p.Expect(t, "connect").Decode(&second); err != nil || second.ID != first.ID || !second.Recovered {
		t.Fatalf("reconnected as %+v, want recovered %s", second, first.ID)
	}
	checkSequence(t, got, 5)
}
