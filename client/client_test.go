package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed9706/socketio/socketio"
)

// fastOpts ping often (with slack for a loaded machine).
func fastOpts() *socketio.ServerOptions {
	return &socketio.ServerOptions{PingInterval: 200 * time.Millisecond, PingTimeout: time.Second}
}

// quickReconnect reconnects fast, without jitter.
func quickReconnect(transports []string) ManagerOptions {
	return ManagerOptions{Transports: transports, ReconnectionDelay: 50 * time.Millisecond,
		ReconnectionDelayMax: 100 * time.Millisecond, RandomizationFactor: -1}
}

// echoSetup installs the test handlers on "/" and "/chat"; server-side
// observations go to seen.
func echoSetup(seen chan<- string) func(*socketio.Server) {
	return func(srv *socketio.Server) {
		for _, name := range []string{"/", "/chat"} {
			nsp := srv.Of(name)
			nsp.OnConnection(func(s *socketio.Socket) {
				s.On("echo", func(e *socketio.Event) { _ = s.Emit("echo", e.Values()...) })
				s.On("ack", func(e *socketio.Event) { _ = e.Ack(e.Values()...) })
				s.On("noack", func(e *socketio.Event) {})
				s.On("record", func(e *socketio.Event) { seen <- "record " + string(e.Raw()[0]) })
				s.On("auth", func(e *socketio.Event) { _ = e.Ack(s.Handshake().Auth) })
				s.On("kick", func(e *socketio.Event) { s.Disconnect(false) })
				s.On("ask", func(e *socketio.Event) {
					go func() {
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						defer cancel()
						r, err := s.EmitWithAck(ctx, "question", "why?", []byte{0xca, 0xfe})
						if err != nil {
							seen <- "ask error " + err.Error()
							return
						}
						var text string
						var bin []byte
						_ = r.Args(&text, &bin)
						seen <- fmt.Sprintf("answer %s %x", text, bin)
					}()
				})
				s.OnDisconnect(func(reason string) { seen <- "server disconnect " + reason })
			})
		}
	}
}

func expectSeen(t *testing.T, seen <-chan string, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-seen:
			if got == want {
				return
			}
			if !strings.HasPrefix(got, "server disconnect") { // incidental
				t.Fatalf("server saw %q, want %q", got, want)
			}
		case <-deadline:
			t.Fatalf("server did not see %q", want)
		}
	}
}

func TestEmitAckBinary(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(chan string, 100)
			ts := startServer(t, fastOpts(), echoSetup(seen))
			s := connect(t, ts.URL()+"/chat", &Options{ManagerOptions: ManagerOptions{Transports: tc.transports}})
			if s.ID() == "" || !s.Connected() || s.Namespace() != "/chat" {
				t.Fatalf("id %q connected %v nsp %q", s.ID(), s.Connected(), s.Namespace())
			}
			ev := newEvents()
			s.OnAny(func(e *Event) { ev.add("any " + e.Name()) })
			s.OnAnyOutgoing(func(e *Event) {
				if e.Name() == "echo" {
					ev.add(fmt.Sprintf("out echo %d", e.Len()))
				}
			})
			onEchoAndQuestion(s, ev)

			if err := s.Emit("echo", "héllo", []byte{1, 2, 3}, map[string]int{"n": 7}); err != nil {
				t.Fatal(err)
			}
			ev.expect(t, "out echo 3")
			ev.expect(t, "any echo")
			ev.expect(t, "echo héllo 010203 map[n:7]")

			expectAckEcho(t, s)

			if err := s.Emit("ask"); err != nil {
				t.Fatal(err)
			}
			expectSeen(t, seen, "answer because why? cafe 0102")

			waitFor(t, "transport "+tc.final, func() bool { return s.Manager().Transport() == tc.final })
			for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
				if err := s.Emit(name); !errors.Is(err, ErrReservedEvent) || !strings.Contains(err.Error(), `"`+name+`" is a reserved event name`) {
					t.Fatalf("Emit(%q) = %v", name, err)
				}
			}
		})
	}
}

// TestOnceAndOff: a once handler runs for one event; OffAny and
// OffAnyOutgoing remove the catch-all handlers; Volatile chains.
func TestOnceAndOff(t *testing.T) {
	ts := startServer(t, fastOpts(), echoSetup(make(chan string, 100)))
	s := connect(t, ts.URL(), nil)
	ev := newEvents()
	arg := func(e *Event) string { return string(e.Raw()[0]) }
	s.OnAny(func(e *Event) { ev.add("any " + arg(e)) })
	s.OnAnyOutgoing(func(e *Event) { ev.add("out " + arg(e)) })
	s.Once("echo", func(e *Event) { ev.add("once " + arg(e)) })
	s.On("echo", func(e *Event) { ev.add("on " + arg(e)) })

	if err := s.Emit("echo", 1); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"out 1", "any 1", "once 1", "on 1"} {
		ev.expect(t, want)
	}
	s.OffAny()
	s.OffAnyOutgoing()
	if err := s.Emit("echo", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Volatile().Volatile().Emit("echo", 3); err != nil {
		t.Fatal(err)
	}
	ev.expect(t, "on 2")
	ev.expect(t, "on 3")
}

// heldSocket returns an unconnected socket of a new Manager to a server
// whose middleware holds every connection until release is called (at the
// latest when the test ends).
func heldSocket(t *testing.T) (s *Socket, release func()) {
	t.Helper()
	held := make(chan struct{})
	ts := startServer(t, fastOpts(), func(srv *socketio.Server) {
		srv.Of("/").Use(func(*socketio.Socket) error { <-held; return nil })
	})
	release = sync.OnceFunc(func() { close(held) })
	t.Cleanup(release) // before the server stops: cleanups run last first
	m, err := NewManager(ts.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m.Socket("/", nil), release
}

// TestConcurrentConnectWait: every ConnectWait of a socket learns of the
// connection, not only the last one.
func TestConcurrentConnectWait(t *testing.T) {
	s, release := heldSocket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	results := make(chan error, 2)
	for range 2 {
		go func() { results <- s.ConnectWait(ctx) }()
	}
	waitFor(t, "both waiters", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.hooks) == 2 })
	release()
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
}

// TestHandlerWaitingForAckBehindFullQueue: a handler waits, without
// deadline, for an acknowledgement queued behind more events than
// MaxPendingEvents. Reading waits for the handler, so no ping is read: the
// heartbeat ends the connection, which fails the acknowledgement, and the
// socket reconnects instead of staying blocked for ever.
func TestHandlerWaitingForAckBehindFullQueue(t *testing.T) {
	for _, tc := range transportCases[:2] {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, fastOpts(), func(srv *socketio.Server) {
				srv.Of("/").OnConnection(func(s *socketio.Socket) {
					s.On("ack", func(e *socketio.Event) { _ = e.Ack(e.Values()...) })
					s.On("flood", func(*socketio.Event) {
						for i := range 10 {
							_ = s.Emit("flood", i)
						}
					})
				})
			})
			mo := quickReconnect(tc.transports)
			mo.MaxPendingEvents = 2
			s := connect(t, ts.URL(), &Options{ManagerOptions: mo})
			ev := newEvents()
			s.OnDisconnect(func(reason string) { ev.add("disconnect " + reason) })
			s.OnConnect(func() { ev.add("connect") })
			s.On("flood", func(e *Event) {
				var i int
				if _ = e.Args(&i); i != 0 {
					return
				}
				_, err := s.EmitWithAck(context.Background(), "ack")
				ev.add(fmt.Sprint("ack ", err))
			})
			if err := s.Emit("flood"); err != nil {
				t.Fatal(err)
			}
			// The disconnect handler runs after the events queued before it.
			ev.expect(t, "ack "+ErrDisconnected.Error())
			ev.expect(t, "disconnect "+ReasonPingTimeout)
			ev.expect(t, "connect")
		})
	}
}

// TestSignalKeepsOutcome: a waiter whose buffer is full of transient errors
// still gets the outcome.
func TestSignalKeepsOutcome(t *testing.T) {
	m, err := NewManager("http://127.0.0.1:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Socket("/", nil)
	hook := make(chan hookEvent, 2)
	s.hooks = append(s.hooks, hook)
	for range 3 {
		s.signal(hookEvent{err: errors.New("refused")})
	}
	s.signal(hookEvent{connected: true})
	<-hook
	if ev := <-hook; !ev.connected {
		t.Fatalf("last event %+v, want connected", ev)
	}
}

// TestConnectWaitEnds: Disconnect during ConnectWait, and a Manager already
// closed, end the wait at once with a clear error.
func TestConnectWaitEnds(t *testing.T) {
	s, _ := heldSocket(t)
	m := s.Manager()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- s.ConnectWait(ctx) }()
	waitFor(t, "the waiter", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.hooks) == 1 })
	s.Disconnect()
	if err := <-result; !errors.Is(err, ErrDisconnected) {
		t.Fatalf("ConnectWait after Disconnect: %v, want ErrDisconnected", err)
	}

	m.Close()
	ev := newEvents()
	s2 := m.Socket("/other", nil)
	s2.OnConnectError(func(err error) { ev.add("connect_error " + err.Error()) })
	if err := s2.ConnectWait(ctx); !errors.Is(err, ErrClosed) || ctx.Err() != nil {
		t.Fatalf("ConnectWait on a closed Manager: %v, want ErrClosed", err)
	}
	ev.expect(t, "connect_error client: manager closed")
	if s2.Active() {
		t.Fatal("active on a closed Manager")
	}
}

func TestConnectError(t *testing.T) {
	ts := startServer(t, nil, func(srv *socketio.Server) {
		srv.Of("/private").Use(func(s *socketio.Socket) error {
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 42}}
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Connect(ctx, ts.URL()+"/private", nil)
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Message != "not authorized" || string(ce.Data) != `{"code":42}` {
		t.Fatalf("err = %v", err)
	}
}

func TestConnectErrorEventAndNoRetry(t *testing.T) {
	ts := startServer(t, nil, func(srv *socketio.Server) {
		srv.Of("/private").Use(func(s *socketio.Socket) error { return errors.New("go away") })
	})
	m, err := NewManager(ts.URL(), &ManagerOptions{ReconnectionDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ev := newEvents()
	s := m.Socket("/private", nil)
	s.OnConnectError(func(err error) {
		var ce *ConnectError
		if errors.As(err, &ce) {
			ev.add("connect_error " + ce.Message + " " + string(ce.Data))
		}
	})
	s.Connect()
	ev.expect(t, "connect_error go away ")
	waitFor(t, "the connection to close", func() bool { return m.Transport() == "" && !s.Active() })
}

func TestConnectFailsWithoutServer(t *testing.T) {
	ts := startServer(t, nil, nil)
	url := ts.URL()
	ts.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Connect(ctx, url, &Options{ManagerOptions: ManagerOptions{DisableReconnection: true}})
	if err == nil {
		t.Fatal("connected to nothing")
	}
	opts := &Options{ManagerOptions: quickReconnect(nil)}
	opts.ReconnectionAttempts = 2
	_, err = Connect(ctx, url, opts)
	if !errors.Is(err, ErrReconnectFailed) {
		t.Fatalf("err = %v", err)
	}
	short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	if _, err = Connect(short, url, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestReconnectBufferAndAcks(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(chan string, 100)
			ts := startServer(t, fastOpts(), echoSetup(seen))
			var authCalls atomic.Int32
			opts := &Options{ManagerOptions: quickReconnect(tc.transports), SocketOptions: SocketOptions{
				AuthFunc: func() (any, error) { return map[string]any{"token": fmt.Sprint("t", authCalls.Add(1))}, nil },
			}}
			s := connect(t, ts.URL(), opts)
			m := s.Manager()
			ev := newEvents()
			m.OnReconnectAttempt(func(n int) { ev.add(fmt.Sprint("reconnect_attempt ", n)) })
			m.OnReconnect(func(n int) { ev.add(fmt.Sprint("reconnect ", n)) })
			m.OnClose(func(reason string) { ev.add("close") })
			s.OnDisconnect(func(reason string) { ev.add("disconnect " + reason) })
			s.OnConnect(func() { ev.add("connect") })

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r, err := s.EmitWithAck(ctx, "auth")
			if err != nil || string(r.Raw()[0]) != `{"token":"t1"}` {
				t.Fatalf("auth %v %v", r, err)
			}
			waitFor(t, "transport "+tc.final, func() bool { return m.Transport() == tc.final })

			pending := make(chan error, 1)
			go func() {
				_, err := s.EmitWithAck(ctx, "noack")
				pending <- err
			}()
			expectNoackSent := func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.acks) == 1 }
			waitFor(t, "the pending ack", expectNoackSent)
			time.Sleep(50 * time.Millisecond) // let it reach the server

			ts.stop()
			ev.expect(t, "close")
			wantReason := map[string]string{"polling": ReasonTransportError, "websocket": ReasonTransportClose}[tc.final]
			ev.expect(t, "disconnect "+wantReason)
			if err := <-pending; !errors.Is(err, ErrDisconnected) {
				t.Fatalf("pending ack: %v", err)
			}
			if s.Connected() || !s.Active() || s.ID() != "" {
				t.Fatalf("connected %v active %v id %q", s.Connected(), s.Active(), s.ID())
			}
			ev.expect(t, "reconnect_attempt 1")

			// Offline: buffered in order, volatile dropped, acks kept.
			for _, v := range []int{1, 2} {
				if err := s.Emit("record", v); err != nil {
					t.Fatal(err)
				}
				if err := s.Volatile().Emit("record", 99); err != nil {
					t.Fatal(err)
				}
			}
			buffered := make(chan error, 1)
			go func() {
				r, err := s.EmitWithAck(ctx, "ack", "later")
				if err == nil && string(r.Raw()[0]) != `"later"` {
					err = fmt.Errorf("ack %s", r.Raw()[0])
				}
				buffered <- err
			}()
			waitFor(t, "the buffered ack", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.sendBuffer) == 3 })

			ts.restart()
			ev.await(t, "connect")
			expectSeen(t, seen, "record 1")
			expectSeen(t, seen, "record 2")
			if err := <-buffered; err != nil {
				t.Fatal(err)
			}
			if err := s.Emit("record", 3); err != nil {
				t.Fatal(err)
			}
			expectSeen(t, seen, "record 3") // not 99: volatile emits were dropped
			r, err = s.EmitWithAck(ctx, "auth")
			if err != nil || string(r.Raw()[0]) != `{"token":"t2"}` {
				t.Fatalf("auth after reconnection %s %v", r.Raw(), err)
			}
			if s.Recovered() {
				t.Fatal("recovered without recovery on the server")
			}
		})
	}
}

func TestReconnectEventsAndFailure(t *testing.T) {
	ts := startServer(t, fastOpts(), nil)
	opts := &Options{ManagerOptions: quickReconnect(nil)}
	opts.ReconnectionAttempts = 2
	s := connect(t, ts.URL(), opts)
	m := s.Manager()
	ev := newEvents()
	m.OnReconnectAttempt(func(n int) { ev.add(fmt.Sprint("reconnect_attempt ", n)) })
	m.OnReconnectError(func(err error) { ev.add("reconnect_error") })
	m.OnReconnectFailed(func() { ev.add("reconnect_failed") })
	s.OnConnectError(func(err error) { ev.add("connect_error") })
	ts.stop()
	// The JS order: reconnect_failed comes before the last reconnect_error.
	for _, want := range []string{"reconnect_attempt 1", "connect_error", "reconnect_error", "reconnect_attempt 2", "connect_error", "reconnect_failed", "reconnect_error"} {
		ev.expect(t, want)
	}
}

func TestServerAndClientDisconnect(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(chan string, 100)
			ts := startServer(t, fastOpts(), echoSetup(seen))
			s := connect(t, ts.URL(), &Options{ManagerOptions: quickReconnect(tc.transports)})
			ev := newEvents()
			s.Manager().OnReconnectAttempt(func(int) { ev.add("reconnect_attempt") })
			s.OnDisconnect(func(reason string) { ev.add("disconnect " + reason) })
			if err := s.Emit("kick"); err != nil {
				t.Fatal(err)
			}
			ev.expect(t, "disconnect io server disconnect")
			if s.Active() || s.Connected() {
				t.Fatal("still active after a server disconnect")
			}
			waitFor(t, "the connection to close", func() bool { return s.Manager().Transport() == "" })
			expectSeen(t, seen, "server disconnect server namespace disconnect")

			// Connect again by hand, then leave.
			s.Connect()
			waitFor(t, "reconnection by hand", s.Connected)
			s.Disconnect()
			ev.expect(t, "disconnect io client disconnect")
			expectSeen(t, seen, "server disconnect client namespace disconnect")
			if s.Active() {
				t.Fatal("active after Disconnect")
			}
			select {
			case e := <-ev.ch:
				t.Fatalf("unexpected %q", e)
			case <-time.After(300 * time.Millisecond):
			}
		})
	}
}

// TestDisconnectFailsBufferedAcks: after Disconnect no reconnection comes,
// so an EmitWithAck buffered while offline fails instead of waiting for ever
// (plain emits stay buffered, as in JS).
func TestDisconnectFailsBufferedAcks(t *testing.T) {
	for _, retries := range []int{0, 2} {
		t.Run(fmt.Sprint("retries ", retries), func(t *testing.T) {
			ts := startServer(t, fastOpts(), echoSetup(make(chan string, 100)))
			opts := &Options{ManagerOptions: quickReconnect(nil), SocketOptions: SocketOptions{Retries: retries}}
			s := connect(t, ts.URL(), opts)
			ts.stop()
			waitFor(t, "the disconnection", func() bool { return !s.Connected() })

			failed := make(chan error, 2)
			for range 2 {
				go func() {
					_, err := s.EmitWithAck(context.Background(), "ack", 1)
					failed <- err
				}()
			}
			if err := s.Emit("record", 1); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the buffered emits", func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				return len(s.sendBuffer)+len(s.queue) == 3
			})
			s.Disconnect()
			for range 2 {
				select {
				case err := <-failed:
					if !errors.Is(err, ErrDisconnected) {
						t.Fatalf("err = %v, want ErrDisconnected", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("EmitWithAck still waits after Disconnect")
				}
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(s.acks) != 0 || len(s.sendBuffer)+len(s.queue) != 1 {
				t.Fatalf("acks %d, buffered %d, queued %d; want 0 and the plain emit", len(s.acks), len(s.sendBuffer), len(s.queue))
			}
		})
	}
}

func TestAckTimeout(t *testing.T) {
	ts := startServer(t, fastOpts(), echoSetup(make(chan string, 100)))
	s := connect(t, ts.URL(), &Options{SocketOptions: SocketOptions{AckTimeout: 100 * time.Millisecond}})
	if _, err := s.EmitWithAck(context.Background(), "noack"); !isTimeout(err) {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.EmitWithAck(ctx, "noack"); !isTimeout(err) {
		t.Fatalf("err = %v", err)
	}
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := s.EmitWithAck(canceled, "noack"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	s.mu.Lock()
	n := len(s.acks)
	s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d acks left", n)
	}
	// Still usable.
	if _, err := s.EmitWithAck(context.Background(), "ack", 1); err != nil {
		t.Fatal(err)
	}
}

func TestRetries(t *testing.T) {
	var mu sync.Mutex
	tries := map[string]int{}
	ts := startServer(t, fastOpts(), func(srv *socketio.Server) {
		srv.Of("/").OnConnection(func(s *socketio.Socket) {
			s.On("flaky", func(e *socketio.Event) {
				var id string
				_ = e.Args(&id)
				mu.Lock()
				tries[id]++
				n := tries[id]
				mu.Unlock()
				if n >= 3 { // the first two tries are "lost"
					_ = e.Ack("ok", n)
				}
			})
		})
	})
	s := connect(t, ts.URL(), &Options{SocketOptions: SocketOptions{Retries: 3, AckTimeout: 100 * time.Millisecond}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.EmitWithAck(ctx, "flaky", "a")
	if err != nil {
		t.Fatal(err)
	}
	var text string
	var n int
	if err := r.Args(&text, &n); err != nil || text != "ok" || n != 3 {
		t.Fatalf("reply %q %d %v", text, n, err)
	}
	// In order: b waits for a, c for b, and a plain Emit is retried too.
	if err := s.Emit("flaky", "b"); err != nil {
		t.Fatal(err)
	}
	if _, err = s.EmitWithAck(ctx, "flaky", "c"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := fmt.Sprint(tries)
	mu.Unlock()
	if got != "map[a:3 b:3 c:3]" {
		t.Fatalf("tries %s", got)
	}

	// Out of tries: 1 + Retries attempts, then the error.
	s2 := connect(t, ts.URL(), &Options{SocketOptions: SocketOptions{Retries: 1, AckTimeout: 50 * time.Millisecond}})
	if _, err := s2.EmitWithAck(ctx, "flaky", "d"); !isTimeout(err) {
		t.Fatalf("err = %v", err)
	}
	// The last try may reach the server after its ack timed out.
	waitFor(t, "2 tries of d", func() bool { mu.Lock(); defer mu.Unlock(); return tries["d"] == 2 })
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if tries["d"] != 2 {
		t.Fatalf("d tried %d times", tries["d"])
	}
}

func TestMultiplex(t *testing.T) {
	seen := make(chan string, 100)
	ts := startServer(t, fastOpts(), echoSetup(seen))
	m, err := NewManager(ts.URL(), &ManagerOptions{Transports: []string{"websocket"}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	root, chat := m.Socket("/", nil), m.Socket("/chat", nil)
	if m.Socket("chat", nil) == chat || m.Socket("/chat", nil) != chat {
		t.Fatal("Socket does not return the socket of the namespace")
	}
	var opens atomic.Int32
	m.OnOpen(func() { opens.Add(1) })
	root.Connect()
	chat.Connect()
	waitFor(t, "both sockets", func() bool { return root.Connected() && chat.Connected() })
	pings := make(chan struct{}, 10)
	m.OnPing(func() { pings <- struct{}{} })
	select {
	case <-pings:
	case <-time.After(10 * time.Second):
		t.Fatal("no ping event")
	}
	if opens.Load() != 1 {
		t.Fatalf("%d connections", opens.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range []*Socket{root, chat} {
		if r, err := s.EmitWithAck(ctx, "ack", s.Namespace()); err != nil || string(r.Raw()[0]) != `"`+s.Namespace()+`"` {
			t.Fatalf("%s: %v", s.Namespace(), err)
		}
	}
	root.Disconnect()
	if m.Transport() == "" || !chat.Connected() {
		t.Fatal("the connection closed with a socket left")
	}
	chat.Disconnect()
	waitFor(t, "the connection to close", func() bool { return m.Transport() == "" })
}

func TestBackoff(t *testing.T) {
	b := newBackoff(time.Second, 5*time.Second, 0.5)
	rs := []float64{0.05, 0.15, 0.45, 0.99, 0.0}
	i := 0
	b.rand = func() float64 { r := rs[i]; i++; return r }
	// floor(r*10) even: subtract floor(r*0.5*ms), odd: add it; then cap at max.
	want := []time.Duration{975 * time.Millisecond, 2150 * time.Millisecond, 3100 * time.Millisecond, 5000 * time.Millisecond, 5000 * time.Millisecond}
	for j, w := range want {
		if got := b.duration(); got != w {
			t.Fatalf("attempt %d: %v, want %v", j+1, got, w)
		}
	}
	if b.attempts != 5 {
		t.Fatalf("attempts %d", b.attempts)
	}
	// After a long outage the delay stays at max (no overflow to a zero
	// delay), with or without jitter.
	rs, i = []float64{0.25, 0.45}, 0
	for _, attempts := range []int{1100, 5000} {
		b.attempts = attempts
		if got := b.duration(); got != 5*time.Second {
			t.Fatalf("attempt %d: %v, want 5s", attempts+1, got)
		}
	}
	b.reset()
	b.jitter = 0
	if got := b.duration(); got != time.Second {
		t.Fatalf("after reset: %v", got)
	}
}

func TestConnectPayload(t *testing.T) {
	s := newSocket(nil, "/", nil)
	for _, tt := range []struct {
		pid, offset string
		auth        any
		want        string
	}{
		{"", "", nil, "<nil>"},
		{"p1", "", nil, `{"pid":"p1"}`},
		{"p1", "o1", map[string]any{"token": "x"}, `{"pid":"p1","offset":"o1","token":"x"}`},
		{"p1", "o1", map[string]any{}, `{"pid":"p1","offset":"o1"}`},
	} {
		s.pid, s.lastOffset = tt.pid, tt.offset
		got, err := s.connectPayloadLocked(tt.auth)
		if err != nil {
			t.Fatal(err)
		}
		var str string
		if raw, ok := got.(json.RawMessage); ok {
			str = string(raw)
		} else {
			str = fmt.Sprint(got)
		}
		if str != tt.want {
			t.Errorf("got %s, want %s", str, tt.want)
		}
	}
	s.pid = "p"
	if _, err := s.connectPayloadLocked("not an object"); err == nil {
		t.Fatal("a string auth was accepted")
	}
}

func TestConnectionStateRecovery(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(chan string, 100)
			opts := fastOpts()
			opts.ConnectionStateRecovery = &socketio.ConnectionStateRecovery{}
			ts := startServer(t, opts, func(srv *socketio.Server) {
				srv.Of("/").OnConnection(func(s *socketio.Socket) {
					seen <- fmt.Sprint("connection recovered=", s.Recovered())
					s.OnDisconnect(func(reason string) { seen <- "server disconnect " + reason })
				})
			})
			mo := quickReconnect(tc.transports)
			mo.ReconnectionDelay, mo.ReconnectionDelayMax = 300*time.Millisecond, 300*time.Millisecond
			s := connect(t, ts.URL(), &Options{ManagerOptions: mo})
			expectSeen(t, seen, "connection recovered=false")
			m := s.Manager()
			waitFor(t, "transport "+tc.final, func() bool { return m.Transport() == tc.final })
			ev := newEvents()
			s.On("news", func(e *Event) {
				var text string
				_ = e.Args(&text)
				ev.add(fmt.Sprintf("news %s %d", text, e.Len())) // the server appends the offset
			})
			s.OnConnect(func() { ev.add("connect") })
			id := s.ID()
			ts.mu.Lock()
			srv := ts.srv
			ts.mu.Unlock()

			_ = srv.Of("/").Emit("news", "one")
			ev.expect(t, "news one 2")
			m.mu.Lock()
			ec := m.conn
			m.mu.Unlock()
			ec.c.Close() // the connection drops; the Manager reconnects
			expectSeen(t, seen, "server disconnect transport close")
			_ = srv.Of("/").Emit("news", "two") // missed
			got := []string{ev.next(t), ev.next(t)}
			slices.Sort(got)
			if got[0] != "connect" || got[1] != "news two 2" {
				t.Fatalf("after recovery: %q", got)
			}
			expectSeen(t, seen, "connection recovered=true")
			if !s.Recovered() || s.ID() != id {
				t.Fatalf("client: recovered %v, id %q -> %q", s.Recovered(), id, s.ID())
			}
		})
	}
}

// TestRetriesAcrossReconnection: the head of the retry queue is sent again
// after a reconnection (JS _drainQueue(true)), so an emit that was never
// acknowledged is delivered by the next server.
func TestRetriesAcrossReconnection(t *testing.T) {
	var ackNow atomic.Bool
	seen := make(chan string, 10)
	ts := startServer(t, fastOpts(), func(srv *socketio.Server) {
		srv.Of("/").OnConnection(func(s *socketio.Socket) {
			s.On("order", func(e *socketio.Event) {
				seen <- fmt.Sprint("order ack=", ackNow.Load())
				if ackNow.Load() {
					_ = e.Ack("done")
				}
			})
		})
	})
	s := connect(t, ts.URL(), &Options{ManagerOptions: quickReconnect(nil), SocketOptions: SocketOptions{Retries: 2}})
	result := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r, err := s.EmitWithAck(ctx, "order")
		if err == nil && string(r.Raw()[0]) != `"done"` {
			err = fmt.Errorf("reply %s", r.Raw()[0])
		}
		result <- err
	}()
	expectSeen(t, seen, "order ack=false")
	ts.stop()
	ackNow.Store(true)
	ts.restart()
	expectSeen(t, seen, "order ack=true")
	if err := <-result; err != nil {
		t.Fatal(err)
	}
}
