package client

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed9706/socketio/engineio"
	"github.com/seed9706/socketio/parser"
)

// Socket is the client side of one namespace, multiplexed with the other
// namespaces of its Manager over one connection (the JS client Socket).
type Socket struct {
	m       *Manager
	nsp     string
	opts    SocketOptions
	created int64 // creation order, for stable iteration

	mu         sync.Mutex
	hooks      []chan hookEvent // ConnectWait calls waiting
	active     bool             // will (re)connect automatically
	openedOn   *engineConn      // the connection our CONNECT was sent on
	conn       *engineConn      // set while connected
	id         string
	pid        string // connection state recovery: private id and last offset
	lastOffset string
	recovered  bool
	recoverErr error // why the last connection did not recover the previous session
	ids        uint64
	acks       map[uint64]*ackEntry
	sendBuffer []*parser.Packet // emitted while disconnected
	recvBuffer []*Event         // received before CONNECT was acknowledged
	recvLost   int              // events dropped because recvBuffer was full
	queue      []*queuedEmit    // retries: only the head is in flight
	handlers   socketHandlers
}

type socketHandlers struct {
	events       map[string][]listener
	anyIn        []func(*Event)
	anyOut       []func(*Event)
	connect      []func()
	connectError []func(error)
	disconnect   []func(reason string)
}

// listener is an event handler; a once handler is removed when it is called.
type listener struct {
	fn   func(*Event)
	once bool
}

// ackEntry is an acknowledgement we wait for.
type ackEntry struct {
	pkt       *parser.Packet
	timer     *time.Timer
	withError bool                // gets ErrDisconnected on disconnection (else dropped)
	resolve   func(*Reply, error) // never blocks; called without locks
}

// queuedEmit is an emit with at-least-once delivery (SocketOptions.Retries).
type queuedEmit struct {
	pkt     *parser.Packet // without ack id; each try gets its own
	tries   int
	pending bool
	resolve func(*Reply, error) // nil for Emit
}

type hookEvent struct {
	connected bool
	err       error
	fatal     bool // the socket gave up
}

var socketSeq atomic.Int64 // creation order of sockets

func newSocket(m *Manager, nsp string, opts *SocketOptions) *Socket {
	return &Socket{m: m, nsp: nsp, opts: opts.withDefaults(), created: socketSeq.Add(1), acks: make(map[uint64]*ackEntry),
		handlers: socketHandlers{events: make(map[string][]listener)}}
}

// Namespace returns the namespace of the socket.
func (s *Socket) Namespace() string { return s.nsp }

// Manager returns the Manager of the socket.
func (s *Socket) Manager() *Manager { return s.m }

// ID returns the socket id given by the server, "" while not connected.
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Connected reports whether the socket is connected to its namespace.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil
}

// Active reports whether the socket is connected or will (re)connect
// automatically: false after Disconnect, a server disconnect or a refusal.
func (s *Socket) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Recovered reports whether the last connection recovered the session
// (connection state recovery: same private id, missed packets replayed).
func (s *Socket) Recovered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovered
}

// RecoveryError tells why the last connection did not recover the previous
// session, so that the application knows it must resynchronise: an error
// wrapping ErrNotRecovered, or nil after a first connection and after a
// recovered reconnection. The official server does not say why it refused
// a session; the error tells what the client can know.
func (s *Socket) RecoveryError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recoverErr
}

// On registers fn for event. Handlers of a Manager run in order, one at a
// time, on one goroutine.
func (s *Socket) On(event string, fn func(*Event)) { s.addListener(event, listener{fn: fn}) }

// Once registers fn for the next event only.
func (s *Socket) Once(event string, fn func(*Event)) {
	s.addListener(event, listener{fn: fn, once: true})
}

func (s *Socket) addListener(event string, l listener) {
	s.onHandlers(func(h *socketHandlers) { h.events[event] = append(h.events[event], l) })
}

// Off removes every handler of event.
func (s *Socket) Off(event string) { s.onHandlers(func(h *socketHandlers) { delete(h.events, event) }) }

// OnAny registers fn for every received event, called before the handlers of the event.
func (s *Socket) OnAny(fn func(*Event)) {
	s.onHandlers(func(h *socketHandlers) { h.anyIn = append(h.anyIn, fn) })
}

// OffAny removes every OnAny handler.
func (s *Socket) OffAny() { s.onHandlers(func(h *socketHandlers) { h.anyIn = nil }) }

// OnAnyOutgoing registers fn for every event sent (not acknowledgements),
// called when it is written to the connection.
func (s *Socket) OnAnyOutgoing(fn func(*Event)) {
	s.onHandlers(func(h *socketHandlers) { h.anyOut = append(h.anyOut, fn) })
}

// OffAnyOutgoing removes every OnAnyOutgoing handler.
func (s *Socket) OffAnyOutgoing() { s.onHandlers(func(h *socketHandlers) { h.anyOut = nil }) }

// OnConnect registers fn for each connection to the namespace.
func (s *Socket) OnConnect(fn func()) {
	s.onHandlers(func(h *socketHandlers) { h.connect = append(h.connect, fn) })
}

// OnConnectError registers fn for connection failures: a *ConnectError when
// the server refused (the socket then gives up), else the transport error
// (the Manager retries).
func (s *Socket) OnConnectError(fn func(error)) {
	s.onHandlers(func(h *socketHandlers) { h.connectError = append(h.connectError, fn) })
}

// OnDisconnect registers fn for each disconnection, with its reason (see the
// Reason constants).
func (s *Socket) OnDisconnect(fn func(reason string)) {
	s.onHandlers(func(h *socketHandlers) { h.disconnect = append(h.disconnect, fn) })
}

func (s *Socket) onHandlers(change func(*socketHandlers)) {
	s.mu.Lock()
	change(&s.handlers)
	s.mu.Unlock()
}

// callHandlers runs, on the callback goroutine, the handlers registered
// now (not those added later). The caller must not hold s.mu.
func callHandlers[T any](s *Socket, pick func(*socketHandlers) []T, call func(T)) {
	s.mu.Lock()
	fns := pick(&s.handlers)
	s.mu.Unlock()
	pushEach(&s.m.dispatch, fns, call)
}

// signal tells the ConnectWait calls about ev without blocking. When a
// waiter's buffer is full, a transient error is dropped, but an outcome
// (connected, or fatal) takes the place of an older event: it must arrive.
func (s *Socket) signal(ev hookEvent) {
	s.mu.Lock()
	hooks := slices.Clone(s.hooks)
	s.mu.Unlock()
	for _, hook := range hooks {
		for {
			select {
			case hook <- ev:
			default:
				if ev.connected || ev.fatal {
					select {
					case <-hook:
					default:
					}
					continue
				}
			}
			break
		}
	}
}

// Connect connects the socket, opening the Manager's connection if needed.
// It returns at once; see OnConnect and OnConnectError (ErrClosed once the
// Manager is closed), or use ConnectWait.
func (s *Socket) Connect() {
	s.mu.Lock()
	if s.conn != nil {
		s.mu.Unlock()
		return
	}
	s.active = true
	s.mu.Unlock()
	m := s.m
	m.mu.Lock()
	closed := m.closed
	if !closed && !m.reconnecting {
		m.openLocked(false)
	}
	ec := m.conn
	m.mu.Unlock()
	if closed {
		s.mu.Lock()
		s.active = false
		s.mu.Unlock()
		s.connectError(ErrClosed, true)
		return
	}
	if ec != nil {
		s.onOpen(ec)
	}
}

// Disconnect leaves the namespace (a DISCONNECT packet when connected); the
// socket does not reconnect. Every EmitWithAck still waiting fails with
// ErrDisconnected, those buffered while offline too (they are dropped);
// plain emits stay buffered for a later Connect. The Manager closes the
// connection when no socket is left.
func (s *Socket) Disconnect() {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		if p, err := parser.NewDisconnect(s.nsp); err == nil {
			_ = conn.send(p)
		}
	}
	s.destroy()
	if conn != nil {
		s.closed(ReasonIOClientDisconnect)
	}
	s.abandonAcks()
	s.signal(hookEvent{err: ErrDisconnected, fatal: true}) // ends a ConnectWait
}

// abandonAcks fails the acknowledgements that closed leaves waiting for a
// reconnection (buffered packets, the retry queue): after Disconnect none
// comes, and their callers would wait for ever.
func (s *Socket) abandonAcks() {
	s.mu.Lock()
	acks := s.acks
	s.acks = make(map[uint64]*ackEntry)
	for _, e := range acks {
		s.removeBufferedLocked(e.pkt)
	}
	var queued []*queuedEmit // EmitWithAck with Retries; plain emits stay
	s.queue = slices.DeleteFunc(s.queue, func(q *queuedEmit) bool {
		if q.resolve != nil {
			queued = append(queued, q)
		}
		return q.resolve != nil
	})
	s.mu.Unlock()
	// The ack entry of a retry only updates the queue (onQueueAck).
	failAcks(slices.Collect(maps.Values(acks)))
	for _, q := range queued {
		q.resolve(nil, ErrDisconnected)
	}
}

// destroy makes the socket inactive.
func (s *Socket) destroy() {
	s.mu.Lock()
	s.active, s.openedOn = false, nil
	s.mu.Unlock()
	s.m.destroyed()
}

// onOpen sends CONNECT on the Manager's new connection ec, with the auth
// payload computed on the callback goroutine.
func (s *Socket) onOpen(ec *engineConn) {
	s.mu.Lock()
	if !s.active || s.openedOn == ec {
		s.mu.Unlock()
		return
	}
	s.openedOn = ec
	s.mu.Unlock()
	s.m.dispatch.Push(func() {
		auth, err := s.opts.Auth, error(nil)
		if s.opts.AuthFunc != nil {
			auth, err = s.opts.AuthFunc()
		}
		var p *parser.Packet
		if err == nil {
			s.mu.Lock()
			if !s.active || s.openedOn != ec {
				s.mu.Unlock()
				return
			}
			var payload any
			if payload, err = s.connectPayloadLocked(auth); err == nil {
				p, err = parser.NewConnect(s.nsp, payload)
			}
			s.mu.Unlock()
		}
		if err != nil {
			s.destroy()
			s.connectError(err, true)
			return
		}
		if err := ec.send(p); err != nil { // closing, or its queue is full
			s.m.log.Debug("client: CONNECT not sent", "nsp", s.nsp, "err", err)
		}
	})
}

// connectPayloadLocked is auth, preceded by the private id and offset of
// the previous session when there is one (connection state recovery).
func (s *Socket) connectPayloadLocked(auth any) (any, error) {
	if s.pid == "" {
		return auth, nil
	}
	b := []byte(`{"pid":`)
	b, _ = parser.AppendMarshal(b, s.pid)
	if s.lastOffset != "" {
		b = append(b, `,"offset":`...)
		b, _ = parser.AppendMarshal(b, s.lastOffset)
	}
	if auth != nil {
		a, err := parser.Marshal(auth)
		if err != nil {
			return nil, err
		}
		if len(a) < 2 || a[0] != '{' {
			return nil, fmt.Errorf("client: auth must be a JSON object, got %s", a)
		}
		if len(a) > 2 {
			b = append(append(b, ','), a[1:len(a)-1]...)
		}
	}
	return json.RawMessage(append(b, '}')), nil
}

func (s *Socket) connectError(err error, fatal bool) {
	callHandlers(s, func(h *socketHandlers) []func(error) { return h.connectError }, func(fn func(error)) { fn(err) })
	s.signal(hookEvent{err: err, fatal: fatal})
}

// onManagerError reports a failed connection attempt to an active,
// unconnected socket.
func (s *Socket) onManagerError(err error) {
	s.mu.Lock()
	report := s.active && s.conn == nil
	s.mu.Unlock()
	if report {
		s.connectError(err, false)
	}
}

func (s *Socket) hookReconnectFailed() {
	if s.Active() {
		s.signal(hookEvent{err: ErrReconnectFailed, fatal: true})
	}
}

// onPacket handles a packet of our namespace, on the connection's reader.
func (s *Socket) onPacket(ec *engineConn, p *parser.Packet) {
	s.mu.Lock()
	active := s.active
	s.mu.Unlock()
	if !active {
		return
	}
	switch p.Type {
	case parser.Connect:
		sid, pid, ok := connectReply(p.Data)
		if !ok {
			s.connectError(ErrV2Server, false)
			return
		}
		s.onConnect(ec, sid, pid)
	case parser.Event, parser.BinaryEvent:
		s.onEvent(ec, p)
	case parser.Ack, parser.BinaryAck:
		s.onAck(p)
	case parser.Disconnect:
		s.destroy()
		s.closed(ReasonIOServerDisconnect)
	case parser.ConnectError:
		s.destroy()
		s.connectError(connectErrorOf(p.Data), true)
	}
}

// connectReply reads the server's CONNECT payload {"sid":...,"pid":...};
// ok is false without a sid (a Socket.IO v2 server).
func connectReply(data []byte) (sid, pid string, ok bool) {
	var d struct {
		SID string `json:"sid"`
		PID string `json:"pid"`
	}
	if json.Unmarshal(data, &d) != nil || d.SID == "" {
		return "", "", false
	}
	return d.SID, d.PID, true
}

// connectErrorOf reads a CONNECT_ERROR payload {"message":...,"data":...}
// (or a bare string, from old servers).
func connectErrorOf(data []byte) *ConnectError {
	var d struct {
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if json.Unmarshal(data, &d) != nil {
		d.Message, d.Data = string(data), nil
		_ = json.Unmarshal(data, &d.Message)
	}
	return &ConnectError{Message: d.Message, Data: d.Data}
}

// offsetOf returns the last argument of an event when it is a string: with
// connection state recovery, the server appends the event's offset.
func offsetOf(args []json.RawMessage) (string, bool) {
	if len(args) == 0 {
		return "", false
	}
	last := args[len(args)-1]
	var offset string
	if len(last) == 0 || last[0] != '"' || json.Unmarshal(last, &offset) != nil {
		return "", false
	}
	return offset, true
}

// onConnect: the server accepted the socket. Events received meanwhile are
// delivered first, then what was emitted while offline is sent, then the
// retry queue resumes, then OnConnect runs (as in JS).
func (s *Socket) onConnect(ec *engineConn, sid, pid string) {
	s.mu.Lock()
	s.id, s.conn = sid, ec
	s.recovered = pid != "" && s.pid == pid
	switch {
	case s.recovered || s.pid == "":
		s.recoverErr = nil
	case pid == "":
		s.recoverErr = fmt.Errorf("%w: the server has connection state recovery off", ErrNotRecovered)
	default:
		s.recoverErr = fmt.Errorf("%w: the server started a new session "+
			"(it does not know the previous one, it expired, or the events missed are no longer stored)", ErrNotRecovered)
	}
	if s.recvLost > 0 { // missed events replayed by the server did not fit
		s.recovered = false
		s.recoverErr = fmt.Errorf("%w: %d events received before the connection was acknowledged "+
			"did not fit in MaxBufferedPackets", ErrNotRecovered, s.recvLost)
		s.recvLost = 0
	}
	s.pid = pid
	recv, sent := s.recvBuffer, s.sendBuffer
	s.recvBuffer, s.sendBuffer = nil, nil
	for _, ev := range recv {
		s.m.dispatch.Push(func() { s.deliver(ev) })
	}
	for _, p := range sent {
		if err := ec.send(p); err != nil {
			s.m.log.Debug("client: buffered packet not sent", "nsp", s.nsp, "err", err)
			continue
		}
		s.notifyOutgoingLocked(p)
	}
	s.drainQueueLocked(true)
	s.mu.Unlock()
	s.m.log.Debug("client: connected", "nsp", s.nsp, "sid", sid, "recovered", pid != "" && s.recovered)
	callHandlers(s, func(h *socketHandlers) []func() { return h.connect }, func(fn func()) { fn() })
	s.signal(hookEvent{connected: true})
}

// onEvent delivers an event, or keeps it until CONNECT is acknowledged.
func (s *Socket) onEvent(ec *engineConn, p *parser.Packet) {
	name, err := p.EventName()
	if err != nil {
		return
	}
	ev := &Event{argList: newArgList(p), name: name, socket: s}
	s.mu.Lock()
	if s.conn == nil && len(s.recvBuffer) >= s.opts.MaxBufferedPackets {
		s.recvLost++ // and its offset is not kept
		s.mu.Unlock()
		return
	}
	var offset string
	if s.pid != "" {
		offset, _ = offsetOf(ev.Raw())
	}
	if s.conn == nil {
		s.recvBuffer = append(s.recvBuffer, ev)
		s.keepOffsetLocked(offset)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if !s.m.dispatch.PushWait(ec.c.Context(), ev) {
		// The connection closed while the handlers were behind: the event is
		// dropped, and its offset not kept, so recovery can replay it.
		s.m.log.Debug("client: event dropped, the connection closed", "nsp", s.nsp, "event", name)
		return
	}
	s.mu.Lock()
	s.keepOffsetLocked(offset)
	s.mu.Unlock()
}

// keepOffsetLocked records the offset of an event taken in, if it has one.
func (s *Socket) keepOffsetLocked(offset string) {
	if offset != "" {
		s.lastOffset = offset
	}
}

// deliver runs the catch-all handlers, then those of the event; once
// handlers are removed before they run.
func (s *Socket) deliver(ev *Event) {
	s.mu.Lock()
	anyIn, list := s.handlers.anyIn, s.handlers.events[ev.name]
	if slices.ContainsFunc(list, func(l listener) bool { return l.once }) {
		s.handlers.events[ev.name] = slices.DeleteFunc(slices.Clone(list), func(l listener) bool { return l.once })
	}
	s.mu.Unlock()
	for _, fn := range anyIn {
		fn(ev)
	}
	for _, l := range list {
		l.fn(ev)
	}
}

func (s *Socket) notifyOutgoingLocked(p *parser.Packet) {
	if len(s.handlers.anyOut) == 0 {
		return
	}
	name, err := p.EventName()
	if err != nil {
		return
	}
	ev := &Event{argList: newArgList(p), name: name, socket: s, outgoing: true}
	pushEach(&s.m.dispatch, s.handlers.anyOut, func(fn func(*Event)) { fn(ev) })
}

func (s *Socket) onAck(p *parser.Packet) {
	s.mu.Lock()
	e := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if e == nil {
		return // unknown id ("bad ack"): ignored
	}
	if e.timer != nil {
		e.timer.Stop()
	}
	e.resolve(&Reply{newArgList(p)}, nil)
}

// closed: the socket is disconnected. Pending acknowledgements of packets
// already sent fail with ErrDisconnected (or are dropped, for those that
// asked for no error); those of buffered packets wait for the reconnection.
func (s *Socket) closed(reason string) {
	s.mu.Lock()
	s.conn, s.id, s.openedOn = nil, "", nil
	var failed []*ackEntry
	for id, e := range s.acks {
		if !slices.Contains(s.sendBuffer, e.pkt) {
			delete(s.acks, id)
			failed = append(failed, e)
		}
	}
	s.mu.Unlock()
	s.m.log.Debug("client: disconnected", "nsp", s.nsp, "reason", reason)
	callHandlers(s, func(h *socketHandlers) []func(string) { return h.disconnect }, func(fn func(string)) { fn(reason) })
	failAcks(failed)
}

// failAcks fails, in id order, the acknowledgements that asked for an error
// on disconnection, and drops the others.
func failAcks(entries []*ackEntry) {
	slices.SortFunc(entries, func(a, b *ackEntry) int { return cmp.Compare(a.pkt.ID, b.pkt.ID) })
	for _, e := range entries {
		if e.timer != nil {
			e.timer.Stop()
		}
		if e.withError {
			e.resolve(nil, ErrDisconnected)
		}
	}
}

// onClose: the Manager's connection closed.
func (s *Socket) onClose(reason string) {
	s.mu.Lock()
	active := s.active
	s.mu.Unlock()
	if active {
		s.closed(reason)
	}
}

// sendNow writes p if connected; it is dropped otherwise.
func (s *Socket) sendNow(p *parser.Packet) error {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return nil
	}
	return conn.send(p)
}

// Emit sends event with args; []byte values (at any depth) are sent as
// binary attachments. While disconnected the packet is buffered and sent
// after the (re)connection, in order. With SocketOptions.Retries it is
// delivered at least once. The reserved names (connect, connect_error,
// disconnect, disconnecting, newListener, removeListener) are refused.
func (s *Socket) Emit(event string, args ...any) error { return s.emit(event, args, false) }

// Volatile returns an emitter whose events are dropped, not buffered, while
// the socket is disconnected (and never retried).
func (s *Socket) Volatile() Emitter { return Emitter{s: s, volatile: true} }

// Emitter emits with flags (Socket.Volatile).
type Emitter struct {
	s        *Socket
	volatile bool
}

// Volatile sets the volatile flag (see Socket.Volatile).
func (e Emitter) Volatile() Emitter { e.volatile = true; return e }

// Emit sends the event with the emitter's flags.
func (e Emitter) Emit(event string, args ...any) error { return e.s.emit(event, args, e.volatile) }

func (s *Socket) emit(event string, args []any, volatile bool) error {
	p, err := s.newEvent(event, args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Retries > 0 && !volatile {
		return s.enqueueLocked(p, nil)
	}
	return s.sendOrBufferLocked(p, volatile)
}

func (s *Socket) newEvent(event string, args []any) (*parser.Packet, error) {
	if parser.IsReservedEvent(event) {
		return nil, fmt.Errorf("%w: %q is a reserved event name", ErrReservedEvent, event)
	}
	return parser.NewEvent(s.nsp, event, args)
}

func (s *Socket) sendOrBufferLocked(p *parser.Packet, volatile bool) error {
	if s.conn != nil {
		err := s.conn.send(p)
		if err == nil {
			s.notifyOutgoingLocked(p)
			return nil
		}
		if !errors.Is(err, engineio.ErrClosed) {
			return err
		}
		// The connection is going away: keep the packet for the next one.
	}
	if volatile {
		return nil
	}
	if len(s.sendBuffer) >= s.opts.MaxBufferedPackets {
		return ErrBufferFull
	}
	s.sendBuffer = append(s.sendBuffer, p)
	return nil
}

type ackResult struct {
	reply *Reply
	err   error
}

// EmitWithAck sends event and waits for the server's acknowledgement, until
// ctx is done or SocketOptions.AckTimeout elapses (then the error wraps
// ErrTimeout). A disconnection after the packet was sent fails it with
// ErrDisconnected; a packet still buffered waits for the reconnection (or
// fails with ErrDisconnected on Disconnect). With Retries, the emit is
// retried until acknowledged or out of tries.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*Reply, error) {
	p, err := s.newEvent(event, args)
	if err != nil {
		return nil, err
	}
	ch := make(chan ackResult, 1)
	resolve := func(r *Reply, err error) { ch <- ackResult{r, err} }

	s.mu.Lock()
	var e *ackEntry
	if s.opts.Retries > 0 {
		err = s.enqueueLocked(p, resolve)
	} else {
		if s.opts.AckTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.opts.AckTimeout)
			defer cancel()
		}
		e = s.registerAckLocked(p, true, resolve)
		if err = s.sendOrBufferLocked(p, false); err != nil {
			delete(s.acks, p.ID)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.reply, r.err
	case <-ctx.Done():
	}
	if e != nil {
		s.mu.Lock()
		if s.acks[p.ID] == e {
			delete(s.acks, p.ID)
			s.removeBufferedLocked(p)
		}
		s.mu.Unlock()
	}
	select {
	case r := <-ch: // arrived meanwhile
		return r.reply, r.err
	default:
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	return nil, ctx.Err()
}

// registerAckLocked gives p the next ack id and records resolve for it.
func (s *Socket) registerAckLocked(p *parser.Packet, withError bool, resolve func(*Reply, error)) *ackEntry {
	p.ID, p.HasID = s.ids, true
	s.ids++
	e := &ackEntry{pkt: p, withError: withError, resolve: resolve}
	s.acks[p.ID] = e
	return e
}

func (s *Socket) removeBufferedLocked(p *parser.Packet) {
	if i := slices.Index(s.sendBuffer, p); i >= 0 {
		s.sendBuffer = slices.Delete(s.sendBuffer, i, i+1)
	}
}

// enqueueLocked adds an at-least-once emit to the retry queue.
func (s *Socket) enqueueLocked(p *parser.Packet, resolve func(*Reply, error)) error {
	if len(s.queue) >= s.opts.MaxBufferedPackets {
		return ErrBufferFull
	}
	s.queue = append(s.queue, &queuedEmit{pkt: p, resolve: resolve})
	s.drainQueueLocked(false)
	return nil
}

// drainQueueLocked sends the head of the retry queue when connected and it
// is not in flight (or always, with force, after a reconnection).
func (s *Socket) drainQueueLocked(force bool) {
	if s.conn == nil || len(s.queue) == 0 {
		return
	}
	q := s.queue[0]
	if q.pending && !force {
		return
	}
	q.pending = true
	q.tries++
	try := *q.pkt
	timeout := s.opts.AckTimeout
	e := s.registerAckLocked(&try, timeout > 0, func(r *Reply, err error) { s.onQueueAck(q, r, err) })
	if timeout > 0 {
		id := try.ID
		e.timer = time.AfterFunc(timeout, func() { s.ackTimedOut(id, e) })
	}
	if err := s.sendOrBufferLocked(&try, false); err != nil {
		s.m.log.Debug("client: retry not sent", "nsp", s.nsp, "err", err)
	}
}

func (s *Socket) ackTimedOut(id uint64, e *ackEntry) {
	s.mu.Lock()
	if s.acks[id] != e {
		s.mu.Unlock()
		return
	}
	delete(s.acks, id)
	s.removeBufferedLocked(e.pkt)
	s.mu.Unlock()
	e.resolve(nil, ErrTimeout)
}

// onQueueAck is the outcome of one try of the queue's head.
func (s *Socket) onQueueAck(q *queuedEmit, r *Reply, err error) {
	s.mu.Lock()
	if len(s.queue) == 0 || s.queue[0] != q {
		s.mu.Unlock()
		return
	}
	done := err == nil || q.tries > s.opts.Retries
	if done {
		s.queue[0] = nil
		s.queue = s.queue[1:]
	}
	q.pending = false
	s.drainQueueLocked(false)
	s.mu.Unlock()
	if done && q.resolve != nil {
		q.resolve(r, err)
	}
}
