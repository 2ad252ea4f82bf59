package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/engineio"
	"github.com/seed9706/socketio/parser"
)

// Connection state recovery (ServerOptions.ConnectionStateRecovery).
//
// The wire is the official one: the CONNECT reply carries {"sid","pid"},
// every stored event gets an offset as its last argument, and a client that
// reconnects sends {"pid","offset",...auth} in its CONNECT. The server then
// restores the socket id, rooms and data and sends the missed events before
// the CONNECT reply.
//
// Two gaps of the JS server are closed:
//
//   - A client that had received no event yet has no offset. The session
//     remembers the adapter's offset at connection time (Recoverer.Offset),
//     so a CONNECT with a pid and no offset is restored from there. The
//     official client sends exactly that ({"pid"} without "offset").
//   - Events broadcast while the socket is being restored are neither lost
//     nor repeated: the restored socket joins its rooms with its deliveries
//     held back, the adapter is asked again for what was stored meanwhile
//     (Recoverer.Replay), and the held deliveries are sent after the replay,
//     minus those the replay already carried (same offset).

// recoveryTimeout bounds the adapter calls of one recovery.
const recoveryTimeout = 5 * time.Second

// replayTimeout bounds how long the missed events of one recovery may wait
// for room in the client's outbound queue (a replay can hold more events
// than MaxQueuePackets).
const replayTimeout = 30 * time.Second

// maxHeldDeliveries bounds the live packets held while a socket is being
// restored; past it the connection is closed (the client then starts a new
// session and learns it was not recovered).
const maxHeldDeliveries = 4096

// recoverableReasons are the disconnect reasons after which a session is
// kept (JS RECOVERABLE_DISCONNECT_REASONS).
var recoverableReasons = map[string]bool{
	ReasonTransportError:     true,
	ReasonTransportClose:     true,
	ReasonForcedClose:        true,
	ReasonPingTimeout:        true,
	ReasonServerShuttingDown: true,
	ReasonForcedServerClose:  true,
}

// errNotRecovered is returned by an adapter that does not store sessions.
var errNotRecovered = errors.New("socketio: the adapter does not store sessions")

// Recovered reports whether the socket was restored by connection state
// recovery: same id, rooms and data as before the disconnection, and the
// missed events were sent first.
func (s *Socket) Recovered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovered
}

// heldDelivery is a live packet delivered to a socket being restored.
type heldDelivery struct {
	p     *prepared
	flags adapter.Flags
}

// heldDeliveries collects the live packets of a socket being restored.
type heldDeliveries struct {
	list     []heldDelivery
	overflow bool
}

// restored is what a recovery sends before the socket is connected.
type restored struct {
	missed []*parser.Packet
	sent   map[string]bool // offsets of missed
}

// recoveryAuth reads the pid and offset of a CONNECT payload. The offset may
// be missing (a client that received no event).
func recoveryAuth(auth json.RawMessage) (pid, offset string, ok bool) {
	var a struct {
		PID    any `json:"pid"`
		Offset any `json:"offset"`
	}
	if json.Unmarshal(auth, &a) != nil {
		return "", "", false
	}
	pid, ok = a.PID.(string)
	switch o := a.Offset.(type) {
	case string:
		offset = o
	case nil:
	default:
		return "", "", false
	}
	return pid, offset, ok && pid != ""
}

// startSession runs on the socket's task goroutine before its middlewares:
// it restores the session the client asks for, or gives the socket a new
// private id and notes the adapter's offset. It returns nil when nothing was
// restored.
func (n *Namespace) startSession(s *Socket) *restored {
	if n.srv.opts.ConnectionStateRecovery == nil {
		return nil
	}
	s.mu.Lock()
	s.rec = &recoveryState{}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), recoveryTimeout)
	defer cancel()
	rec, _ := n.adapter.(adapter.Recoverer)
	if pid, offset, ok := recoveryAuth(json.RawMessage(s.auth)); ok {
		r, err := n.restore(ctx, s, rec, pid, offset)
		if err == nil {
			return r
		}
		n.srv.log.Debug("socketio: session not recovered", "nsp", n.name, "err", err)
	}
	s.rec.pid = newID()
	if rec != nil {
		off, err := rec.Offset(ctx)
		if err != nil {
			n.srv.log.Warn("socketio: adapter offset unavailable", "nsp", n.name, "err", err)
		}
		s.rec.baseOffset = off
	}
	return nil
}

func (n *Namespace) restore(ctx context.Context, s *Socket, rec adapter.Recoverer, pid, offset string) (*restored, error) {
	n.takeOver(ctx, pid)
	sess, err := n.adapter.RestoreSession(ctx, pid, offset)
	if err != nil {
		return nil, err
	}
	if sess == nil {
		return nil, errNotRecovered
	}
	s.id, s.rec.pid, s.rec.baseOffset = sess.SID, sess.PID, sess.Offset
	s.mu.Lock()
	s.data = sess.Data
	s.recovered = true
	s.rec.held = &heldDeliveries{}
	s.mu.Unlock()
	// From here live broadcasts to the rooms are held (see Deliver).
	s.Join(append(sess.Rooms, s.id)...)
	r := &restored{missed: sess.MissedPackets}
	if rec != nil {
		from := sess.Offset
		if k := len(r.missed); k > 0 {
			if o := adapter.PacketOffset(r.missed[k-1]); o != "" {
				from = o
			}
		}
		more, err := rec.Replay(ctx, from, sess.Rooms)
		if err != nil {
			s.mu.Lock()
			s.rec.held, s.recovered, s.data = nil, false, nil
			s.mu.Unlock()
			n.adapter.DelAll(s.id)
			s.id = newID()
			return nil, err
		}
		r.missed = append(r.missed, more...)
	}
	r.sent = make(map[string]bool, len(r.missed))
	for _, p := range r.missed {
		r.sent[adapter.PacketOffset(p)] = true
	}
	return r, nil
}

// takeOver closes the connection of the socket with private id pid, when
// it is still connected here: its client only sends pid from a new
// connection, so the old one is dead but the server has not noticed yet
// (a cut polling connection, or a silent one before the ping timeout).
// Waiting for its close persists its session, which the new connection then
// restores.
func (n *Namespace) takeOver(ctx context.Context, pid string) {
	n.mu.RLock()
	old := n.byPID[pid]
	n.mu.RUnlock()
	if old == nil {
		return
	}
	n.srv.log.Debug("socketio: closing the previous connection of a recovering client", "sid", old.id, "nsp", n.name)
	old.conn.sess.Abort(ReasonTransportClose)
	select {
	case <-old.wait(sigClosed):
	case <-ctx.Done():
	}
}

// sendMissed sends the missed packets of a restored socket, then the live
// ones held meanwhile (those the replay did not carry), until none is left;
// then deliveries go straight to the client again. It reports false when
// the socket closed meanwhile.
func (s *Socket) sendMissed(r *restored) bool {
	deadline := time.Now().Add(replayTimeout)
	for _, p := range r.missed {
		if !s.sendPatiently(encodeMsgs(p), deadline) {
			return false
		}
	}
	for {
		s.mu.Lock()
		h := s.rec.held
		if h == nil { // closed meanwhile
			s.mu.Unlock()
			return false
		}
		if h.overflow {
			s.rec.held = nil
			s.mu.Unlock()
			s.nsp.srv.log.Warn("socketio: too many events during recovery, closing", "sid", s.id, "nsp", s.nsp.name)
			s.conn.sess.CloseWithReason(ReasonForcedServerClose)
			return false
		}
		list := h.list
		h.list = nil
		if len(list) == 0 {
			s.rec.held = nil
			s.state = stateConnected
			if len(r.sent) > 0 {
				s.rec.replayed = r.sent
			}
			s.mu.Unlock()
			return true
		}
		listeners := s.cbs().anyOut
		s.mu.Unlock()
		for _, d := range list {
			if r.sent[adapter.PacketOffset(d.p.pkt)] {
				continue
			}
			s.notify(d.p, listeners)
			if !s.sendPatiently(d.p.msgs, deadline) {
				return false
			}
		}
	}
}

// replayedLocked reports whether a live delivery was already sent by the
// recovery (it is then dropped). The first delivery of a stored packet that
// was not ends the check: later ones are newer. s.mu is held.
func (s *Socket) replayedLocked(p *prepared) bool {
	offset := adapter.PacketOffset(p.pkt)
	if offset == "" {
		return false // not stored: never replayed
	}
	if s.rec.replayed[offset] {
		return true
	}
	s.rec.replayed = nil
	return false
}

// sendPatiently queues msgs, waiting while the client's outbound queue is
// full, until deadline; then it closes the connection (as for a slow
// client) and reports false.
func (s *Socket) sendPatiently(msgs []engineio.Message, deadline time.Time) bool {
	for {
		err := s.conn.sess.Send(msgs...)
		switch {
		case err == nil:
			return true
		case !errors.Is(err, engineio.ErrQueueFull):
			return false // closed
		case time.Now().After(deadline):
			s.nsp.srv.log.Warn("socketio: client too slow to take its missed events, closing", "sid", s.id, "nsp", s.nsp.name)
			s.conn.sess.CloseWithReason(ReasonForcedServerClose)
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// holdLocked keeps a live delivery of a socket being restored; s.mu is held.
func (s *Socket) holdLocked(p *prepared, flags adapter.Flags) bool {
	h := s.rec.held
	if len(h.list) >= maxHeldDeliveries {
		h.overflow = true
		return false
	}
	h.list = append(h.list, heldDelivery{p, flags})
	return true
}

// persist keeps the session of a socket closed for reason, when recovery
// is on and the reason allows it.
func (s *Socket) persist(reason string) {
	if s.nsp.srv.opts.ConnectionStateRecovery == nil || s.rec == nil || !recoverableReasons[reason] {
		return
	}
	s.nsp.adapter.PersistSession(&adapter.Session{
		SID:    s.id,
		PID:    s.privateID(),
		Rooms:  s.Rooms(),
		Data:   s.Data(),
		Offset: s.rec.baseOffset,
	})
}

// connectReply is the CONNECT payload: {"sid"}, plus "pid" with recovery.
func (s *Socket) connectReply() json.RawMessage {
	b := append(make([]byte, 0, 64), `{"sid":`...)
	b, _ = parser.AppendMarshal(b, s.id)
	if pid := s.privateID(); pid != "" {
		b = append(b, `,"pid":`...)
		b, _ = parser.AppendMarshal(b, pid)
	}
	return append(b, '}')
}
