package adapter

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/seed9706/socketio/parser"
)

// InMemory is the adapter of a single server (JS socket.io-adapter's
// Adapter): rooms live in this process and every operation is local.
// Cluster adapters can embed it for their local part.
type InMemory struct {
	nsp Namespace

	mu    sync.RWMutex
	rooms map[string]roomMembers // room -> its sockets
	sids  map[string]*member     // socket id -> its handle and rooms
}

type member struct {
	id    string
	sock  Socket
	rooms roomList
}

// NewInMemory returns the in-memory adapter of nsp. It is a Factory.
func NewInMemory(nsp Namespace) Adapter { return newInMemory(nsp) }

func newInMemory(nsp Namespace) *InMemory {
	return &InMemory{
		nsp:   nsp,
		rooms: make(map[string]roomMembers),
		sids:  make(map[string]*member),
	}
}

// Init does nothing.
func (a *InMemory) Init(context.Context) error { return nil }

// Close does nothing.
func (a *InMemory) Close(context.Context) error { return nil }

// ServerCount is always 1.
func (a *InMemory) ServerCount(context.Context) (int, error) { return 1, nil }

// AddAll adds s to rooms.
func (a *InMemory) AddAll(s Socket, rooms []string) {
	id := s.ID()
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.sids[id]
	if m == nil {
		m = &member{id: id, sock: s}
		a.sids[id] = m
	}
	for _, room := range rooms {
		if !m.rooms.add(room) {
			continue
		}
		if set, ok := a.rooms[room]; ok {
			a.rooms[room] = set.with(m)
		} else {
			a.rooms[room] = roomMembers{one: m}
		}
	}
}

// Del removes the socket id from room.
func (a *InMemory) Del(id, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if m := a.sids[id]; m != nil {
		m.rooms.remove(room)
	}
	a.delFromRoom(id, room)
}

func (a *InMemory) delFromRoom(id, room string) {
	set, ok := a.rooms[room]
	if !ok {
		return
	}
	if set, empty := set.without(id); empty {
		delete(a.rooms, room)
	} else {
		a.rooms[room] = set
	}
}

// DelAll removes the socket id from every room and forgets it.
func (a *InMemory) DelAll(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.sids[id]
	if m == nil {
		return
	}
	for _, room := range m.rooms.list {
		a.delFromRoom(id, room)
	}
	delete(a.sids, id)
}

// SocketRooms returns the rooms of the socket id, in the order it joined them.
func (a *InMemory) SocketRooms(id string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	m := a.sids[id]
	if m == nil {
		return nil
	}
	return slices.Clone(m.rooms.list)
}

// Sockets returns the ids of the connected sockets in any of rooms.
func (a *InMemory) Sockets(_ context.Context, rooms []string) ([]string, error) {
	targets := a.Select(BroadcastOptions{Rooms: rooms})
	ids := make([]string, len(targets))
	for i, s := range targets {
		ids[i] = s.ID()
	}
	return ids, nil
}

// Select returns the connected local sockets that opts selects: the members
// of any of opts.Rooms (every socket when empty), once each, minus the
// members of opts.Except.
func (a *InMemory) Select(opts BroadcastOptions) []Socket {
	return a.appendSelected(nil, opts, true)
}

// targetPool recycles the target lists of broadcasts (80 KB for 10,000 sockets).
var targetPool = sync.Pool{New: func() any { return new([]Socket) }}

// appendSelected appends what Select returns to out; with connectedOnly
// false it leaves the Connected check out, for callers whose Deliver makes
// it anyway (a lock less per recipient of a broadcast).
func (a *InMemory) appendSelected(out []Socket, opts BroadcastOptions, connectedOnly bool) []Socket {
	a.mu.RLock()
	defer a.mu.RUnlock()
	excluded := func(id string) bool {
		for _, room := range opts.Except {
			if set, ok := a.rooms[room]; ok && set.has(id) {
				return true
			}
		}
		return false
	}
	add := func(m *member) {
		if !excluded(m.id) && (!connectedOnly || m.sock.Connected()) {
			out = append(out, m.sock)
		}
	}
	switch len(opts.Rooms) {
	case 0:
		out = slices.Grow(out, len(a.sids))
		for _, m := range a.sids {
			add(m)
		}
	case 1:
		if set, ok := a.rooms[opts.Rooms[0]]; ok {
			set.each(add)
		}
	default:
		seen := make(map[string]struct{})
		for _, room := range opts.Rooms {
			if set, ok := a.rooms[room]; ok {
				set.each(func(m *member) {
					if _, dup := seen[m.id]; !dup {
						seen[m.id] = struct{}{}
						add(m)
					}
				})
			}
		}
	}
	return out
}

// forEachSelected calls fn for each selected socket, without the lock held
// (connectedOnly: see appendSelected).
func (a *InMemory) forEachSelected(opts BroadcastOptions, connectedOnly bool, fn func(Socket)) {
	buf := targetPool.Get().(*[]Socket)
	targets := a.appendSelected((*buf)[:0], opts, connectedOnly)
	for _, s := range targets {
		fn(s)
	}
	clear(targets) // drop the references before pooling
	*buf = targets[:0]
	targetPool.Put(buf)
}

// Broadcast encodes p once and queues it for every selected socket.
func (a *InMemory) Broadcast(_ context.Context, p *parser.Packet, opts BroadcastOptions) error {
	p.Namespace = a.nsp.Name()
	prepared, err := a.nsp.Prepare(p)
	if err != nil {
		return err
	}
	a.forEachSelected(opts, false, func(s Socket) { s.Deliver(prepared, opts.Flags) })
	return nil
}

// BroadcastWithAck gives p a fresh ack id, registers ack on every selected
// socket, queues p for them and reports how many were reached.
func (a *InMemory) BroadcastWithAck(_ context.Context, p *parser.Packet, opts BroadcastOptions,
	clientCount func(int), ack func(*parser.Packet)) error {
	p.Namespace = a.nsp.Name()
	p.ID, p.HasID = a.nsp.NextAckID(), true
	prepared, err := a.nsp.Prepare(p)
	if err != nil {
		clientCount(0)
		return err
	}
	n := 0
	a.forEachSelected(opts, true, func(s Socket) {
		// Register first: the reply may arrive before Deliver returns.
		if s.ExpectAck(p.ID, ack) && s.Deliver(prepared, opts.Flags) {
			n++
		}
	})
	clientCount(n)
	return nil
}

// FetchSockets returns the selected local sockets.
func (a *InMemory) FetchSockets(_ context.Context, opts BroadcastOptions) ([]SocketDetails, error) {
	targets := a.Select(opts)
	out := make([]SocketDetails, len(targets))
	for i, s := range targets {
		out[i] = s
	}
	return out, nil
}

// AddSockets makes the selected sockets join rooms.
func (a *InMemory) AddSockets(_ context.Context, opts BroadcastOptions, rooms []string) error {
	for _, s := range a.Select(opts) {
		s.Join(rooms...)
	}
	return nil
}

// DelSockets makes the selected sockets leave rooms.
func (a *InMemory) DelSockets(_ context.Context, opts BroadcastOptions, rooms []string) error {
	for _, s := range a.Select(opts) {
		s.Leave(rooms...)
	}
	return nil
}

// DisconnectSockets disconnects the selected sockets.
func (a *InMemory) DisconnectSockets(_ context.Context, opts BroadcastOptions, close bool) error {
	for _, s := range a.Select(opts) {
		s.Disconnect(close)
	}
	return nil
}

// ServerSideEmit fails: a single server has no one to talk to.
func (a *InMemory) ServerSideEmit(context.Context, []json.RawMessage, func([]json.RawMessage, error)) error {
	return ErrServerSideEmitUnsupported
}

// PersistSession does nothing: this adapter does not recover sessions.
func (a *InMemory) PersistSession(*Session) {}

// RestoreSession always returns nil: this adapter does not recover sessions.
func (a *InMemory) RestoreSession(context.Context, string, string) (*Session, error) {
	return nil, nil
}

// Rooms returns every room that has at least one socket (socket ids
// included, since each socket is in its own room), as JS adapter.rooms.keys().
func (a *InMemory) Rooms() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.rooms))
	for room := range a.rooms {
		out = append(out, room)
	}
	return out
}

// HasRoom reports whether room has at least one socket.
func (a *InMemory) HasRoom(room string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ok := a.rooms[room] // a room without members is deleted
	return ok
}
