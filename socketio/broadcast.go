package socketio

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

// BroadcastOperator targets the sockets of a namespace selected by rooms,
// on every server (JS BroadcastOperator). It is immutable: each modifier
// returns a new operator, so an operator may be kept and reused.
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []string
	except []string
	flags  adapter.Flags
}

func newOperator(n *Namespace) BroadcastOperator { return BroadcastOperator{nsp: n} }

// To adds rooms to the target (the union of every room given); no room means
// every socket of the namespace.
func (b BroadcastOperator) To(rooms ...string) BroadcastOperator {
	b.rooms = append(slices.Clip(b.rooms), rooms...)
	return b
}

// In is To.
func (b BroadcastOperator) In(rooms ...string) BroadcastOperator { return b.To(rooms...) }

// Except leaves out every socket in any of rooms.
func (b BroadcastOperator) Except(rooms ...string) BroadcastOperator {
	b.except = append(slices.Clip(b.except), rooms...)
	return b
}

// Local keeps the operation on this server.
func (b BroadcastOperator) Local() BroadcastOperator { b.flags.Local = true; return b }

// Volatile drops the event for clients whose transport cannot take it now.
func (b BroadcastOperator) Volatile() BroadcastOperator { b.flags.Volatile = true; return b }

// Compress sets the compress flag (accepted, not applied yet).
func (b BroadcastOperator) Compress(compress bool) BroadcastOperator {
	b.flags.Compress = compress
	return b
}

func (b BroadcastOperator) options() adapter.BroadcastOptions {
	return adapter.BroadcastOptions{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

// Emit sends the event to every targeted socket. The packet is encoded once
// and the same bytes are queued for each client; a slow client never delays
// the others.
func (b BroadcastOperator) Emit(event string, args ...any) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	p, err := parser.NewEvent(b.nsp.name, event, args)
	if err != nil {
		return err
	}
	return b.nsp.adapter.Broadcast(context.Background(), p, b.options())
}

// EmitWithAck sends the event to every targeted socket and waits for each
// one's acknowledgement; each reply holds the first argument of a client's
// acknowledgement. The ctx deadline is JS timeout(ms): when ctx is done
// first, the replies received so far come back with ErrTimeout (or ctx.Err()
// when ctx was cancelled without a deadline).
func (b BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]*Reply, error) {
	if err := checkEventName(event); err != nil {
		return nil, err
	}
	p, err := parser.NewEvent(b.nsp.name, event, args)
	if err != nil {
		return nil, err
	}
	servers, err := b.nsp.adapter.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	opts := b.options()
	if deadline, ok := ctx.Deadline(); ok {
		opts.Flags.Timeout = max(time.Until(deadline), time.Millisecond)
	}
	var (
		mu       sync.Mutex
		replies  []*Reply
		expected int
		reported int
		finished bool
		done     = make(chan struct{})
	)
	check := func() {
		if !finished && reported >= servers && len(replies) >= expected {
			finished = true
			close(done)
		}
	}
	clientCount := func(n int) {
		mu.Lock()
		defer mu.Unlock()
		expected += n
		reported++
		check()
	}
	ack := func(reply *parser.Packet) {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			replies = append(replies, newReply(reply, true))
			check()
		}
	}
	if err := b.nsp.adapter.BroadcastWithAck(ctx, p, opts, clientCount, ack); err != nil {
		return nil, err
	}
	select {
	case <-done:
		return replies, nil
	case <-ctx.Done():
		mu.Lock()
		complete := finished // both ready: the replies win
		finished = true      // replies is final from here on
		mu.Unlock()
		if complete {
			return replies, nil
		}
		// Forget the acks the silent clients still owe, so that they do not
		// pile up to MaxPendingAcks.
		for _, s := range b.nsp.Sockets() {
			s.dropAck(p.ID)
		}
		return replies, ctxError(ctx)
	}
}

// FetchSockets returns the targeted sockets, on every server.
func (b BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	list, err := b.nsp.adapter.FetchSockets(ctx, b.options())
	if err != nil {
		return nil, err
	}
	out := make([]*RemoteSocket, len(list))
	for i, d := range list {
		out[i] = &RemoteSocket{
			ID:        d.ID(),
			Handshake: d.Handshake(),
			Rooms:     d.Rooms(),
			Data:      d.Data(),
			nsp:       b.nsp,
		}
	}
	return out, nil
}

// SocketsJoin makes the targeted sockets join rooms.
func (b BroadcastOperator) SocketsJoin(rooms ...string) error {
	return b.nsp.adapter.AddSockets(context.Background(), b.options(), rooms)
}

// SocketsLeave makes the targeted sockets leave rooms.
func (b BroadcastOperator) SocketsLeave(rooms ...string) error {
	return b.nsp.adapter.DelSockets(context.Background(), b.options(), rooms)
}

// DisconnectSockets disconnects the targeted sockets; with close, their
// whole connections are closed.
func (b BroadcastOperator) DisconnectSockets(close bool) error {
	return b.nsp.adapter.DisconnectSockets(context.Background(), b.options(), close)
}

// RemoteSocket is a socket returned by FetchSockets, on this server or
// another one: a snapshot of its details, and operations that reach it
// wherever it is.
type RemoteSocket struct {
	ID        string
	Handshake *Handshake
	Rooms     []string
	Data      any
	nsp       *Namespace
}

func (r *RemoteSocket) operator() BroadcastOperator {
	b := newOperator(r.nsp).To(r.ID)
	b.flags.ExpectSingleResponse = true
	return b
}

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.operator().Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) error { return r.operator().SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) error { return r.operator().SocketsLeave(rooms...) }

// Disconnect disconnects the socket (and its connection when close is set).
func (r *RemoteSocket) Disconnect(close bool) error {
	return r.operator().DisconnectSockets(close)
}
