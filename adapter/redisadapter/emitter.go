package redisadapter

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/parser"
)

// ErrReservedEvent is returned when emitting an event name Socket.IO reserves.
var ErrReservedEvent = fmt.Errorf("redisadapter: reserved event name")

// EmitterOptions configure an Emitter. The zero value (or nil) is the JS default.
type EmitterOptions struct {
	// Key prefixes every channel; it must match the servers' key. Default "socket.io".
	Key string
}

// Emitter sends events to the clients of a cluster of servers that use the
// classic adapter, from a process that is not a server, as
// @socket.io/redis-emitter 5.1 does (same channels and messages; the
// sharded adapter does not receive them, as with JS). It is immutable: To,
// Except, Volatile and Of return new emitters. Its methods publish at once
// and are safe for concurrent use.
type Emitter struct {
	rdb      redis.UniversalClient
	opts     EmitterOptions
	nsp      string
	rooms    []string
	except   []string
	volatile bool
	compress bool
}

// NewEmitter returns an emitter for namespace "/".
func NewEmitter(rdb redis.UniversalClient, opts *EmitterOptions) *Emitter {
	e := &Emitter{rdb: rdb, nsp: "/"}
	if opts != nil {
		e.opts = *opts
	}
	if e.opts.Key == "" {
		e.opts.Key = DefaultKey
	}
	return e
}

func (e *Emitter) clone() *Emitter {
	c := *e
	c.rooms, c.except = slices.Clip(c.rooms), slices.Clip(c.except)
	return &c
}

// Of returns an emitter for namespace nsp ("/" is prepended when missing).
func (e *Emitter) Of(nsp string) *Emitter {
	if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	return &Emitter{rdb: e.rdb, opts: e.opts, nsp: nsp}
}

// To targets the sockets in rooms (union); no room means every socket.
func (e *Emitter) To(rooms ...string) *Emitter {
	c := e.clone()
	c.rooms = append(c.rooms, rooms...)
	return c
}

// In is To.
func (e *Emitter) In(rooms ...string) *Emitter { return e.To(rooms...) }

// Except leaves out the sockets in rooms.
func (e *Emitter) Except(rooms ...string) *Emitter {
	c := e.clone()
	c.except = append(c.except, rooms...)
	return c
}

// Volatile lets servers drop the event for clients that cannot take it now.
func (e *Emitter) Volatile() *Emitter {
	c := e.clone()
	c.volatile = true
	return c
}

// Compress sets the compress flag.
func (e *Emitter) Compress(compress bool) *Emitter {
	c := e.clone()
	c.compress = compress
	return c
}

func (e *Emitter) opts3() *object {
	flags := &object{}
	if e.volatile {
		flags.set("volatile", true)
	}
	if e.compress {
		flags.set("compress", true)
	}
	// The JS emitter orders these keys {rooms, flags, except}.
	return newObject("rooms", strList(dedup(e.rooms)), "flags", flags, "except", strList(dedup(e.except)))
}

func (e *Emitter) broadcastMessage(event string, args []any) (string, []byte, error) {
	if parser.IsReservedEvent(event) {
		return "", nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	p, err := parser.NewEvent(e.nsp, event, args)
	if err != nil {
		return "", nil, err
	}
	packet, err := packetTree(p, e.nsp)
	if err != nil {
		return "", nil, err
	}
	channel := e.opts.Key + "#" + e.nsp + "#"
	if rooms := dedup(e.rooms); len(rooms) == 1 {
		channel += rooms[0] + "#"
	}
	return channel, encodeMsgpack([]any{"emitter", packet, e.opts3()}), nil
}

// Emit broadcasts an event to the targeted clients of every server.
// []byte arguments arrive as binary.
func (e *Emitter) Emit(ctx context.Context, event string, args ...any) error {
	channel, payload, err := e.broadcastMessage(event, args)
	if err != nil {
		return err
	}
	return e.publish(ctx, channel, payload)
}

func (e *Emitter) request(ctx context.Context, kind int, key string, value any) error {
	return e.publish(ctx, e.requestChannel(), e.requestMessage(kind, key, value))
}

func (e *Emitter) requestChannel() string { return e.opts.Key + "-request#" + e.nsp + "#" }

// requestMessage is a join, leave or disconnect request; emitters send no uid.
func (e *Emitter) requestMessage(kind int, key string, value any) []byte {
	opts := newObject("rooms", strList(dedup(e.rooms)), "except", strList(dedup(e.except)))
	return toJSON(newObject("type", float64(kind), "opts", opts, key, value))
}

// SocketsJoin makes the targeted sockets join rooms.
func (e *Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	return e.request(ctx, reqRemoteJoin, "rooms", strList(rooms))
}

// SocketsLeave makes the targeted sockets leave rooms.
func (e *Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	return e.request(ctx, reqRemoteLeave, "rooms", strList(rooms))
}

// DisconnectSockets disconnects the targeted sockets (and closes their
// connections when close is set).
func (e *Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	return e.request(ctx, reqRemoteDisconnect, "close", close)
}

// ServerSideEmit sends an event to every server's server-side handlers
// (no acknowledgements, as with JS).
func (e *Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	data := []any{event}
	for _, a := range args {
		raw, err := parser.Marshal(a)
		if err != nil {
			return err
		}
		data = append(data, rawJSON(raw))
	}
	msg := newObject("uid", "emitter", "type", float64(reqServerSideEmit), "data", data)
	return e.publish(ctx, e.requestChannel(), toJSON(msg))
}

func (e *Emitter) publish(ctx context.Context, channel string, payload []byte) error {
	if err := e.rdb.Publish(ctx, channel, payload).Err(); err != nil {
		return fmt.Errorf("redisadapter: publish: %w", err)
	}
	return nil
}
