// Package suite builds the server of the official protocol test suites
// (CONTRACTS.md section 1), so that it can run in-process (httptest) as well
// as from the suiteserver command.
package suite

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/seed9706/socketio/engineio"
	"github.com/seed9706/socketio/socketio"
)

// EngineIOEcho is the Engine.IO handler of the suite: every message is sent
// back unchanged (text as text, binary as binary).
type EngineIOEcho struct{}

// OnOpen implements engineio.Handler.
func (EngineIOEcho) OnOpen(*engineio.Session) {}

// OnMessage sends m back; a client too slow to keep up is closed.
func (EngineIOEcho) OnMessage(s *engineio.Session, m engineio.Message) {
	if err := s.Send(m); errors.Is(err, engineio.ErrQueueFull) {
		s.Close()
	}
}

// OnClose implements engineio.Handler.
func (EngineIOEcho) OnClose(*engineio.Session, string, error) {}

// EngineIOOptions are the options of the suite's /engine.io/ server:
// pingInterval 300 ms, pingTimeout 200 ms, maxHttpBufferSize 1e6, CORS any origin.
func EngineIOOptions() *engineio.ServerOptions {
	return &engineio.ServerOptions{
		Path:              "/engine.io/",
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1e6,
		CORS:              &engineio.CORSOptions{AllowedOrigins: []string{"*"}},
	}
}

// SocketIOOptions are the options of the suite's /socket.io/ server:
// pingInterval 300 ms, pingTimeout 200 ms, maxHttpBufferSize 1e6,
// connectTimeout 1000 ms, CORS any origin.
func SocketIOOptions() *socketio.ServerOptions {
	return &socketio.ServerOptions{
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1e6,
		ConnectTimeout:    1000 * time.Millisecond,
		CORS:              &engineio.CORSOptions{AllowedOrigins: []string{"*"}},
	}
}

// NewSocketIO returns the suite's Socket.IO server: on "/" it emits "auth"
// with the handshake auth on connection, answers "message" with
// "message-back" and acks "message-with-ack", both with the same arguments;
// on "/custom" it emits "auth"; any other namespace is invalid.
func NewSocketIO() *socketio.Server {
	srv := socketio.NewServer(SocketIOOptions())
	srv.OnConnection(func(s *socketio.Socket) {
		emitAuth(s)
		s.On("message", func(e *socketio.Event) { _ = s.Emit("message-back", e.Values()...) })
		s.On("message-with-ack", func(e *socketio.Event) { _ = e.Ack(e.Values()...) })
	})
	srv.Of("/custom").OnConnection(emitAuth)
	return srv
}

// authGap separates the "auth" event from the CONNECT reply on the wire.
// The official v5 suite, run under Node.js with ws (allowSynchronousEvents
// on by default), attaches its next message listener a microtask after the
// previous one fired, so a second frame that arrives in the same TCP read as
// the CONNECT reply is lost. Our writer coalesces both frames into one write,
// so without a gap those tests would always fail; the official server only
// escapes by its write scheduling, and not always. Browsers deliver one
// message per task and pass either way.
const authGap = 10 * time.Millisecond

func emitAuth(s *socketio.Socket) {
	auth := s.Handshake().Auth
	time.AfterFunc(authGap, func() { _ = s.Emit("auth", auth) })
}

// Server is the suite server: an http.Handler serving every path of the contract.
type Server struct {
	mux     *http.ServeMux
	closers []func(context.Context) error
}

// New returns the suite server.
func New() *Server {
	s := &Server{mux: http.NewServeMux()}
	eio := engineio.NewServer(EngineIOEcho{}, EngineIOOptions())
	s.mux.Handle("/engine.io/", eio)
	s.closers = append(s.closers, eio.Close)

	sio := NewSocketIO()
	s.mux.Handle("/socket.io/", sio)
	s.closers = append(s.closers, sio.Close)

	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close closes every mounted server, waiting until ctx is done at most.
func (s *Server) Close(ctx context.Context) error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c(ctx))
	}
	return errors.Join(errs...)
}
