package engineio

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

type sessionState int32

const (
	stateOpen    sessionState = iota
	stateClosing              // orderly close: flushing the queue, accepting nothing new
	stateClosed
)

// defaultCloseTimeout bounds an orderly close (Node's polling closeTimeout).
const defaultCloseTimeout = 30 * time.Second

// noopInterval is how long a GET is held while an upgrade is being probed
// before it is answered with a noop (Node's check interval).
const noopInterval = 100 * time.Millisecond

// Session is one Engine.IO connection (a "socket" in the JS server).
type Session struct {
	srv *Server
	id  string
	req savedRequest

	// recvMu is held while the Handler is called for this session, so that
	// calls never overlap. It is a dispatch token, not a state lock: the
	// handler may call any Session method while it is held.
	recvMu         sync.Mutex
	closeDelivered bool        // guarded by recvMu
	inlineFrom     *wsConn     // guarded by recvMu: the read loop inside OnMessage, for RunInline
	closed         atomic.Bool // set once the state is stateClosed; OnClose is then due

	mu         sync.Mutex
	state      sessionState
	closing    *closeInfo // set when leaving stateOpen
	data       any
	queue      []Packet
	queueBytes int
	spare      []Packet // recycled queue backing array (websocket writer)

	// polling
	get *pollWaiter // the held GET, if any

	timers *sessionTimers // allocated by the first timer a session needs

	// websocket
	ws *wsConn // the session's WebSocket once it is the transport

	// upgrade
	probe *wsConn // WebSocket being probed

	// heartbeat
	pongBy time.Duration // since monoBase: the session expires then unless a pong arrived
	hbWhen time.Duration // guarded by srv.hb.mu: the next ping, or pongBy once the ping is sent
	hbPos  int32         // guarded by srv.hb.mu: position in srv.hb's heap + 1; 0: none

	// Flags of the groups above, packed together.
	posting  bool // polling: a POST is being processed
	writing  bool // websocket: a writer goroutine is running
	inWrite  bool // websocket: the writer is inside a write call
	listed   bool // websocket: in the flusher's list
	probed   bool // upgrade: "3probe" sent: release pending GETs with noops
	upgraded bool // upgrade: done
	pingSent bool // heartbeat: the ping is queued: the deadline is pongBy
	onWS     bool // the transport is websocket, else polling
}

// sessionTimers are the timers of an orderly close and of an upgrade: most
// sessions never need one, so they cost a session one pointer.
type sessionTimers struct {
	close   *time.Timer // orderly close deadline
	upgrade *time.Timer // upgrade deadline
	noop    *time.Timer // noops for the GET held while probing
}

func (s *Session) timersLocked() *sessionTimers {
	if s.timers == nil {
		s.timers = new(sessionTimers)
	}
	return s.timers
}

// closeInfo is why a session closed (allocated at the close: an open
// session keeps a nil pointer).
type closeInfo struct {
	reason string
	cause  error
}

type pollWaiter struct {
	wake  chan struct{}
	since time.Time // when the GET arrived
	reply byte      // packet type digit to answer with when nothing is queued ('1' close, '6' noop)
}

func newSession(srv *Server, id string, r *http.Request, transport string) *Session {
	return &Session{srv: srv, id: id, req: saveRequest(r), onWS: transport == transportWebSocket}
}

// debug logs msg with the sid; args are only built when debug logging is on.
func (s *Session) debug(msg string, args ...any) {
	if s.srv.log.Enabled(context.Background(), slog.LevelDebug) {
		s.srv.log.Debug(msg, append([]any{"sid", s.id}, args...)...)
	}
}

// ID returns the session id (sid).
func (s *Session) ID() string { return s.id }

// Request returns a copy of the handshake request (method, URL, headers,
// Host, RemoteAddr, TLS), new at each call; its body is not readable.
func (s *Session) Request() *http.Request { return s.req.request() }

// Transport returns the current transport: "polling" or "websocket".
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transportLocked()
}

// transportLocked is the constant name of the transport.
func (s *Session) transportLocked() string {
	if s.onWS {
		return transportWebSocket
	}
	return transportPolling
}

// SetData stores v in the session's one slot for the layer above.
func (s *Session) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Data returns what SetData stored.
func (s *Session) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// Send queues all msgs atomically, in order, and never blocks. It returns
// ErrQueueFull (nothing queued) when MaxQueuePackets or MaxQueueBytes would
// be exceeded (into an empty queue, only MaxQueuePackets applies, so a large
// message can always go), and ErrClosed once the session is closing. A
// client that keeps the queue full does not read: the caller should close
// the session. msgs' Data must not be modified afterwards; it may be shared
// between sessions.
func (s *Session) Send(msgs ...Message) error {
	if err := s.lockAndQueue(msgs); err != nil {
		return err
	}
	s.flushUnlock()
	return nil
}

// lockAndQueue locks s.mu and queues msgs, as Send says; on success s.mu is
// left locked, on error it is unlocked.
func (s *Session) lockAndQueue(msgs []Message) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrClosed
	}
	if !s.fitsLocked(msgs) {
		s.mu.Unlock()
		return ErrQueueFull
	}
	s.enqueueLocked(msgs)
	return nil
}

// flushUnlock makes the transport write what is queued and unlocks s.mu;
// a WebSocket with no writer running is written to right here.
func (s *Session) flushUnlock() {
	c, pkts := s.claimWriterLocked()
	s.mu.Unlock()
	if c != nil {
		s.writeInline(c, pkts)
	}
}

// SendVolatile queues msgs only if the transport can write them right now
// (polling: a GET is waiting; websocket: no write in progress), like a JS
// volatile emit. It reports whether they were queued.
func (s *Session) SendVolatile(msgs ...Message) bool {
	s.mu.Lock()
	if s.state != stateOpen || !s.fitsLocked(msgs) ||
		!s.onWS && s.get == nil ||
		s.onWS && s.inWrite {
		s.mu.Unlock()
		return false
	}
	s.enqueueLocked(msgs)
	s.flushUnlock()
	return true
}

func (s *Session) fitsLocked(msgs []Message) bool {
	if len(s.queue) == 0 {
		return len(msgs) <= s.srv.opts.MaxQueuePackets
	}
	n := s.queueBytes
	for _, m := range msgs {
		n += len(m.Data)
	}
	return len(s.queue)+len(msgs) <= s.srv.opts.MaxQueuePackets && n <= s.srv.opts.MaxQueueBytes
}

func (s *Session) enqueueLocked(msgs []Message) {
	if s.queue == nil {
		s.queue = getQueue()
	}
	for _, m := range msgs {
		s.queue = append(s.queue, Packet{Type: PacketMessage, Data: m.Data, Binary: m.Binary})
		s.queueBytes += len(m.Data)
	}
}

// kickLocked makes the current transport write what is queued.
func (s *Session) kickLocked() {
	if !s.onWS {
		if s.get != nil {
			s.get.release(0)
		}
	} else if !s.writing && s.ws != nil && (len(s.queue) > 0 || s.state == stateClosing) {
		s.writing = true
		s.srv.wg.Add(1)
		go s.writeLoop(s.ws, nil, nil)
	}
}

// release wakes the held GET; reply is used when nothing is queued.
func (w *pollWaiter) release(reply byte) {
	if reply != 0 {
		w.reply = reply
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// takeQueueLocked removes and returns everything queued.
func (s *Session) takeQueueLocked() []Packet {
	q := s.queue
	s.queue, s.spare = s.spare[:0], nil
	s.queueBytes = 0
	return q
}

// Close closes the session from the server side ("forced close"): queued
// packets are flushed first, then polling clients get a close packet and
// WebSocket clients a close frame.
func (s *Session) Close() { s.CloseWithReason(ReasonForcedClose) }

// CloseWithReason is Close with the reason given to OnClose.
func (s *Session) CloseWithReason(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeOrderlyLocked(reason)
}

// Abort closes the session at once with reason, without the orderly close
// (nothing left in the queue is sent): for a connection known to be dead,
// e.g. when its client is already back on a new one.
func (s *Session) Abort(reason string) { s.closeNow(reason, nil, 0) }

// shutdown is the server-wide close: orderly, but a polling session that
// has no GET waiting is closed at once.
func (s *Session) shutdown() {
	s.mu.Lock()
	s.closeOrderlyLocked(ReasonServerShuttingDown)
	immediate := s.state == stateClosing && !s.onWS && s.get == nil
	s.mu.Unlock()
	if immediate {
		s.closeNow(ReasonServerShuttingDown, nil, 0)
	}
}

func (s *Session) closeOrderlyLocked(reason string) {
	if s.state != stateOpen {
		return
	}
	s.state, s.closing = stateClosing, &closeInfo{reason: reason}
	s.stopHeartbeatLocked()
	// Bounds the wait for the GET that carries the close packet, or for a
	// WebSocket client that does not read what is left to flush.
	s.timersLocked().close = time.AfterFunc(s.srv.closeTimeout, func() { s.closeNow(reason, nil, 0) })
	if !s.onWS {
		if s.get != nil {
			s.get.release('1') // answers the queue and the close packet
		}
	} else {
		s.kickLocked() // the writer flushes, then closes
	}
}

// closeNow closes the session at once: the queue is dropped, a held GET is
// answered getReply ('1' close, '6' noop), WebSockets are closed, the sid is
// forgotten, and OnClose is delivered.
func (s *Session) closeNow(reason string, cause error, getReply byte) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	if s.state == stateClosing {
		reason = s.closing.reason // an orderly close keeps its reason
	}
	if s.closing == nil {
		s.closing = &closeInfo{}
	}
	s.state, s.closing.reason, s.closing.cause = stateClosed, reason, cause
	s.stopHeartbeatLocked()
	s.stopUpgradeLocked()
	if s.timers != nil && s.timers.close != nil {
		s.timers.close.Stop()
	}
	clear(s.queue)
	s.queue, s.spare, s.queueBytes = nil, nil, 0
	linger := false
	if s.get != nil {
		if getReply == 0 {
			getReply = '1'
		}
		s.get.release(getReply)
	} else {
		linger = getReply == '6' && !s.onWS
	}
	ws, probe := s.ws, s.probe
	s.probe = nil
	s.mu.Unlock()

	if ws != nil {
		ws.requestClose(0)
	}
	if probe != nil {
		probe.requestClose(0)
	}
	s.srv.remove(s)
	if linger {
		s.srv.linger(s.id)
	}
	s.debug("engineio: session closed", "reason", reason, "cause", cause)
	s.closed.Store(true)
	if s.recvMu.TryLock() {
		s.endDispatch()
	}
	// else: the goroutine inside the Handler delivers OnClose in endDispatch
}

// endDispatch releases recvMu, first delivering OnClose if the session has
// closed and it has not been delivered yet.
func (s *Session) endDispatch() {
	for {
		if s.closed.Load() && !s.closeDelivered {
			s.closeDelivered = true
			s.mu.Lock()
			reason, cause := s.closing.reason, s.closing.cause
			s.mu.Unlock()
			s.srv.h.OnClose(s, reason, cause)
			s.srv.wg.Done()
		}
		s.recvMu.Unlock()
		// closeNow may have failed its TryLock while we held recvMu.
		if !s.closed.Load() || !s.recvMu.TryLock() {
			return
		}
		if s.closeDelivered {
			s.recvMu.Unlock()
			return
		}
	}
}

// deliver hands a message to the Handler; recvMu must be held.
func (s *Session) deliver(m Message) {
	if s.closed.Load() {
		return
	}
	s.mu.Lock()
	open := s.state == stateOpen
	s.mu.Unlock()
	if open {
		s.srv.h.OnMessage(s, m)
	}
}

// onPacket handles one packet from the client on the current transport;
// recvMu must be held. It reports whether to keep reading.
func (s *Session) onPacket(p Packet) bool {
	switch p.Type {
	case PacketMessage:
		s.deliver(Message{Data: p.Data, Binary: p.Binary})
	case PacketPong:
		s.onPong()
	case PacketPing:
		s.closeNow(ReasonTransportError, &ProtocolError{Reason: "invalid heartbeat direction"}, 0)
		return false
	case PacketClose:
		s.closeNow(ReasonTransportClose, nil, '6')
		return false
	}
	return !s.closed.Load()
}

// Heartbeat: the session expires at pongBy unless a pong arrived (which
// schedules the next ping). pongBy is pingTimeout after the ping is due
// (what the official test suite checks to the millisecond), but at least
// half a pingTimeout after the ping was queued: a ping timer firing late
// (process stall) must not leave the client no time to answer. One
// deadline per session in the server's heartbeats serves both: its callback
// looks at the state to see which one is due, so a stale call only re-arms.

func (s *Session) schedulePingLocked(now time.Time) {
	s.pingSent = false
	s.pongBy = now.Sub(monoBase) + s.srv.opts.PingInterval + s.srv.opts.PingTimeout
	s.armHeartbeatLocked(s.srv.opts.PingInterval)
}

func (s *Session) armHeartbeatLocked(d time.Duration) { s.srv.hb.set(s, d) }

func (s *Session) stopHeartbeatLocked() {
	s.srv.hb.stop(s) // a call already under way finds the session not open
}

// onHeartbeat sends the ping when it is due, or expires the session when
// its pong is overdue.
func (s *Session) onHeartbeat() {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	now := time.Now()
	n := now.Sub(monoBase)
	if s.pingSent {
		if n < s.pongBy { // stale firing
			s.armHeartbeatLocked(s.pongBy - n)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.closeNow(ReasonPingTimeout, nil, '1')
		return
	}
	if due := s.pongBy - s.srv.opts.PingTimeout; n < due { // stale firing
		s.armHeartbeatLocked(due - n)
		s.mu.Unlock()
		return
	}
	s.queuePingLocked(now)
	s.flushUnlock()
}

func (s *Session) queuePingLocked(now time.Time) {
	s.queue = append(s.queue, Packet{Type: PacketPing})
	n := now.Sub(monoBase)
	s.pongBy = max(s.pongBy, n+s.srv.opts.PingTimeout/2)
	s.pingSent = true
	s.armHeartbeatLocked(s.pongBy - n)
}

func (s *Session) onPong() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateOpen {
		s.schedulePingLocked(time.Now())
	}
}

// expire closes the session if its pong is overdue at now and reports
// whether the session is (now) closed.
func (s *Session) expire(now time.Time) bool {
	s.mu.Lock()
	state := s.state
	overdue := state == stateOpen && now.Sub(monoBase) >= s.pongBy
	s.mu.Unlock()
	if overdue {
		s.closeNow(ReasonPingTimeout, nil, '1')
		return true
	}
	return state == stateClosed
}
