package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

// Namespace is a communication channel that splits the logic of an
// application over one shared connection (JS Namespace), e.g. "/" or "/chat".
type Namespace struct {
	srv     *Server
	name    string
	parent  *ParentNamespace // for a child of a dynamic namespace
	adapter adapter.Adapter
	ackIDs  atomic.Uint64

	mu          sync.RWMutex
	middlewares []func(*Socket) error
	onConn      []func(*Socket)
	sockets     map[string]*Socket // connected sockets by id
	byPID       map[string]*Socket // the same by private id, with recovery

	onServerSide []func(event string, args []json.RawMessage, ack func(reply any))
}

func newNamespace(srv *Server, name string, parent *ParentNamespace) *Namespace {
	n := &Namespace{srv: srv, name: name, parent: parent, sockets: make(map[string]*Socket), byPID: make(map[string]*Socket)}
	n.adapter = srv.opts.Adapter((*adapterNamespace)(n))
	if err := n.adapter.Init(context.Background()); err != nil {
		srv.log.Error("socketio: adapter init failed", "nsp", name, "err", err)
	}
	return n
}

// Name is the namespace name.
func (n *Namespace) Name() string { return n.name }

// Adapter is the namespace's adapter.
func (n *Namespace) Adapter() adapter.Adapter { return n.adapter }

// Use registers a middleware run for each connecting socket, in order,
// before the connection handlers. A non-nil error refuses the connection:
// the client gets CONNECT_ERROR with the error's message (and the data of a
// *ConnectError). Middlewares may emit to the socket: the client receives
// those events before its connect handler runs.
func (n *Namespace) Use(mw func(*Socket) error) {
	n.mu.Lock()
	n.middlewares = append(n.middlewares, mw)
	n.mu.Unlock()
}

// OnConnection registers a handler run for each connected socket, after the
// client was sent its CONNECT reply. The socket's events wait for it, and so
// do the client's CONNECTs to other namespaces (answered in order, as Node
// answers them): a handler that blocks should do so on its own goroutine.
func (n *Namespace) OnConnection(handler func(*Socket)) {
	n.mu.Lock()
	n.onConn = append(n.onConn, handler)
	n.mu.Unlock()
}

// Sockets returns the connected sockets of this server in the namespace.
func (n *Namespace) Sockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

func (n *Namespace) handlers() ([]func(*Socket) error, []func(*Socket)) {
	if n.parent == nil {
		// The lists only grow by append under mu: the prefix read here
		// never changes, so it needs no copy (capped: no one appends to it).
		n.mu.RLock()
		mws, onConn := n.middlewares[:len(n.middlewares):len(n.middlewares)], n.onConn[:len(n.onConn):len(n.onConn)]
		n.mu.RUnlock()
		return mws, onConn
	}
	var mws []func(*Socket) error
	var onConn []func(*Socket)
	if n.parent != nil {
		n.parent.mu.RLock()
		mws = append(mws, n.parent.middlewares...)
		onConn = append(onConn, n.parent.onConn...)
		n.parent.mu.RUnlock()
	}
	n.mu.RLock()
	mws = append(mws, n.middlewares...)
	onConn = append(onConn, n.onConn...)
	n.mu.RUnlock()
	return mws, onConn
}

// connect runs on the new socket's task goroutine: middlewares, then the
// CONNECT reply, then the connection handlers.
func (n *Namespace) connect(s *Socket) {
	mws, onConn := n.handlers()
	r := n.startSession(s)
	if r != nil && !n.srv.opts.ConnectionStateRecovery.RunMiddlewares {
		mws = nil // JS skipMiddlewares
	}
	for _, mw := range mws {
		if err := runMiddleware(mw, s); err != nil {
			message, data := err.Error(), any(nil)
			var ce *ConnectError
			if errors.As(err, &ce) {
				message, data = ce.Message, ce.Data
			}
			s.conn.connectFailed(s)
			s.close("")
			s.conn.sendConnectError(n.name, message, data)
			return
		}
	}
	if !s.conn.connected(s) {
		s.close("") // the connection closed during the middlewares
		return
	}
	p, _ := parser.NewConnect(n.name, s.connectReply())
	if r != nil {
		n.register(s) // listed first: a client back on a new connection finds it by pid
		// Missed events first, as in JS, then the CONNECT reply.
		if !s.sendMissed(r) {
			return
		}
	} else {
		s.mu.Lock()
		s.state = stateConnected
		s.plain.Store(s.rec == nil && len(s.cbs().anyOut) == 0)
		s.mu.Unlock()
		s.Join(s.id)
		// Listed only once broadcasts reach it, so that whoever sees it in
		// Sockets() and broadcasts reaches it too.
		n.register(s)
	}
	_ = s.conn.send(encodeMsgs(p), sendNow)
	for _, fn := range onConn {
		fn(s)
	}
	s.mu.Lock()
	s.handlers.trim() // handlers registered from now on grow it again
	s.mu.Unlock()
}

// runMiddleware turns a panic into a refusal, so that the socket does not
// stay half-connected.
func runMiddleware(mw func(*Socket) error, s *Socket) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.nsp.srv.log.Error("socketio: middleware panicked", "nsp", s.nsp.name, "panic", r)
			err = errors.New("middleware error")
		}
	}()
	return mw(s)
}

// register lists s among the namespace's sockets. It runs on s's task
// goroutine, like close, so s cannot be closed meanwhile.
func (n *Namespace) register(s *Socket) {
	n.mu.Lock()
	n.sockets[s.id] = s
	if pid := s.privateID(); pid != "" {
		n.byPID[pid] = s
	}
	n.mu.Unlock()
}

func (n *Namespace) removeSocket(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] != s {
		n.mu.Unlock()
		return
	}
	delete(n.sockets, s.id)
	if pid := s.privateID(); pid != "" && n.byPID[pid] == s {
		delete(n.byPID, pid)
	}
	empty := len(n.sockets) == 0
	n.mu.Unlock()
	if empty && n.parent != nil && n.srv.opts.CleanupEmptyChildNamespaces {
		n.srv.removeChild(n)
	}
}

func (n *Namespace) nextAckID() uint64 { return n.ackIDs.Add(1) - 1 }

// broadcaster returns an operator over every socket of the namespace.
func (n *Namespace) broadcaster() BroadcastOperator { return newOperator(n) }

// To returns an operator that broadcasts to rooms.
func (n *Namespace) To(rooms ...string) BroadcastOperator { return n.broadcaster().To(rooms...) }

// In is To.
func (n *Namespace) In(rooms ...string) BroadcastOperator { return n.To(rooms...) }

// Except returns an operator that leaves out the members of rooms.
func (n *Namespace) Except(rooms ...string) BroadcastOperator {
	return n.broadcaster().Except(rooms...)
}

// Local returns an operator that stays on this server.
func (n *Namespace) Local() BroadcastOperator { return n.broadcaster().Local() }

// Volatile returns an operator whose events may be dropped for clients that
// cannot take them right now.
func (n *Namespace) Volatile() BroadcastOperator { return n.broadcaster().Volatile() }

// Compress returns an operator with the compress flag set.
func (n *Namespace) Compress(compress bool) BroadcastOperator {
	return n.broadcaster().Compress(compress)
}

// Emit broadcasts an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error {
	return n.broadcaster().Emit(event, args...)
}

// EmitWithAck broadcasts an event to every socket and collects the first
// acknowledgement argument of each, see BroadcastOperator.EmitWithAck.
func (n *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]*Reply, error) {
	return n.broadcaster().EmitWithAck(ctx, event, args...)
}

// FetchSockets returns the sockets of the namespace, on every server.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.broadcaster().FetchSockets(ctx)
}

// SocketsJoin makes every socket join rooms.
func (n *Namespace) SocketsJoin(rooms ...string) error { return n.broadcaster().SocketsJoin(rooms...) }

// SocketsLeave makes every socket leave rooms.
func (n *Namespace) SocketsLeave(rooms ...string) error {
	return n.broadcaster().SocketsLeave(rooms...)
}

// DisconnectSockets disconnects every socket (closing their connections
// when close is set).
func (n *Namespace) DisconnectSockets(close bool) error {
	return n.broadcaster().DisconnectSockets(close)
}

var serverSideReserved = map[string]bool{"connect": true, "connection": true, "new_namespace": true}

func serverSideArgs(event string, args []any) ([]json.RawMessage, error) {
	if serverSideReserved[event] {
		return nil, fmt.Errorf("%w: %q is a reserved event name", ErrReservedEvent, event)
	}
	out := make([]json.RawMessage, 0, 1+len(args))
	for _, v := range append([]any{event}, args...) {
		raw, err := parser.Marshal(v)
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	return out, nil
}

// ServerSideEmit sends an event to the other servers of the cluster, whose
// OnServerSideEmit handlers receive it. The in-memory adapter has no other
// server and returns adapter.ErrServerSideEmitUnsupported.
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	raw, err := serverSideArgs(event, args)
	if err != nil {
		return err
	}
	return n.adapter.ServerSideEmit(context.Background(), raw, nil)
}

// ServerSideEmitWithAck sends an event to the other servers and waits, until
// ctx is done, for one reply from each.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	raw, err := serverSideArgs(event, args)
	if err != nil {
		return nil, err
	}
	type result struct {
		replies []json.RawMessage
		err     error
	}
	done := make(chan result, 1)
	if err := n.adapter.ServerSideEmit(ctx, raw, func(replies []json.RawMessage, err error) {
		done <- result{replies, err}
	}); err != nil {
		return nil, err
	}
	select {
	case r := <-done:
		return r.replies, r.err
	case <-ctx.Done():
		return nil, ctxError(ctx)
	}
}

// OnServerSideEmit registers a handler for the events other servers send
// with ServerSideEmit; ack answers a ServerSideEmitWithAck (first call only).
// It runs on the adapter's goroutine: keep it short.
func (n *Namespace) OnServerSideEmit(handler func(event string, args []json.RawMessage, ack func(reply any))) {
	n.mu.Lock()
	n.onServerSide = append(n.onServerSide, handler)
	n.mu.Unlock()
}

// adapterNamespace implements adapter.Namespace without adding its methods
// to Namespace's API.
type adapterNamespace Namespace

func (a *adapterNamespace) Name() string      { return a.name }
func (a *adapterNamespace) NextAckID() uint64 { return (*Namespace)(a).nextAckID() }

// MaxDisconnectionDuration implements adapter.RecoveryNamespace.
func (a *adapterNamespace) MaxDisconnectionDuration() time.Duration {
	if csr := a.srv.opts.ConnectionStateRecovery; csr != nil {
		return csr.MaxDisconnectionDuration
	}
	return 0
}
func (a *adapterNamespace) Prepare(p *parser.Packet) (adapter.Prepared, error) {
	pp := encode(p)
	if p.Type == parser.Event || p.Type == parser.BinaryEvent {
		pp.name, _ = p.EventName()
	}
	return pp, nil
}

func (a *adapterNamespace) ServerSideEmit(args []json.RawMessage, ack func(json.RawMessage)) {
	n := (*Namespace)(a)
	if len(args) == 0 {
		return
	}
	var event string
	if err := json.Unmarshal(args[0], &event); err != nil {
		return
	}
	n.mu.RLock()
	handlers := n.onServerSide
	n.mu.RUnlock()
	var once sync.Once
	reply := func(v any) {
		if ack == nil {
			return
		}
		once.Do(func() {
			raw, err := parser.Marshal(v)
			if err != nil {
				raw = json.RawMessage("null")
			}
			ack(raw)
		})
	}
	for _, fn := range handlers {
		fn(event, args[1:], reply)
	}
}

// ParentNamespace matches namespace names dynamically (Server.OfRegexp,
// Server.OfFunc): a client connecting to a matching name gets a child
// namespace that runs the parent's middlewares and handlers, then its own.
type ParentNamespace struct {
	srv      *Server
	match    func(name string, auth json.RawMessage) bool
	byRegexp bool // Server.Of also creates children of regexp parents

	mu          sync.RWMutex
	middlewares []func(*Socket) error
	onConn      []func(*Socket)
	children    map[string]*Namespace
}

// Use registers a middleware for the sockets of every child.
func (p *ParentNamespace) Use(mw func(*Socket) error) {
	p.mu.Lock()
	p.middlewares = append(p.middlewares, mw)
	p.mu.Unlock()
}

// OnConnection registers a connection handler for every child.
func (p *ParentNamespace) OnConnection(handler func(*Socket)) {
	p.mu.Lock()
	p.onConn = append(p.onConn, handler)
	p.mu.Unlock()
}

// Children returns the child namespaces created so far.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, c := range p.children {
		out = append(out, c)
	}
	return out
}

// Emit broadcasts an event to every socket of every child.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	var errs []error
	for _, c := range p.Children() {
		errs = append(errs, c.Emit(event, args...))
	}
	return errors.Join(errs...)
}
