// Package http1 is a small HTTP/1.1 server for http.Handlers, made for
// Socket.IO traffic: long-polling clients send a request or two per message
// on keep-alive connections, where net/http's general machinery (a
// background read goroutine per request, a header map cloned per response,
// a buffered writer flushed apart from the body) costs more than the
// Engine.IO work itself. Here a connection's goroutine reads a request,
// calls the handler, and writes the response head and body in one write.
//
// It serves HTTP/1.0 and 1.1 (keep-alive, chunked request bodies, Expect:
// 100-continue, Hijack for WebSocket upgrades, Flush and streamed
// responses); it is not a general replacement for net/http: no HTTP/2, no
// TLS (put it behind a TLS-terminating proxy or use net/http), no
// trailers. A request's context is canceled when the client goes away only
// for requests without a body (a held long-polling GET), as those are the
// ones that wait; it is always canceled when the handler returns.
//
// # Concurrency
//
// Serve runs one goroutine per connection, which calls the Handler for
// one request at a time; a request without a body whose context's Done is
// asked for gets a second goroutine watching the connection while the
// handler runs. Shutdown and Close may be called from any goroutine.
package http1

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server serves HTTP/1.1 with Handler.
type Server struct {
	Handler http.Handler
	// IdleTimeout bounds the wait for a keep-alive connection's next
	// request, 0 meaning 2 minutes; ReadHeaderTimeout the reading of a
	// request's head once it began, 0 meaning 10 seconds; WriteTimeout the
	// writing of a response, 0 meaning 1 minute (a client that does not
	// read loses its connection).
	IdleTimeout, ReadHeaderTimeout, WriteTimeout time.Duration
	// MaxHeaderBytes bounds a request head; 0 means 16 KiB, as Node.js.
	// A larger head is answered 431 and the connection closed.
	MaxHeaderBytes int

	mu    sync.Mutex
	lns   map[net.Listener]struct{}
	conns map[*conn]struct{}
	down  atomic.Bool    // Shutdown or Close was called
	wg    sync.WaitGroup // connection goroutines
}

// ErrServerClosed is returned by Serve once Shutdown or Close was called.
var ErrServerClosed = errors.New("http1: server closed")

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return 2 * time.Minute
}

func (s *Server) readHeaderTimeout() time.Duration {
	if s.ReadHeaderTimeout > 0 {
		return s.ReadHeaderTimeout
	}
	return 10 * time.Second
}

func (s *Server) writeTimeout() time.Duration {
	if s.WriteTimeout > 0 {
		return s.WriteTimeout
	}
	return time.Minute
}

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return 16 << 10
}

// Serve accepts connections on ln and serves them until ln fails or the
// server is shut down (ErrServerClosed). It closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.down.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	if s.lns == nil {
		s.lns, s.conns = make(map[net.Listener]struct{}), make(map[*conn]struct{})
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.down.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay) // as net/http: out of fds, wait for some to close
				continue
			}
			return err
		}
		delay = 0
		c := &conn{srv: s, nc: nc}
		s.mu.Lock()
		if s.down.Load() {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

// Shutdown stops accepting, closes the idle connections and waits for the
// others to finish their request (closing each once idle) or for ctx to
// end, then closes what is left. Hijacked connections are not its
// business.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.down.Store(true)
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.closeIfIdle()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		<-done
		return ctx.Err()
	}
}

// Close stops accepting and closes every connection at once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.down.Store(true)
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	return nil
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// conn is one client connection.
type conn struct {
	srv  *Server
	nc   net.Conn
	br   *bufio.Reader
	wbuf []byte // the response being written

	mu           sync.Mutex // guards idle against Shutdown
	idle         bool       // waiting for the next request
	continueSent bool       // per request: 100 Continue written
	expect       bool       // per request: the client expects 100 Continue
}

func (c *conn) closeIfIdle() {
	c.mu.Lock()
	if c.idle {
		c.nc.Close()
	}
	c.mu.Unlock()
}

// setIdle marks c idle or busy; it reports false when c, going idle, must
// close instead (Shutdown, which closes the idle ones, ran or runs).
func (c *conn) setIdle(idle bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = idle
	return !idle || !c.srv.down.Load()
}

func (c *conn) serve() {
	hijacked := false
	defer func() {
		if !hijacked {
			c.closeGracefully()
		}
		c.srv.forget(c)
	}()
	c.br = bufio.NewReaderSize(c.nc, readBufSize)
	remote := c.nc.RemoteAddr().String()
	var h head
	for {
		if !c.setIdle(true) {
			return
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.idleTimeout()))
		_, err := c.br.Peek(1)
		c.setIdle(false)
		if err == nil {
			_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.readHeaderTimeout()))
			err = readHead(c.br, c.srv.maxHeaderBytes(), &h)
		}
		if err != nil {
			var re *requestError
			if errors.As(err, &re) {
				c.writeError(re)
			}
			return
		}
		_ = c.nc.SetReadDeadline(time.Time{})
		keep, hj := c.serveRequest(&h, remote)
		if hj {
			hijacked = true
			return
		}
		if !keep {
			return
		}
	}
}

// serveRequest runs the handler for one request; it reports whether the
// connection can serve another, and whether the handler hijacked it.
func (c *conn) serveRequest(h *head, remote string) (keep, hijacked bool) {
	r, err := h.request(remote)
	if err != nil {
		c.writeError(err.(*requestError))
		return false, false
	}
	n, chunked, err := bodyKind(r)
	if err != nil {
		c.writeError(err.(*requestError))
		return false, false
	}
	var b *body
	switch {
	case chunked:
		b = newChunkedBody(c.br, c)
	case n > 0:
		b = &body{br: c.br, n: n, c: c}
	}
	if b != nil {
		r.Body, r.ContentLength = b, n
	}
	c.expect, c.continueSent = false, false
	if b != nil && r.ProtoAtLeast(1, 1) {
		if e := r.Header.Get("Expect"); e != "" {
			if !equalFold(e, "100-continue") {
				c.writeError(&requestError{status: http.StatusExpectationFailed, msg: "unsupported expectation"})
				return false, false
			}
			c.expect = true
		}
	}
	ctx := newRequestContext(c, b == nil)
	r = r.WithContext(ctx)
	w := &response{c: c, ctx: ctx, req: r, header: make(http.Header, 4)}
	w.closeAfter = wantsClose(r)
	func() {
		defer func() {
			p := recover()
			switch {
			case p == nil:
			case p != http.ErrAbortHandler && !w.streaming && !w.hijacked:
				// Nothing went out yet: the client gets a 500 instead.
				log.Printf("http1: panic serving %s: %v\n%s", remote, p, debug.Stack())
				w.header, w.wroteHeader, c.wbuf = http.Header{}, false, c.wbuf[:0]
				w.closeAfter = true
				w.WriteHeader(http.StatusInternalServerError)
			default:
				if p != http.ErrAbortHandler {
					log.Printf("http1: panic serving %s: %v\n%s", remote, p, debug.Stack())
				}
				w.aborted = true
			}
		}()
		c.srv.Handler.ServeHTTP(w, r)
	}()
	ctx.finish()
	if w.hijacked {
		return false, true
	}
	if w.aborted {
		return false, false
	}
	if err := w.finish(); err != nil {
		return false, false
	}
	if b != nil && !b.finish() {
		return false, false
	}
	return !w.closeAfter, false
}

// wantsClose reports whether the client asked for the connection to close
// after r (HTTP/1.0 without keep-alive, or Connection: close).
func wantsClose(r *http.Request) bool {
	for _, v := range r.Header["Connection"] {
		for _, tok := range splitTokens(v) {
			if equalFold(tok, "close") {
				return true
			}
			if equalFold(tok, "keep-alive") && r.ProtoMajor == 1 && r.ProtoMinor == 0 {
				return false
			}
		}
	}
	return !r.ProtoAtLeast(1, 1)
}

func (c *conn) sendContinue() {
	if c.expect && !c.continueSent {
		c.continueSent = true
		_, _ = c.nc.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
	}
}

func (c *conn) continueNeeded() bool { return c.expect && !c.continueSent }

// writeError answers a request that could not be served, then the
// connection closes.
func (c *conn) writeError(e *requestError) {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.writeTimeout()))
	msg := http.StatusText(e.status)
	_, _ = c.nc.Write([]byte("HTTP/1.1 " + itoa(e.status) + " " + msg +
		"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: " +
		itoa(len(msg)+1) + "\r\n\r\n" + msg + "\n"))
}

var errTooManyFiles = syscall.EMFILE

// closeGracefully half-closes the connection and reads what the client
// still sends for a moment before closing it: closing with unread bytes
// would make the kernel reset the connection, and the client could lose
// the last response.
func (c *conn) closeGracefully() {
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok && tc.CloseWrite() == nil {
		_ = c.nc.SetReadDeadline(time.Now().Add(closeGrace))
		_, _ = io.CopyN(io.Discard, c.nc, maxDrain)
	}
	c.nc.Close()
}

// closeGrace bounds closeGracefully's wait for the client to close too.
const closeGrace = 500 * time.Millisecond

// readBufSize is a connection's read buffer: request heads are usually a
// few hundred bytes (longer lines are read in pieces) and bodies larger
// than it are read straight into the caller's buffer.
const readBufSize = 1024
