package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/leakcheck"
	"github.com/seed9706/socketio/socketio"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// transportCases are the transport settings every feature is tested with.
var transportCases = []struct {
	name       string
	transports []string
	final      string
}{
	{"polling", []string{"polling"}, "polling"},
	{"websocket", []string{"websocket"}, "websocket"},
	{"upgrade", nil, "websocket"},
}

// testServer is our Socket.IO server on a fixed 127.0.0.1 address that can
// be stopped and started again (to test reconnection).
type testServer struct {
	t     *testing.T
	addr  string
	setup func(*socketio.Server)
	opts  *socketio.ServerOptions

	mu   sync.Mutex
	srv  *socketio.Server
	http *http.Server
	done chan struct{}
}

func startServer(t *testing.T, opts *socketio.ServerOptions, setup func(*socketio.Server)) *testServer {
	t.Helper()
	ts := &testServer{t: t, setup: setup, opts: opts}
	ts.start("127.0.0.1:0")
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) URL() string { return "http://" + ts.addr }

func (ts *testServer) start(addr string) {
	ts.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger briefly
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		ts.t.Fatal(err)
	}
	srv := socketio.NewServer(ts.opts)
	if ts.setup != nil {
		ts.setup(srv)
	}
	hs := &http.Server{Handler: srv}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(ln)
	}()
	ts.mu.Lock()
	ts.addr, ts.srv, ts.http, ts.done = ln.Addr().String(), srv, hs, done
	ts.mu.Unlock()
}

// stop kills the server: every connection is cut.
func (ts *testServer) stop() {
	ts.mu.Lock()
	srv, hs, done := ts.srv, ts.http, ts.done
	ts.srv = nil
	ts.mu.Unlock()
	if srv == nil {
		return
	}
	_ = hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Close(ctx)
	<-done
}

func (ts *testServer) restart() { ts.start(ts.addr) }

// events collects what callbacks saw, in order.
type events struct {
	ch chan string
}

func newEvents() *events { return &events{ch: make(chan string, 1000)} }

func (e *events) add(s string) { e.ch <- s }

// expect waits for the next recorded event and checks it.
func (e *events) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-e.ch:
		if got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("timeout waiting for %q", want)
	}
}

// next returns the next recorded event.
func (e *events) next(t *testing.T) string {
	t.Helper()
	select {
	case got := <-e.ch:
		return got
	case <-time.After(10 * time.Second):
		t.Fatal("timeout waiting for an event")
		return ""
	}
}

// await skips events until want.
func (e *events) await(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case got := <-e.ch:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("timeout waiting for %q", want)
		}
	}
}

func connect(t *testing.T, url string, opts *Options) *Socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Connect(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Manager().Close)
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isTimeout(err error) bool { return errors.Is(err, ErrTimeout) }

// onEchoAndQuestion registers the client side of the "echo" and "question"
// exchanges that both test servers (ours and Node's) start; what echo
// receives goes to ev.
func onEchoAndQuestion(s *Socket, ev *events) {
	s.On("echo", func(e *Event) {
		var text string
		var bin []byte
		var obj map[string]int
		if err := e.Args(&text, &bin, &obj); err != nil {
			ev.add("error " + err.Error())
			return
		}
		ev.add(fmt.Sprintf("echo %s %x %v", text, bin, obj))
	})
	s.On("question", func(e *Event) {
		var text string
		var bin []byte
		_ = e.Args(&text, &bin)
		_ = e.Ack(fmt.Sprintf("because %s %x", text, bin), []byte{1, 2})
	})
}

// expectAckEcho checks that the server acknowledges "ack" with its
// arguments, binary included.
func expectAckEcho(t *testing.T, s *Socket) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.EmitWithAck(ctx, "ack", "x", []byte{9, 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text string
	var bin []byte
	if err := r.Args(&text, &bin); err != nil || text != "x" || string(bin) != "\x09\x08" || r.Len() != 3 || string(r.Raw()[2]) != "null" {
		t.Fatalf("ack %q %x %v %q", text, bin, err, r.Raw())
	}
}
