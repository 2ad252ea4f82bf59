package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/seed9706/socketio/client"
	"github.com/seed9706/socketio/socketio"
)

// exampleServer is a Socket.IO server answering "hello" with an
// acknowledgement and greeting every socket of "/chat".
func exampleServer() (*httptest.Server, func()) {
	srv := socketio.NewServer(nil)
	srv.Of("/chat").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", "you are "+s.Namespace().Name())
		s.On("hello", func(e *socketio.Event) {
			var name string
			_ = e.Args(&name)
			_ = e.Ack("hello, " + name)
		})
	})
	ts := httptest.NewServer(srv)
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

// Reconnection follows the JavaScript client: exponential backoff, the
// reconnect_attempt, reconnect, reconnect_error and reconnect_failed events,
// and emits buffered while offline.
func ExampleManager_OnReconnect() {
	m, err := client.NewManager("http://127.0.0.1:3000", &client.ManagerOptions{
		ReconnectionDelay:    500 * time.Millisecond,
		ReconnectionDelayMax: 10 * time.Second,
		ReconnectionAttempts: 10,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	m.OnReconnectAttempt(func(attempt int) { fmt.Println("reconnecting, attempt", attempt) })
	m.OnReconnect(func(attempt int) { fmt.Println("reconnected after", attempt, "attempts") })
	m.OnReconnectFailed(func() { fmt.Println("giving up") })
	s := m.Socket("/", nil)
	s.Connect()
	_ = s.Emit("hello") // buffered until connected
}
