package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/interop"
)

// nodeServer is the official socket.io 4.8 server (testdata/interop/server.mjs).
type nodeServer struct {
	t    *testing.T
	opts string
	port int
	p    *interop.Process
}

const nodeScript = "testdata/interop/server.mjs"

func startNode(t *testing.T, opts map[string]any) *nodeServer {
	t.Helper()
	b, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	n := &nodeServer{t: t, opts: string(b)}
	n.start()
	return n
}

func (n *nodeServer) start() {
	n.t.Helper()
	n.p = interop.Start(n.t, nodeScript, strconv.Itoa(n.port), n.opts)
	var l struct{ Port int }
	if err := n.p.Expect(n.t, "listening").Decode(&l); err != nil {
		n.t.Fatal(err)
	}
	n.port = l.Port
}

func (n *nodeServer) url() string { return fmt.Sprintf("http://127.0.0.1:%d", n.port) }

// kill stops the server abruptly (SIGKILL): every connection is cut.
func (n *nodeServer) kill() {
	n.t.Helper()
	n.p.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = n.p.Wait(ctx)
}

func (n *nodeServer) send(cmd map[string]any) {
	n.t.Helper()
	if err := n.p.Send(cmd); err != nil {
		n.t.Fatal(err)
	}
}

// expect awaits the next line with event and decodes it into v.
func (n *nodeServer) expect(event string, v any) {
	n.t.Helper()
	l := n.p.Await(n.t, event)
	if v != nil {
		if err := l.Decode(v); err != nil {
			n.t.Fatal(err)
		}
	}
}

type nodeConnection struct {
	Nsp       string
	Auth      json.RawMessage
	Recovered bool
	Transport string
}

type nodeRecord struct{ Args json.RawMessage }

func (n *nodeServer) expectRecord(want string) {
	n.t.Helper()
	var r nodeRecord
	n.expect("record", &r)
	if string(r.Args) != want {
		n.t.Fatalf("node recorded %s, want %s", r.Args, want)
	}
}

func TestNodeEmitAckBinary(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, nil)
			s := connect(t, n.url()+"/chat", &Options{ManagerOptions: ManagerOptions{Transports: tc.transports}})
			var c nodeConnection
			n.expect("connection", &c)
			if c.Nsp != "/chat" || string(c.Auth) != "{}" {
				t.Fatalf("connection %+v", c)
			}
			ev := newEvents()
			onEchoAndQuestion(s, ev)
			if err := s.Emit("echo", "héllo", []byte{1, 2, 3}, map[string]int{"n": 7}); err != nil {
				t.Fatal(err)
			}
			ev.expect(t, "echo héllo 010203 map[n:7]")

			expectAckEcho(t, s)

			if err := s.Emit("record", []byte{0xff}, map[string]any{"a": []byte{1}, "s": "x"}); err != nil {
				t.Fatal(err)
			}
			n.expectRecord(`[{"bin":"ff"},{"a":{"bin":"01"},"s":"x"}]`)

			if err := s.Emit("ask"); err != nil {
				t.Fatal(err)
			}
			var answer struct {
				Text  string
				Bin   struct{ Bin string }
				Error string
			}
			n.expect("answer", &answer)
			if answer.Text != "because why? cafe" || answer.Bin.Bin != "0102" {
				t.Fatalf("answer %+v", answer)
			}
			waitFor(t, "transport "+tc.final, func() bool { return s.Manager().Transport() == tc.final })
		})
	}
}

func TestNodeConnectErrorAndMultiplex(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			mo := ManagerOptions{Transports: tc.transports}
			_, err := Connect(ctx, n.url()+"/private", &Options{ManagerOptions: mo})
			var ce *ConnectError
			if !errors.As(err, &ce) || ce.Message != "not authorized" || string(ce.Data) != `{"code":42}` {
				t.Fatalf("err = %v", err)
			}

			// Two namespaces over one connection; a refusal on a third
			// leaves them connected.
			m, err := NewManager(n.url(), &mo)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			root, chat, private := m.Socket("/", nil), m.Socket("/chat", nil), m.Socket("/private", nil)
			for _, s := range []*Socket{root, chat} {
				if err := s.ConnectWait(ctx); err != nil {
					t.Fatal(err)
				}
				r, err := s.EmitWithAck(ctx, "ack", s.Namespace())
				if err != nil || string(r.Raw()[0]) != `"`+s.Namespace()+`"` {
					t.Fatalf("%s: %v", s.Namespace(), err)
				}
			}
			if err := private.ConnectWait(ctx); !errors.As(err, &ce) {
				t.Fatalf("private: %v", err)
			}
			if !root.Connected() || !chat.Connected() || m.Transport() == "" {
				t.Fatal("a refused namespace closed the others")
			}
		})
	}
}

func TestNodeReconnectAfterRestart(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, nil)
			calls := 0 // AuthFunc runs on the callback goroutine only
			opts := &Options{ManagerOptions: quickReconnect(tc.transports), SocketOptions: SocketOptions{
				AuthFunc: func() (any, error) { calls++; return map[string]any{"token": fmt.Sprint("t", calls)}, nil },
			}}
			s := connect(t, n.url(), opts)
			var c nodeConnection
			n.expect("connection", &c)
			if string(c.Auth) != `{"token":"t1"}` {
				t.Fatalf("auth %s", c.Auth)
			}
			m := s.Manager()
			ev := newEvents()
			m.OnReconnect(func(n int) { ev.add("reconnect") })
			s.OnDisconnect(func(reason string) { ev.add("disconnect " + reason) })
			s.OnConnect(func() { ev.add("connect") })
			waitFor(t, "transport "+tc.final, func() bool { return m.Transport() == tc.final })

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			pending := make(chan error, 1)
			go func() {
				_, err := s.EmitWithAck(ctx, "noack")
				pending <- err
			}()
			waitFor(t, "the pending ack", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.acks) == 1 })

			n.kill()
			wantReason := map[string]string{"polling": ReasonTransportError, "websocket": ReasonTransportClose}[tc.final]
			ev.expect(t, "disconnect "+wantReason)
			if err := <-pending; !errors.Is(err, ErrDisconnected) {
				t.Fatalf("pending ack: %v", err)
			}

			for _, v := range []int{1, 2} {
				_ = s.Emit("record", v)
				_ = s.Volatile().Emit("record", 99)
			}
			buffered := make(chan error, 1)
			go func() {
				r, err := s.EmitWithAck(ctx, "ack", "later", []byte{5})
				if err == nil && string(r.Raw()[0]) != `"later"` {
					err = fmt.Errorf("ack %s", r.Raw()[0])
				}
				buffered <- err
			}()
			waitFor(t, "the buffered ack", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.sendBuffer) == 3 })

			n.start()
			ev.expect(t, "reconnect") // the Manager reconnected, then the namespace
			ev.expect(t, "connect")
			n.expect("connection", &c)
			if string(c.Auth) != `{"token":"t2"}` {
				t.Fatalf("auth after reconnection %s", c.Auth)
			}
			n.expectRecord("[1]")
			n.expectRecord("[2]")
			if err := <-buffered; err != nil {
				t.Fatal(err)
			}
			_ = s.Emit("record", 3)
			n.expectRecord("[3]") // the volatile 99s were dropped
		})
	}
}

func TestNodeAckTimeoutAndRetries(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, nil)
			mo := ManagerOptions{Transports: tc.transports}
			s := connect(t, n.url(), &Options{ManagerOptions: mo, SocketOptions: SocketOptions{AckTimeout: 100 * time.Millisecond}})
			if _, err := s.EmitWithAck(context.Background(), "noack"); !isTimeout(err) {
				t.Fatalf("err = %v", err)
			}
			s2 := connect(t, n.url(), &Options{ManagerOptions: mo, SocketOptions: SocketOptions{Retries: 3, AckTimeout: 150 * time.Millisecond}})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r, err := s2.EmitWithAck(ctx, "flaky", "a")
			if err != nil {
				t.Fatal(err)
			}
			var text string
			var tries int
			if err := r.Args(&text, &tries); err != nil || text != "ok" || tries != 3 {
				t.Fatalf("reply %q %d %v", text, tries, err)
			}
			for want := 1; want <= 3; want++ {
				var f struct {
					ID string
					N  int
				}
				n.expect("flaky", &f)
				if f.ID != "a" || f.N != want {
					t.Fatalf("try %+v, want %d", f, want)
				}
			}
		})
	}
}

func TestNodeDisconnectReasons(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, nil)
			s := connect(t, n.url(), &Options{ManagerOptions: quickReconnect(tc.transports)})
			ev := newEvents()
			s.OnDisconnect(func(reason string) { ev.add("disconnect " + reason) })
			_ = s.Emit("kick")
			ev.expect(t, "disconnect "+ReasonIOServerDisconnect)
			var d struct{ Reason string }
			n.expect("disconnect", &d)
			if d.Reason != "server namespace disconnect" {
				t.Fatalf("node reason %q", d.Reason)
			}
			if s.Active() {
				t.Fatal("active after a server disconnect")
			}
			s.Connect()
			waitFor(t, "connected again", s.Connected)
			s.Disconnect()
			ev.expect(t, "disconnect "+ReasonIOClientDisconnect)
			n.expect("disconnect", &d)
			if d.Reason != "client namespace disconnect" {
				t.Fatalf("node reason %q", d.Reason)
			}
		})
	}
}

func TestNodeConnectionStateRecovery(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, map[string]any{"connectionStateRecovery": map[string]any{"maxDisconnectionDuration": 60000}})
			opts := &Options{ManagerOptions: quickReconnect(tc.transports)}
			opts.ReconnectionDelay, opts.ReconnectionDelayMax = 500*time.Millisecond, 500*time.Millisecond
			s := connect(t, n.url(), opts)
			var c nodeConnection
			n.expect("connection", &c)
			if c.Recovered || s.Recovered() {
				t.Fatal("recovered on the first connection")
			}
			waitFor(t, "transport "+tc.final, func() bool { return s.Manager().Transport() == tc.final })
			ev := newEvents()
			s.On("news", func(e *Event) {
				var text string
				_ = e.Args(&text)
				ev.add(fmt.Sprintf("news %s %d", text, e.Len())) // the server appends the offset
			})
			s.OnDisconnect(func(reason string) { ev.add("disconnect " + reason) })
			s.OnConnect(func() { ev.add("connect") })
			id := s.ID()

			n.send(map[string]any{"op": "broadcast", "event": "news", "args": []string{"one"}})
			ev.expect(t, "news one 2")
			n.send(map[string]any{"op": "dropTransports"})
			n.expect("disconnect", nil)
			n.send(map[string]any{"op": "broadcast", "event": "news", "args": []string{"two"}}) // missed
			ev.expect(t, "disconnect "+ReasonTransportClose)
			got := []string{ev.next(t), ev.next(t)} // the replayed event and the connect callback
			slices.Sort(got)
			if got[0] != "connect" || got[1] != "news two 2" {
				t.Fatalf("after recovery: %q", got)
			}
			n.expect("connection", &c)
			if !c.Recovered || !s.Recovered() || s.ID() != id {
				t.Fatalf("recovered: node %v, client %v, id %q -> %q", c.Recovered, s.Recovered(), id, s.ID())
			}
		})
	}
}

// TestNodePollingBatches sends a burst over polling to a server with a small
// maxHttpBufferSize: POST batches must stay within its maxPayload (Node
// answers 413 otherwise and the connection fails).
func TestNodePollingBatches(t *testing.T) {
	n := startNode(t, map[string]any{"maxHttpBufferSize": 1000})
	s := connect(t, n.url(), &Options{ManagerOptions: ManagerOptions{Transports: []string{"polling"}}})
	ev := newEvents()
	s.OnDisconnect(func(reason string) { ev.add("disconnect " + reason) })
	pad := strings.Repeat("x", 100)
	for i := range 50 {
		if err := s.Emit("record", i, pad); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		n.expectRecord(fmt.Sprintf(`[%d,"%s"]`, i, pad))
	}
	select {
	case e := <-ev.ch:
		t.Fatalf("unexpected %q", e)
	default:
	}
}
