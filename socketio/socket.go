package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/internal/taskqueue"
	"github.com/seed9706/socketio/parser"
)

// Handshake describes the first HTTP request of a client's connection and
// the auth payload of its CONNECT packet (JS socket.handshake).
type Handshake = adapter.Handshake

type socketState uint8

const (
	stateConnecting socketState = iota // middlewares running
	stateConnected
	stateClosing // disconnect handlers running
	stateClosed
)

// Socket is one client connected to one namespace (JS server-side Socket).
// Its methods are safe for concurrent use. Its handlers run one at a time,
// in the order the packets arrived, never holding up the connection's
// reading.
type Socket struct {
	id     string
	nsp    *Namespace
	conn   *conn
	hs     atomic.Pointer[Handshake] // built on first use: most sockets never need it
	issued int64                     // creation time, Unix milliseconds
	auth   string                    // CONNECT payload (a copy: the message can go)
	queue  taskqueue.Queue[*parser.Packet]
	// rec is the connection state recovery of the socket, nil when the
	// server does not recover sessions; set on the task goroutine before
	// the socket is connected.
	rec *recoveryState

	mu            sync.Mutex
	sigCh         *[2]chan struct{} // by signal, made on demand (see wait)
	state         socketState
	disconnecting bool  // Disconnect or a close task is under way
	fired         uint8 // bit i: signal i fired
	recovered     bool
	// plain is set, under mu, while the socket is connected with neither
	// recovery nor OnAnyOutgoing handlers: a broadcast's Deliver then
	// queues without taking mu (a lock pair per recipient).
	plain    atomic.Bool
	data     any
	handlers handlerSet
	cb       *callbacks // nil until one is registered
	acks     map[uint64]func(*parser.Packet)
}

// recoveryState is what a socket of a server with connection state
// recovery keeps for it (most servers have none: a pointer, not fields).
type recoveryState struct {
	// Set on the task goroutine before the socket is connected: private
	// id, offset of the session start.
	pid        string
	baseOffset string
	held       *heldDeliveries // guarded by Socket.mu: non-nil while the socket is being restored
	// replayed, guarded by Socket.mu, holds the offsets sent during the
	// recovery, until the first live delivery of another offset: an
	// adapter may deliver a packet live after the replay carried it (a
	// Redis Streams reader that lags behind the stream, or a broadcast
	// stored before its local delivery).
	replayed map[string]bool
}

// privateID is the recovery private id, "" without recovery.
func (s *Socket) privateID() string {
	if s.rec == nil {
		return ""
	}
	return s.rec.pid
}

// restoringLocked reports whether the socket is being restored; s.mu is held.
func (s *Socket) restoringLocked() bool { return s.rec != nil && s.rec.held != nil }

func newSocket(nsp *Namespace, c *conn, auth string) *Socket {
	s := &Socket{
		id:     newID(),
		nsp:    nsp,
		conn:   c,
		issued: time.Now().UnixMilli(),
		auth:   auth,
	}
	s.queue.Init(&nsp.srv.tasks, s.dispatch)
	return s
}

// newID returns 20 URL-safe characters from 15 random bytes, like the JS
// server's socket ids.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}

// jsDate formats t like JavaScript's Date.toString in UTC. By hand:
// time.Format's large frames grow the stack of a fresh read goroutine,
// which costs more than the formatting at connection setup.
func jsDate(t time.Time) string {
	const days, months = "SunMonTueWedThuFriSat", "JanFebMarAprMayJunJulAugSepOctNovDec"
	const zone = " GMT+0000 (Coordinated Universal Time)"
	t = t.UTC()
	year, month, day := t.Date()
	if year < 1000 || year > 9999 {
		return t.Format("Mon Jan 02 2006 15:04:05") + zone
	}
	hour, minute, sec := t.Clock()
	var b [24 + len(zone)]byte
	wd := int(t.Weekday()) * 3
	m := (int(month) - 1) * 3
	two := func(i, v int) { b[i], b[i+1] = byte('0'+v/10), byte('0'+v%10) }
	copy(b[0:3], days[wd:wd+3])
	b[3] = ' '
	copy(b[4:7], months[m:m+3])
	b[7] = ' '
	two(8, day)
	b[10] = ' '
	two(11, year/100)
	two(13, year%100)
	b[15] = ' '
	two(16, hour)
	b[18] = ':'
	two(19, minute)
	b[21] = ':'
	two(22, sec)
	copy(b[24:], zone)
	return string(b[:])
}

func newHandshake(c *conn, issued int64, auth string) *Handshake {
	h := &Handshake{
		Time:   jsDate(time.UnixMilli(issued)),
		Issued: issued,
		Auth:   json.RawMessage(auth),
	}
	if r := c.sess.Request(); r != nil {
		h.Headers = r.Header // a copy already: no second one
		if h.Headers.Get("Host") == "" && r.Host != "" {
			h.Headers.Set("Host", r.Host) // net/http moves it out of Header; JS keeps it in headers
		}
		h.XDomain = r.Header.Get("Origin") != ""
		h.Secure = r.TLS != nil
		h.URL = r.URL.RequestURI()
		h.Query = r.URL.Query()
		h.Address = r.RemoteAddr
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			h.Address = host
		}
	}
	return h
}

// ID is the socket id: 20 random characters, not the Engine.IO session id.
func (s *Socket) ID() string { return s.id }

// Namespace is the namespace the socket belongs to.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns the handshake details. Do not modify them.
func (s *Socket) Handshake() *Handshake {
	if h := s.hs.Load(); h != nil {
		return h
	}
	// Built from the session's saved request, which does not change: a
	// racing call builds the same, and the first one stored wins.
	h := newHandshake(s.conn, s.issued, s.auth)
	if !s.hs.CompareAndSwap(nil, h) {
		return s.hs.Load()
	}
	return h
}

// Request is the first HTTP request of the client's connection (its body is
// not readable).
func (s *Socket) Request() *http.Request { return s.conn.sess.Request() }

// Transport is the current Engine.IO transport, "polling" or "websocket".
func (s *Socket) Transport() string { return s.conn.sess.Transport() }

// Data returns the user data set with SetData (nil by default). It is sent
// with FetchSockets.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData sets the user data.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Connected reports whether the socket is connected (after its middlewares
// and before its disconnect).
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateConnected
}

// On registers handler for event. Handlers of one socket run one at a time
// in arrival order; a handler may block (for example in EmitWithAck) at the
// cost of delaying the socket's next events.
func (s *Socket) On(event string, handler func(*Event)) {
	s.addListener(event, handler, false)
}

// Once registers handler for the next event only.
func (s *Socket) Once(event string, handler func(*Event)) {
	s.addListener(event, handler, true)
}

func (s *Socket) addListener(event string, fn func(*Event), once bool) {
	s.mu.Lock()
	s.handlers.add(event, fn, once)
	s.mu.Unlock()
}

// Off removes every handler of event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	s.handlers.remove(event)
	s.mu.Unlock()
}

// OnAny registers a handler called for every received event, before the
// handlers of the event.
func (s *Socket) OnAny(handler func(*Event)) {
	s.mu.Lock()
	cb := s.cbForWrite()
	cb.anyIn = append(cb.anyIn, handler)
	s.mu.Unlock()
}

// OffAny removes every OnAny handler.
func (s *Socket) OffAny() {
	s.mu.Lock()
	if s.cb != nil {
		s.cb.anyIn = nil
	}
	s.mu.Unlock()
}

// OnAnyOutgoing registers a handler called for every event sent to the
// client, broadcasts included (acknowledgements are not events). It runs on
// the sender's goroutine and must not block.
func (s *Socket) OnAnyOutgoing(handler func(*Event)) {
	s.mu.Lock()
	cb := s.cbForWrite()
	cb.anyOut = append(cb.anyOut, handler)
	s.plain.Store(false)
	s.mu.Unlock()
}

// OffAnyOutgoing removes every OnAnyOutgoing handler.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	if s.cb != nil {
		s.cb.anyOut = nil
	}
	s.plain.Store(s.state == stateConnected && s.rec == nil)
	s.mu.Unlock()
}

// Use registers a middleware run for each received event before any
// handler; an error drops the event and is passed to the OnError handlers.
func (s *Socket) Use(mw func(*Event) error) {
	s.mu.Lock()
	cb := s.cbForWrite()
	cb.packetMW = append(cb.packetMW, mw)
	s.mu.Unlock()
}

// OnError registers a handler for errors of the socket: an event rejected by
// a Use middleware, or an invalid packet from the client (the connection is
// then closed). It runs in the socket's handler order.
func (s *Socket) OnError(handler func(error)) {
	s.mu.Lock()
	cb := s.cbForWrite()
	cb.onError = append(cb.onError, handler)
	s.mu.Unlock()
}

// OnDisconnecting registers a handler called when the socket is about to
// disconnect, while Rooms still returns its rooms, with the reason.
func (s *Socket) OnDisconnecting(handler func(reason string)) {
	s.mu.Lock()
	cb := s.cbForWrite()
	cb.onDisconnecting = append(cb.onDisconnecting, handler)
	s.mu.Unlock()
}

// OnDisconnect registers a handler called once the socket has disconnected,
// with the reason (one of the Reason* constants).
func (s *Socket) OnDisconnect(handler func(reason string)) {
	s.mu.Lock()
	cb := s.cbForWrite()
	cb.onDisconnect = append(cb.onDisconnect, handler)
	s.mu.Unlock()
}

// Emit sends an event to this client. []byte arguments are sent as binary
// attachments, json.RawMessage arguments as they are.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, false)
}

func (s *Socket) emit(event string, args []any, volatile bool) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	p, err := parser.NewEvent(s.nsp.name, event, args)
	if err != nil {
		return err
	}
	if s.nsp.srv.opts.ConnectionStateRecovery != nil && s.Connected() {
		// Through the adapter, so that the event is stored and gets an offset.
		return s.nsp.adapter.Broadcast(context.Background(), p, adapter.BroadcastOptions{
			Rooms: []string{s.id}, Flags: adapter.Flags{Volatile: volatile},
		})
	}
	s.notifyOutgoing(p, event)
	return s.sendPacket(p, volatile)
}

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx is done (the ctx deadline plays the role of JS timeout(ms)).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*Reply, error) {
	if err := checkEventName(event); err != nil {
		return nil, err
	}
	p, err := parser.NewEvent(s.nsp.name, event, args)
	if err != nil {
		return nil, err
	}
	p.ID, p.HasID = s.nsp.nextAckID(), true
	got := make(chan *parser.Packet, 1)
	if !s.expectAck(p.ID, func(reply *parser.Packet) { got <- reply }) {
		if !s.isOpen() {
			return nil, ErrDisconnected
		}
		return nil, ErrTooManyPendingAcks
	}
	s.notifyOutgoing(p, event)
	if err := s.sendPacket(p, false); err != nil {
		s.dropAck(p.ID)
		return nil, err
	}
	select {
	case reply := <-got:
		return newReply(reply, false), nil
	case <-ctx.Done():
		s.dropAck(p.ID)
		return nil, ctxError(ctx)
	case <-s.wait(sigClosed):
		return nil, ErrDisconnected
	}
}

// ctxError is ErrTimeout when ctx's deadline passed, else ctx.Err().
func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	return ctx.Err()
}

func (s *Socket) isOpen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state < stateClosed
}

func (s *Socket) expectAck(id uint64, fn func(*parser.Packet)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateClosed || len(s.acks) >= s.nsp.srv.opts.MaxPendingAcks {
		return false
	}
	if s.acks == nil {
		s.acks = make(map[uint64]func(*parser.Packet))
	}
	s.acks[id] = fn
	return true
}

func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// Volatile returns an emitter whose events are dropped when the client's
// transport cannot take them right now.
func (s *Socket) Volatile() Emitter { return Emitter{s: s, volatile: true} }

// Compress returns an emitter with the compress flag set to compress. The
// flag is accepted for compatibility; packets are not compressed yet.
func (s *Socket) Compress(compress bool) Emitter { return Emitter{s: s} }

// Emitter emits to one socket with flags (Socket.Volatile, Socket.Compress).
type Emitter struct {
	s        *Socket
	volatile bool
}

// Volatile sets the volatile flag.
func (e Emitter) Volatile() Emitter { e.volatile = true; return e }

// Compress sets the compress flag (accepted, not applied yet).
func (e Emitter) Compress(bool) Emitter { return e }

// Emit sends the event with the emitter's flags.
func (e Emitter) Emit(event string, args ...any) error { return e.s.emit(event, args, e.volatile) }

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) {
	if !s.isOpen() {
		return
	}
	s.nsp.adapter.AddAll(s.adapterView(), rooms)
	if !s.isOpen() { // closed meanwhile, maybe after close left every room
		s.nsp.adapter.DelAll(s.id)
	}
}

// Leave removes the socket from rooms.
func (s *Socket) Leave(rooms ...string) {
	for _, room := range rooms {
		s.nsp.adapter.Del(s.id, room)
	}
}

// Rooms returns the rooms of the socket, its own id included.
func (s *Socket) Rooms() []string { return s.nsp.adapter.SocketRooms(s.id) }

// To returns an operator that broadcasts to rooms, this socket excluded.
func (s *Socket) To(rooms ...string) BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is To.
func (s *Socket) In(rooms ...string) BroadcastOperator { return s.To(rooms...) }

// Except returns an operator that broadcasts to every socket of the
// namespace but this one and the members of rooms.
func (s *Socket) Except(rooms ...string) BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Broadcast returns an operator that broadcasts to every socket of the
// namespace but this one.
func (s *Socket) Broadcast() BroadcastOperator {
	return newOperator(s.nsp).Except(s.id)
}

// Disconnect disconnects the socket from its namespace (the client gets
// DISCONNECT, reason "server namespace disconnect"). With close, every
// namespace of the client is disconnected and the connection is closed.
func (s *Socket) Disconnect(close bool) {
	if close {
		s.conn.disconnectAll()
		return
	}
	s.mu.Lock()
	if s.state != stateConnected || s.disconnecting {
		s.mu.Unlock()
		return
	}
	s.disconnecting = true
	s.mu.Unlock()
	s.conn.removeSocket(s)
	if p, err := parser.NewDisconnect(s.nsp.name); err == nil {
		_ = s.sendPacket(p, false)
	}
	s.closeAsync(ReasonServerNamespaceDisconnect)
}

// sendPacket encodes p and queues it on the connection.
func (s *Socket) sendPacket(p *parser.Packet, volatile bool) error {
	if !s.isOpen() {
		return ErrDisconnected
	}
	mode := sendNow
	if volatile {
		mode = sendVolatile
	}
	return s.conn.send(encodeMsgs(p), mode)
}

func (s *Socket) notifyOutgoing(p *parser.Packet, name string) {
	s.mu.Lock()
	listeners := s.cbs().anyOut
	s.mu.Unlock()
	if len(listeners) == 0 {
		return
	}
	e := newEvent(s, p, name)
	for _, fn := range listeners {
		fn(e)
	}
}

// onPacket routes a packet of this socket's namespace, on the read path.
func (s *Socket) onPacket(p *parser.Packet) {
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		s.mu.Lock()
		ok := s.state == stateConnected
		s.mu.Unlock()
		switch {
		case !ok:
		case s.conn.sess.CanRunInline() && s.queue.Claim(p):
			// No handler at work: this one runs on the read goroutine.
			s.conn.sess.RunInline(&s.queue)
		default:
			s.queue.PushWait(context.Background(), p)
		}
	case parser.Ack, parser.BinaryAck:
		// Resolved here, not behind the handlers, so that a handler blocked
		// in EmitWithAck gets its reply.
		s.mu.Lock()
		fn := s.acks[p.ID]
		delete(s.acks, p.ID)
		s.mu.Unlock()
		if fn != nil {
			fn(p)
		}
	case parser.Disconnect:
		// Forgotten by the connection at once, like JS: the client may
		// CONNECT again right away.
		s.conn.removeSocket(s)
		s.closeAsync(ReasonClientNamespaceDisconnect)
	}
}

// dispatch runs the middlewares and handlers of one event, on the socket's
// task goroutine.
func (s *Socket) dispatch(p *parser.Packet) {
	name, err := p.EventName()
	if err != nil {
		return
	}
	e := newEvent(s, p, name)
	s.mu.Lock()
	if s.state != stateConnected {
		s.mu.Unlock()
		return
	}
	mws, anyIn := s.cbs().packetMW, s.cbs().anyIn
	var buf [4]listener // a copy: the set may change while they run
	list := s.handlers.take(buf[:0], name)
	s.mu.Unlock()
	for _, mw := range mws {
		if err := mw(e); err != nil {
			s.emitError(err)
			return
		}
	}
	for _, fn := range anyIn {
		fn(e)
	}
	for _, l := range list {
		l.fn(e)
	}
}

func (s *Socket) emitError(err error) {
	s.mu.Lock()
	handlers := s.cbs().onError
	s.mu.Unlock()
	for _, fn := range handlers {
		fn(err)
	}
}

// closeAsync queues the socket's close with reason behind its pending events.
func (s *Socket) closeAsync(reason string) {
	s.queue.Push(func() { s.close(reason) })
}

// close runs on the task goroutine: disconnecting handlers, leave every
// room, forget the socket, disconnect handlers.
func (s *Socket) close(reason string) {
	s.mu.Lock()
	if s.state >= stateClosing {
		s.mu.Unlock()
		return
	}
	defer s.fire(sigFinished)
	wasConnected := s.state == stateConnected
	s.state = stateClosing
	s.plain.Store(false)
	s.disconnecting = true
	if s.rec != nil {
		s.rec.held = nil
	}
	onDisconnecting := s.cbs().onDisconnecting
	s.mu.Unlock()

	if wasConnected {
		for _, fn := range onDisconnecting {
			fn(reason)
		}
		s.persist(reason)
	}
	s.mu.Lock()
	s.state = stateClosed
	s.acks = nil
	onDisconnect := s.cbs().onDisconnect
	s.mu.Unlock()
	// Rooms are left after the state change: a racing Join sees it and
	// cleans up after itself.
	s.nsp.adapter.DelAll(s.id)
	s.nsp.removeSocket(s)
	s.conn.removeSocket(s)
	s.fire(sigClosed)
	if wasConnected {
		s.nsp.srv.log.Debug("socketio: socket disconnected", "sid", s.id, "nsp", s.nsp.name, "reason", reason)
		for _, fn := range onDisconnect {
			fn(reason)
		}
	}
}

// callbacks are the socket's handlers other than its event handlers,
// allocated on first registration.
type callbacks struct {
	anyIn           []func(*Event)
	anyOut          []func(*Event)
	packetMW        []func(*Event) error
	onError         []func(error)
	onDisconnecting []func(reason string)
	onDisconnect    []func(reason string)
}

var noCallbacks callbacks // read only

// cbs returns the callbacks for reading; s.mu must be held.
func (s *Socket) cbs() *callbacks {
	if s.cb == nil {
		return &noCallbacks
	}
	return s.cb
}

// cbForWrite returns the callbacks, allocating them; s.mu must be held.
func (s *Socket) cbForWrite() *callbacks {
	if s.cb == nil {
		s.cb = new(callbacks)
	}
	return s.cb
}

// A signal is a one-time event of a socket (sigClosed, sigFinished) with a
// channel made only when someone waits for it: most sockets close with no
// one waiting.
type signal uint8

const (
	sigClosed   signal = iota // the socket is disconnected
	sigFinished               // its disconnect handlers returned
)

// wait returns a channel closed once sig fired.
func (s *Socket) wait(sig signal) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fired&(1<<sig) != 0 {
		return closedChan
	}
	if s.sigCh == nil {
		s.sigCh = new([2]chan struct{})
	}
	if s.sigCh[sig] == nil {
		s.sigCh[sig] = make(chan struct{})
	}
	return s.sigCh[sig]
}

func (s *Socket) fire(sig signal) {
	s.mu.Lock()
	s.fired |= 1 << sig
	if s.sigCh != nil && s.sigCh[sig] != nil {
		close(s.sigCh[sig])
	}
	s.mu.Unlock()
}

// adapterView is the socket as its adapter sees it.
func (s *Socket) adapterView() *adapterSocket { return (*adapterSocket)(s) }

// adapterSocket implements adapter.Socket without adding its methods to
// Socket's API.
type adapterSocket Socket

func (a *adapterSocket) s() *Socket                    { return (*Socket)(a) }
func (a *adapterSocket) ID() string                    { return a.id }
func (a *adapterSocket) Handshake() *adapter.Handshake { return a.s().Handshake() }
func (a *adapterSocket) Rooms() []string               { return a.s().Rooms() }
func (a *adapterSocket) Data() any                     { return a.s().Data() }
func (a *adapterSocket) Connected() bool {
	s := a.s()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateConnected || s.restoringLocked()
}
func (a *adapterSocket) Join(rooms ...string)  { a.s().Join(rooms...) }
func (a *adapterSocket) Leave(rooms ...string) { a.s().Leave(rooms...) }
func (a *adapterSocket) Disconnect(close bool) { a.s().Disconnect(close) }
func (a *adapterSocket) ExpectAck(id uint64, fn func(*parser.Packet)) bool {
	return a.s().expectAck(id, fn)
}

func (a *adapterSocket) Deliver(p adapter.Prepared, flags adapter.Flags) bool {
	s := a.s()
	pp := p.(*prepared)
	mode := sendLater
	if flags.Volatile {
		mode = sendVolatile
	}
	if s.plain.Load() {
		return s.conn.send(pp.msgs, mode) == nil
	}
	s.mu.Lock()
	if s.restoringLocked() {
		ok := s.holdLocked(pp, flags)
		s.mu.Unlock()
		return ok
	}
	if s.rec != nil && s.rec.replayed != nil && s.replayedLocked(pp) {
		s.mu.Unlock()
		return true
	}
	connected, listeners := s.state == stateConnected, s.cbs().anyOut
	s.mu.Unlock()
	if !connected {
		return false
	}
	s.notify(pp, listeners)
	return s.conn.send(pp.msgs, mode) == nil
}

// notify calls the OnAnyOutgoing listeners for an event.
func (s *Socket) notify(pp *prepared, listeners []func(*Event)) {
	if len(listeners) > 0 && pp.name != "" {
		e := newEvent(s, pp.pkt, pp.name)
		for _, fn := range listeners {
			fn(e)
		}
	}
}
