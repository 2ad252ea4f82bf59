// Package serve runs the HTTP servers of the e2e programs the way
// CONTRACTS.md asks: listen on an address, print a line containing
// "listening" once connections are accepted, and shut down cleanly when the
// context ends. They serve with package http1, the HTTP/1.1 server made
// for Socket.IO traffic.
//
// # Concurrency
//
// Run blocks until ctx is done or the server fails; it serves on its own
// goroutine and waits for it before returning.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/seed9706/socketio/http1"
)

// Handler is a server that also needs closing, such as *socketio.Server.
type Handler interface {
	http.Handler
	Close(ctx context.Context) error
}

// ShutdownTimeout bounds the clean shutdown.
const ShutdownTimeout = 5 * time.Second

// Run serves h on addr until ctx is done, after printing
// "<name> listening on http://<address>" to out. On the way out it closes h
// first (so that held long-polling requests end), then the HTTP server; h is
// closed too when addr cannot be listened on.
func Run(ctx context.Context, name, addr string, h Handler, out io.Writer) error {
	// No TCP keep-alive (Node's default too): the Engine.IO heartbeat
	// already finds dead peers, and it saves four setsockopt calls per
	// accepted connection.
	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(ctx, "tcp", addr)
	if err != nil {
		_ = h.Close(context.Background())
		return err
	}
	hs := &http1.Server{Handler: h}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(out, "%s listening on http://%s\n", name, ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	closeErr := h.Close(shutdown)
	if err := hs.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http1.ErrServerClosed) {
		return err
	}
	return closeErr
}
