package adapter

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/seed9706/socketio/parser"
)

// Defaults of SessionAwareOptions.
const (
	DefaultMaxDisconnectionDuration = 2 * time.Minute
	DefaultMaxStoredPackets         = 100000
	DefaultMaxStoredBytes           = 64 << 20
	DefaultMaxSessions              = 100000
)

// SessionAwareOptions bound the memory of the in-memory connection state
// recovery store. Zero fields take their defaults.
type SessionAwareOptions struct {
	// MaxDisconnectionDuration is how long sessions and packets are kept.
	// Default 2 minutes (JS maxDisconnectionDuration).
	MaxDisconnectionDuration time.Duration
	// MaxPackets bounds the stored packets; the oldest go first. A
	// broadcast is one packet whatever its recipients; every emit to one
	// socket is one too. Default 100000.
	MaxPackets int
	// MaxBytes bounds the stored packets' payload bytes. Default 64 MiB.
	MaxBytes int
	// MaxSessions bounds the stored sessions; the oldest go first.
	// Default 100000.
	MaxSessions int
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

func (o *SessionAwareOptions) withDefaults() SessionAwareOptions {
	var r SessionAwareOptions
	if o != nil {
		r = *o
	}
	if r.MaxDisconnectionDuration <= 0 {
		r.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
	}
	if r.MaxPackets <= 0 {
		r.MaxPackets = DefaultMaxStoredPackets
	}
	if r.MaxBytes <= 0 {
		r.MaxBytes = DefaultMaxStoredBytes
	}
	if r.MaxSessions <= 0 {
		r.MaxSessions = DefaultMaxSessions
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}

// SessionAware is the in-memory adapter with connection state recovery
// (JS SessionAwareAdapter): every stored broadcast (see Storable) gets an
// offset as its last argument and is kept, and disconnected sessions are
// kept, for MaxDisconnectionDuration. Unlike JS, memory is also bounded by
// MaxPackets, MaxBytes and MaxSessions, and expired entries are dropped as
// the store is used (no timer goroutine).
//
// Offsets are the base-36 sequence number of the packet: opaque to
// clients, ordered for the store.
type SessionAware struct {
	*InMemory
	opts    SessionAwareOptions
	enabled bool // false on a server with recovery off: nothing is stored

	mu       sync.Mutex
	packets  []storedPacket // oldest first; seqs are consecutive
	nextSeq  uint64         // seq of the next packet; seqs start at 1
	bytes    int
	sessions map[string]storedSession // by pid
	order    []sessionRef             // persist order, for expiry
}

type storedPacket struct {
	seq   uint64
	pkt   *parser.Packet
	opts  BroadcastOptions
	at    time.Time
	bytes int
}

type storedSession struct {
	s  Session
	at time.Time
}

type sessionRef struct {
	pid string
	at  time.Time
}

// NewSessionAware returns a Factory of SessionAware adapters. On a server
// with connection state recovery off (see RecoveryNamespace) they store
// nothing and add no offsets, like InMemory.
func NewSessionAware(opts *SessionAwareOptions) Factory {
	o := opts.withDefaults()
	return func(nsp Namespace) Adapter {
		r, ok := nsp.(RecoveryNamespace)
		return &SessionAware{InMemory: newInMemory(nsp), opts: o, enabled: !ok || r.MaxDisconnectionDuration() > 0,
			nextSeq: 1, sessions: make(map[string]storedSession)}
	}
}

// Broadcast stores p (with its offset appended) when it is Storable, then
// sends it like InMemory. The sockets are selected under the store's lock:
// a packet stored before RestoreSession (so replayed as missed) is never
// also delivered live to the restored socket, which joins its rooms after.
// (Selected later, it would get the packet twice; found by the soak tests.)
func (a *SessionAware) Broadcast(ctx context.Context, p *parser.Packet, opts BroadcastOptions) error {
	if !a.enabled || !Storable(p, opts) {
		return a.InMemory.Broadcast(ctx, p, opts)
	}
	buf := targetPool.Get().(*[]Socket)
	targets := a.storeAndSelect(p, opts, (*buf)[:0])
	prepared, err := a.nsp.Prepare(p)
	if err == nil {
		for _, s := range targets {
			s.Deliver(prepared, opts.Flags)
		}
	}
	clear(targets) // drop the references before pooling
	*buf = targets[:0]
	targetPool.Put(buf)
	return err
}

// storeAndSelect stores p and appends the sockets it goes to to targets.
// p is not changed afterwards: RestoreSession hands it to other goroutines.
func (a *SessionAware) storeAndSelect(p *parser.Packet, opts BroadcastOptions, targets []Socket) []Socket {
	p.Namespace = a.nsp.Name()
	now := a.opts.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	targets = a.appendSelected(targets, opts, false) // locks InMemory.mu: after a.mu
	seq := a.nextSeq
	a.nextSeq++
	AppendOffset(p, formatOffset(seq))
	size := len(p.Data)
	for _, att := range p.Attachments {
		size += len(att)
	}
	// The rooms are copied: the caller may reuse its slices.
	opts.Rooms = append([]string(nil), opts.Rooms...)
	opts.Except = append([]string(nil), opts.Except...)
	a.packets = append(a.packets, storedPacket{seq: seq, pkt: p, opts: opts, at: now, bytes: size})
	a.bytes += size
	a.expireLocked(now)
	return targets
}

// expireLocked drops expired and excess packets and sessions.
func (a *SessionAware) expireLocked(now time.Time) {
	limit := now.Add(-a.opts.MaxDisconnectionDuration)
	drop := 0
	for drop < len(a.packets) {
		p := a.packets[drop]
		if !p.at.Before(limit) && len(a.packets)-drop <= a.opts.MaxPackets && a.bytes <= a.opts.MaxBytes {
			break
		}
		a.bytes -= p.bytes
		drop++
	}
	if drop > 0 {
		clear(a.packets[:drop])
		a.packets = a.packets[drop:]
		if cap(a.packets) > 64 && len(a.packets) < cap(a.packets)/4 {
			a.packets = append([]storedPacket(nil), a.packets...) // let the old array go
		}
	}
	drop = 0
	for ; drop < len(a.order); drop++ {
		ref := a.order[drop]
		cur, ok := a.sessions[ref.pid]
		if !ok || !cur.at.Equal(ref.at) {
			continue // restored or persisted again since
		}
		if !cur.at.Before(limit) && len(a.sessions) <= a.opts.MaxSessions {
			break
		}
		delete(a.sessions, ref.pid)
	}
	if drop > 0 {
		clear(a.order[:drop])
		a.order = a.order[drop:]
		if cap(a.order) > 64 && len(a.order) < cap(a.order)/4 {
			a.order = append([]sessionRef(nil), a.order...)
		}
	}
}

// PersistSession keeps s for MaxDisconnectionDuration.
func (a *SessionAware) PersistSession(s *Session) {
	now := a.opts.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions[s.PID] = storedSession{s: *s, at: now}
	a.order = append(a.order, sessionRef{pid: s.PID, at: now})
	a.expireLocked(now)
}

// RestoreSession takes the session pid out of the store and returns it with
// the packets it missed after offset. An empty offset (a client that had
// received no event) starts from the offset the session connected at; an
// offset older than that does too. The returned Session.Offset is the
// offset the missed packets start after.
func (a *SessionAware) RestoreSession(_ context.Context, pid, offset string) (*Session, error) {
	now := a.opts.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expireLocked(now)
	stored, ok := a.sessions[pid]
	if !ok {
		return nil, ErrSessionUnknown
	}
	delete(a.sessions, pid) // a session is restored once
	start, err := a.startLocked(offset, stored.s.Offset)
	if err != nil {
		return nil, err
	}
	s := stored.s
	s.Rooms = append([]string(nil), s.Rooms...)
	s.Offset = formatOffset(start)
	s.MissedPackets, err = a.replayLocked(start, s.Rooms)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// startLocked picks the later of the client's offset and the session's.
func (a *SessionAware) startLocked(client, session string) (uint64, error) {
	var start uint64
	known := false
	for _, o := range [...]string{client, session} {
		if o == "" {
			continue
		}
		seq, err := parseOffset(o)
		if err != nil || seq >= a.nextSeq {
			return 0, fmt.Errorf("%w: %q", ErrOffsetUnknown, o)
		}
		start, known = max(start, seq), true
	}
	if !known {
		return 0, fmt.Errorf("%w: no offset", ErrOffsetUnknown)
	}
	return start, nil
}

// Offset returns the offset of the newest stored packet ("0" before the first).
func (a *SessionAware) Offset(context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return formatOffset(a.nextSeq - 1), nil
}

// Replay returns the stored packets after offset that a socket in rooms
// would have received.
func (a *SessionAware) Replay(_ context.Context, offset string, rooms []string) ([]*parser.Packet, error) {
	seq, err := parseOffset(offset)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil || seq >= a.nextSeq {
		return nil, fmt.Errorf("%w: %q", ErrOffsetUnknown, offset)
	}
	return a.replayLocked(seq, rooms)
}

func (a *SessionAware) replayLocked(after uint64, rooms []string) ([]*parser.Packet, error) {
	first := a.nextSeq // seq of the oldest stored packet
	if len(a.packets) > 0 {
		first = a.packets[0].seq
	}
	if after+1 < first {
		return nil, fmt.Errorf("%w: packets after %s were dropped", ErrOffsetUnknown, formatOffset(after))
	}
	var out []*parser.Packet
	for _, p := range a.packets[after+1-first:] {
		if SessionIncludes(rooms, p.opts) {
			out = append(out, p.pkt)
		}
	}
	return out, nil
}

func formatOffset(seq uint64) string { return strconv.FormatUint(seq, 36) }

func parseOffset(s string) (uint64, error) { return strconv.ParseUint(s, 36, 64) }
