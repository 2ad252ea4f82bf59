package http1_test

import (
	"log"
	"net"

	"github.com/seed9706/socketio/http1"
	"github.com/seed9706/socketio/socketio"
)

// Serving a Socket.IO server with http1 instead of net/http: the same
// handler, fewer syscalls and allocations per long-polling request.
func Example() {
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("ping", func(e *socketio.Event) { _ = e.Ack("pong") })
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http1.Server{Handler: io}
	go func() { _ = srv.Serve(ln) }()
	// ... until shutdown:
	_ = srv.Close()
	// Output:
}
