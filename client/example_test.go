package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/seed9706/socketio/client"
	"github.com/seed9706/socketio/socketio"
)

// exampleServer is a Socket.IO server whose namespace "/chat" greets every
// socket, answers "hello" with an acknowledgement, never acknowledges
// "slow" and acknowledges every other "flaky"; "/admin" refuses every
// socket.
// configure, if any, changes the HTTP server before it starts.
func exampleServer(configure ...func(*http.Server)) (*httptest.Server, func()) {
	srv := socketio.NewServer(nil)
	srv.Of("/chat").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", "you are "+s.Namespace().Name())
		s.On("hello", func(e *socketio.Event) {
			var name string
			_ = e.Args(&name)
			_ = e.Ack("hello, " + name)
		})
		s.On("slow", func(*socketio.Event) {})
		tries := 0 // handlers of a socket run one at a time
		s.On("flaky", func(e *socketio.Event) {
			if tries++; tries%2 == 0 { // every other try is "lost"
				_ = e.Ack(fmt.Sprint("ok after ", tries, " tries"))
			}
		})
	})
	srv.Of("/admin").Use(func(*socketio.Socket) error {
		return &socketio.ConnectError{Message: "not authorized", Data: map[string]string{"login": "/login"}}
	})
	ts := httptest.NewUnstartedServer(srv)
	for _, c := range configure {
		c(ts.Config)
	}
	ts.Start()
	return ts, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.Close()
	}
}

func Example() {
	ts, stop := exampleServer()
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The path of the URL is the namespace.
	s, err := client.Connect(ctx, ts.URL+"/chat", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Manager().Close()

	reply, err := s.EmitWithAck(ctx, "hello", "gopher")
	if err != nil {
		fmt.Println(err)
		return
	}
	var text string
	_ = reply.Args(&text)
	fmt.Println(text)
	// Output: hello, gopher
}

// A refusal of the server's middleware is a *ConnectError with its message
// and data; the socket does not retry.
func ExampleConnect_refused() {
	ts, stop := exampleServer()
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := client.Connect(ctx, ts.URL+"/admin", nil)
	var refused *client.ConnectError
	if errors.As(err, &refused) {
		fmt.Println(refused.Message, string(refused.Data))
	}
	// Output: not authorized {"login":"/login"}
}

// The context bounds the wait for the acknowledgement (the JS
// socket.timeout(ms)); SocketOptions.AckTimeout sets one for every emit.
func ExampleSocket_EmitWithAck() {
	ts, stop := exampleServer()
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, ts.URL+"/chat", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Manager().Close()

	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	_, err = s.EmitWithAck(short, "slow")
	fmt.Println(errors.Is(err, client.ErrTimeout))
	// Output: true
}

// With Retries, emits are delivered at least once: each is sent, one at a
// time, until the server acknowledges it (a try without acknowledgement
// within AckTimeout is sent again), or fails after 1 + Retries tries.
func ExampleSocketOptions_retries() {
	ts, stop := exampleServer()
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, ts.URL+"/chat", &client.Options{
		SocketOptions: client.SocketOptions{Retries: 3, AckTimeout: 500 * time.Millisecond},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Manager().Close()

	reply, err := s.EmitWithAck(ctx, "flaky")
	if err != nil {
		fmt.Println(err)
		return
	}
	var text string
	_ = reply.Args(&text)
	fmt.Println(text)
	// Output: ok after 2 tries
}

// Register handlers before connecting to see the events the server sends
// right away.
func ExampleSocket_ConnectWait() {
	ts, stop := exampleServer()
	defer stop()

	m, err := client.NewManager(ts.URL, &client.ManagerOptions{Transports: []string{"websocket"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	s := m.Socket("/chat", &client.SocketOptions{Auth: map[string]string{"token": "abc"}})
	welcome := make(chan string, 1)
	s.On("welcome", func(e *client.Event) {
		var text string
		_ = e.Args(&text)
		welcome <- text
	})
	disconnected := make(chan string, 1)
	s.OnDisconnect(func(reason string) { disconnected <- reason })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.ConnectWait(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-welcome)
	s.Disconnect()
	fmt.Println("disconnected:", <-disconnected)
	// Output:
	// you are /chat
	// disconnected: io client disconnect
}

// Reconnection follows the JavaScript client: exponential backoff from
// ReconnectionDelay, the OnReconnectAttempt, OnReconnect, OnReconnectError
// and OnReconnectFailed events, and emits buffered while offline and sent
// once the socket is connected again.
func ExampleManager_OnReconnect() {
	ts, cut, stop := cuttableServer()
	defer stop()

	m, err := client.NewManager(ts.URL, &client.ManagerOptions{
		Transports:        []string{"websocket"},
		ReconnectionDelay: 100 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	reconnected := make(chan int, 1)
	m.OnReconnect(func(attempts int) { reconnected <- attempts })
	s := m.Socket("/chat", nil)
	disconnected := make(chan string, 1)
	s.OnDisconnect(func(reason string) { disconnected <- reason })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.ConnectWait(ctx); err != nil {
		fmt.Println(err)
		return
	}
	cut() // the network drops every connection
	fmt.Println("disconnected:", <-disconnected)
	// Sent once reconnected: an emit made while offline is buffered.
	reply, err := s.EmitWithAck(ctx, "hello", "again")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("reconnected after", <-reconnected, "attempt")
	var text string
	_ = reply.Args(&text)
	fmt.Println(text)
	// Output:
	// disconnected: transport close
	// reconnected after 1 attempt
	// hello, again
}

// cuttableServer is exampleServer with a function that closes every
// connection it accepted, as a network failure does.
func cuttableServer() (ts *httptest.Server, cut, stop func()) {
	var mu sync.Mutex
	var conns []net.Conn
	ts, stop = exampleServer(func(hs *http.Server) {
		hs.ConnState = func(c net.Conn, state http.ConnState) {
			if state == http.StateNew {
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}
	})
	cut = func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
		conns = nil
	}
	return ts, cut, stop
}
