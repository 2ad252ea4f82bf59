package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/seed9706/socketio/engineio"
	"github.com/seed9706/socketio/internal/taskqueue"
)

// Server is a Socket.IO server, an http.Handler to mount at its Path
// ("/socket.io/" by default).
type Server struct {
	opts   ServerOptions
	log    *slog.Logger
	engine *engineio.Server
	root   *Namespace
	client *clientFiles     // nil: the client bundle is not served
	tasks  taskqueue.Config // shared by the sockets' handler queues

	mu             sync.RWMutex
	nsps           map[string]*Namespace
	parents        []*ParentNamespace
	onNewNamespace []func(*Namespace)
	closed         bool
}

// NewServer returns a server; nil options mean the JS defaults.
func NewServer(opts *ServerOptions) *Server {
	o := opts.withDefaults()
	srv := &Server{opts: o, log: o.Logger, nsps: make(map[string]*Namespace),
		tasks: taskqueue.Config{Max: o.MaxPendingEvents, Log: o.Logger, PanicMsg: "socketio: handler panicked"}}
	srv.client = newClientFiles(o.Path, o.ServeClient)
	srv.engine = engineio.NewServer((*engineHandler)(srv), o.engineOptions())
	// The broadcasts of a run of a socket's handlers go out together: one
	// write per client for all of them (the engine's flusher).
	srv.tasks.OnBusy, srv.tasks.OnIdle = srv.engine.Cork, srv.engine.Uncork
	srv.root = srv.Of("/")
	return srv
}

// ServeHTTP serves the Engine.IO transports, and the client bundle when
// ServeClient is set.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if srv.client != nil && srv.client.serve(w, r) {
		return
	}
	srv.engine.ServeHTTP(w, r)
}

// Engine is the underlying Engine.IO server.
func (srv *Server) Engine() *engineio.Server { return srv.engine }

// Of returns the namespace name, creating it when needed. A name without a
// leading "/" gets one. A name matched by a regular-expression parent
// (OfRegexp) becomes a child of that parent.
func (srv *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	srv.mu.RLock()
	n, parents := srv.nsps[name], srv.parents
	srv.mu.RUnlock()
	if n != nil {
		return n
	}
	for _, p := range parents {
		if p.byRegexp && p.match(name, nil) {
			return srv.addNamespace(name, p)
		}
	}
	return srv.addNamespace(name, nil)
}

// addNamespace creates namespace name, a child of parent when not nil,
// unless another goroutine created it first. The adapter starts with no
// lock held (a cluster adapter does network I/O).
func (srv *Server) addNamespace(name string, parent *ParentNamespace) *Namespace {
	n := newNamespace(srv, name, parent)
	srv.mu.Lock()
	if existing := srv.nsps[name]; existing != nil {
		srv.mu.Unlock()
		_ = n.adapter.Close(context.Background())
		return existing
	}
	srv.nsps[name] = n
	if parent != nil {
		parent.mu.Lock()
		parent.children[name] = n
		parent.mu.Unlock()
	}
	hooks := srv.onNewNamespace
	srv.mu.Unlock()
	for _, fn := range hooks {
		fn(n)
	}
	return n
}

// OnNewNamespace registers a handler called with each namespace created
// from now on (JS "new_namespace"), dynamic children included.
func (srv *Server) OnNewNamespace(handler func(*Namespace)) {
	srv.mu.Lock()
	srv.onNewNamespace = append(srv.onNewNamespace, handler)
	srv.mu.Unlock()
}

// OfRegexp returns a dynamic namespace: a client connecting to a name that
// re matches gets a child namespace of it.
func (srv *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return srv.addParent(func(name string, _ json.RawMessage) bool { return re.MatchString(name) }, true)
}

// OfFunc returns a dynamic namespace: a client connecting to an unknown name
// gets a child namespace of it when allow returns true. allow runs on the
// connection's read path with the name and the CONNECT auth payload: keep it
// fast.
func (srv *Server) OfFunc(allow func(name string, auth json.RawMessage) bool) *ParentNamespace {
	return srv.addParent(allow, false)
}

func (srv *Server) addParent(match func(string, json.RawMessage) bool, byRegexp bool) *ParentNamespace {
	p := &ParentNamespace{srv: srv, match: match, byRegexp: byRegexp, children: make(map[string]*Namespace)}
	srv.mu.Lock()
	srv.parents = append(srv.parents, p)
	srv.mu.Unlock()
	return p
}

// lookup finds the namespace a client asks for, creating a dynamic child
// when a parent accepts the name; nil means "Invalid namespace".
func (srv *Server) lookup(name string, auth json.RawMessage) *Namespace {
	srv.mu.RLock()
	n := srv.nsps[name]
	parents := srv.parents
	srv.mu.RUnlock()
	if n != nil {
		return n
	}
	for _, p := range parents {
		if p.match(name, auth) {
			return srv.addNamespace(name, p)
		}
	}
	return nil
}

func (srv *Server) removeChild(n *Namespace) {
	srv.mu.Lock()
	if srv.nsps[n.name] == n && len(n.Sockets()) == 0 {
		delete(srv.nsps, n.name)
		n.parent.mu.Lock()
		delete(n.parent.children, n.name)
		n.parent.mu.Unlock()
	} else {
		n = nil
	}
	srv.mu.Unlock()
	if n != nil {
		_ = n.adapter.Close(context.Background())
	}
}

func (srv *Server) namespaces() []*Namespace {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	out := make([]*Namespace, 0, len(srv.nsps))
	for _, n := range srv.nsps {
		out = append(out, n)
	}
	return out
}

// Close disconnects every socket with reason "server shutting down", closes
// the adapters, then the Engine.IO server. It waits, until ctx is done, for
// the disconnect handlers to finish.
func (srv *Server) Close(ctx context.Context) error {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		return ErrServerClosed
	}
	srv.closed = true
	srv.mu.Unlock()
	nsps := srv.namespaces()
	var sockets []*Socket
	for _, n := range nsps {
		for _, s := range n.Sockets() {
			s.closeAsync(ReasonServerShuttingDown)
			sockets = append(sockets, s)
		}
	}
	var errs []error
	for _, s := range sockets {
		select {
		case <-s.wait(sigFinished):
			continue
		case <-ctx.Done():
			// Close the rest anyway: handlers still running are not waited for.
			errs = append(errs, fmt.Errorf("socketio: waiting for disconnect handlers: %w", ctx.Err()))
		}
		break
	}
	for _, n := range nsps {
		errs = append(errs, n.adapter.Close(ctx))
	}
	errs = append(errs, srv.engine.Close(ctx))
	return errors.Join(errs...)
}

// Use registers a middleware on the main namespace "/".
func (srv *Server) Use(mw func(*Socket) error) { srv.root.Use(mw) }

// OnConnection registers a connection handler on the main namespace "/".
func (srv *Server) OnConnection(handler func(*Socket)) { srv.root.OnConnection(handler) }

// To returns an operator over rooms of the main namespace.
func (srv *Server) To(rooms ...string) BroadcastOperator { return srv.root.To(rooms...) }

// In is To.
func (srv *Server) In(rooms ...string) BroadcastOperator { return srv.root.To(rooms...) }

// Except returns an operator over the main namespace without rooms.
func (srv *Server) Except(rooms ...string) BroadcastOperator { return srv.root.Except(rooms...) }

// Local returns an operator over the main namespace on this server only.
func (srv *Server) Local() BroadcastOperator { return srv.root.Local() }

// Volatile returns a volatile operator over the main namespace.
func (srv *Server) Volatile() BroadcastOperator { return srv.root.Volatile() }

// Compress returns an operator over the main namespace with the compress flag.
func (srv *Server) Compress(compress bool) BroadcastOperator { return srv.root.Compress(compress) }

// Emit broadcasts an event to every socket of the main namespace.
func (srv *Server) Emit(event string, args ...any) error { return srv.root.Emit(event, args...) }

// EmitWithAck broadcasts to the main namespace and collects acknowledgements.
func (srv *Server) EmitWithAck(ctx context.Context, event string, args ...any) ([]*Reply, error) {
	return srv.root.EmitWithAck(ctx, event, args...)
}

// FetchSockets returns the sockets of the main namespace.
func (srv *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return srv.root.FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join rooms.
func (srv *Server) SocketsJoin(rooms ...string) error { return srv.root.SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the main namespace leave rooms.
func (srv *Server) SocketsLeave(rooms ...string) error { return srv.root.SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the main namespace.
func (srv *Server) DisconnectSockets(close bool) error { return srv.root.DisconnectSockets(close) }

// engineHandler receives the Engine.IO sessions without adding the Handler
// methods to Server's API.
type engineHandler Server

func (h *engineHandler) OnOpen(sess *engineio.Session) {
	sess.SetData(newConn((*Server)(h), sess))
}

func (h *engineHandler) OnMessage(sess *engineio.Session, m engineio.Message) {
	if c, ok := sess.Data().(*conn); ok {
		c.onMessage(m)
	}
}

func (h *engineHandler) OnClose(sess *engineio.Session, reason string, _ error) {
	if c, ok := sess.Data().(*conn); ok {
		c.onClose(reason)
	}
}

// ServerSideEmit sends an event to the other servers, on the main namespace.
func (srv *Server) ServerSideEmit(event string, args ...any) error {
	return srv.root.ServerSideEmit(event, args...)
}

// ServerSideEmitWithAck sends an event to the other servers, on the main
// namespace, and waits for one reply from each.
func (srv *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	return srv.root.ServerSideEmitWithAck(ctx, event, args...)
}

// OnServerSideEmit registers a handler for the other servers' server-side
// events on the main namespace.
func (srv *Server) OnServerSideEmit(handler func(event string, args []json.RawMessage, ack func(reply any))) {
	srv.root.OnServerSideEmit(handler)
}
