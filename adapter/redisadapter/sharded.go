package redisadapter

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

// SubscriptionMode says which channels a sharded adapter subscribes to.
type SubscriptionMode int

const (
	// Dynamic subscribes to 2 channels per namespace plus one per public room
	// (a room that is not a socket id). The JS default.
	Dynamic SubscriptionMode = iota
	// Static subscribes to 2 channels per namespace.
	Static
	// DynamicPrivate subscribes to one channel per room, private rooms included.
	DynamicPrivate
)

// ShardedOptions configure the sharded adapter. The zero value (or nil) is
// the JS createShardedAdapter default.
type ShardedOptions struct {
	// ChannelPrefix prefixes every channel. Default "socket.io".
	ChannelPrefix string
	// SubscriptionMode must be the same on every node. Default Dynamic.
	SubscriptionMode SubscriptionMode
	// RequestsTimeout bounds FetchSockets (unless its flags carry a timeout)
	// and ServerSideEmit with acknowledgements. Default 5s.
	RequestsTimeout time.Duration
	// PublishQueueSize bounds the messages waiting for Redis. Default 4096.
	PublishQueueSize int
	// Logger receives connection errors and dropped messages. Default: silent.
	Logger *slog.Logger
}

// NewSharded returns an adapter.Factory for the sharded Pub/Sub variant of
// @socket.io/redis-adapter 8.3 (createShardedAdapter): SPUBLISH and
// SSUBSCRIBE, ClusterAdapter messages, SHARDNUMSUB for the server count.
// It needs Redis 7 or later. The redis emitters do not reach it (as with JS).
func NewSharded(rdb redis.UniversalClient, opts *ShardedOptions) adapter.Factory {
	o := opts.withDefaults()
	return func(nsp adapter.Namespace) adapter.Adapter { return newSharded(nsp, rdb, o) }
}

func (opts *ShardedOptions) withDefaults() ShardedOptions {
	var o ShardedOptions
	if opts != nil {
		o = *opts
	}
	o.ChannelPrefix = cmp.Or(o.ChannelPrefix, DefaultKey)
	commonDefaults(&o.RequestsTimeout, &o.PublishQueueSize, &o.Logger)
	return o
}

// ShardedAdapter is the sharded Redis adapter of one namespace.
type ShardedAdapter struct {
	core
	opts                     ShardedOptions
	uid                      string
	channel, responseChannel string

	roomMu sync.Mutex      // guards the room subscriptions
	want   map[string]bool // dynamic channel -> should be subscribed
	kick   chan struct{}   // wakes the room subscriber
	subs   sync.WaitGroup
}

func newSharded(nsp adapter.Namespace, rdb redis.UniversalClient, o ShardedOptions) *ShardedAdapter {
	a := &ShardedAdapter{
		core:    newCore(nsp, rdb, true, o.PublishQueueSize, o.Logger, o.RequestsTimeout),
		opts:    o,
		uid:     randomHex(),
		channel: o.ChannelPrefix + "#" + nsp.Name() + "#",
		want:    map[string]bool{},
		kick:    make(chan struct{}, 1),
	}
	a.responseChannel = a.channel + a.uid + "#"
	return a
}

// UID is this node's id in the cluster (16 hex characters, as in JS).
func (a *ShardedAdapter) UID() string { return a.uid }

// Init subscribes to the namespace's main and response channels and waits
// (at most RequestsTimeout) for Redis to confirm them.
func (a *ShardedAdapter) Init(ctx context.Context) error {
	a.startWorker()
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	err := a.link.start(ctx, nil, []string{a.channel, a.responseChannel}, a.onRaw)
	if a.opts.SubscriptionMode != Static {
		a.subs.Add(1)
		go a.roomSubscriber()
	}
	return err
}

// Close unsubscribes, publishes what is still queued (until ctx is done)
// and fails the pending requests.
func (a *ShardedAdapter) Close(ctx context.Context) error {
	err := a.closeCore(ctx)
	a.subs.Wait() // the link's stop channel ends the room subscriber
	return err
}

// ServerCount is the number of servers subscribed to the namespace's main
// channel (PUBSUB SHARDNUMSUB), this one included.
func (a *ShardedAdapter) ServerCount(ctx context.Context) (int, error) {
	res, err := a.link.rdb.PubSubShardNumSub(ctx, a.channel).Result()
	if err != nil {
		return 0, fmt.Errorf("redisadapter: server count: %w", err)
	}
	return int(res[a.channel]), nil
}

// Room channels (dynamic modes): a room gets its channel while it has a
// local socket. The subscriber goroutine applies the wanted state, so
// joining a room never waits for Redis.

// separateChannel reports whether room has its own channel (JS
// shouldUseASeparateNamespace): every room in DynamicPrivate mode, rooms
// that are not a local socket id in Dynamic mode.
func (a *ShardedAdapter) separateChannel(room string) bool {
	switch a.opts.SubscriptionMode {
	case DynamicPrivate:
		return true
	case Dynamic:
		return a.SocketRooms(room) == nil
	}
	return false
}

// AddAll adds the socket to rooms, subscribing to new rooms' channels.
func (a *ShardedAdapter) AddAll(s adapter.Socket, rooms []string) {
	a.localAdapter.AddAll(s, rooms)
	a.syncRooms(rooms)
}

// Del removes the socket from room, unsubscribing when it empties.
func (a *ShardedAdapter) Del(id, room string) {
	a.localAdapter.Del(id, room)
	a.syncRooms([]string{room})
}

// DelAll removes the socket from every room.
func (a *ShardedAdapter) DelAll(id string) {
	rooms := a.SocketRooms(id)
	a.localAdapter.DelAll(id)
	a.syncRooms(rooms)
}

func (a *ShardedAdapter) syncRooms(rooms []string) {
	if a.opts.SubscriptionMode == Static {
		return
	}
	a.roomMu.Lock()
	changed := false
	for _, room := range rooms {
		want := a.HasRoom(room) && a.separateChannel(room)
		ch := a.channel + room + "#"
		if a.want[ch] != want {
			changed = true
			if want {
				a.want[ch] = true
			} else {
				delete(a.want, ch)
			}
		}
	}
	a.roomMu.Unlock()
	if changed {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
}

func (a *ShardedAdapter) roomSubscriber() {
	defer a.subs.Done()
	subscribed := map[string]bool{}
	for {
		select {
		case <-a.link.stop:
			return
		case <-a.kick:
		}
		var add, remove []string
		a.roomMu.Lock()
		for ch := range a.want {
			if !subscribed[ch] {
				add = append(add, ch)
				subscribed[ch] = true
			}
		}
		for ch := range subscribed {
			if !a.want[ch] {
				remove = append(remove, ch)
				delete(subscribed, ch)
			}
		}
		a.roomMu.Unlock()
		ctx := context.Background()
		// go-redis records the channels even when the command fails, and
		// subscribes to them again when it reconnects.
		if len(add) > 0 {
			if err := a.link.ps.SSubscribe(ctx, add...); err != nil {
				a.log.Warn("redisadapter: room subscription failed, will retry on reconnection", "err", err)
			}
		}
		if len(remove) > 0 {
			if err := a.link.ps.SUnsubscribe(ctx, remove...); err != nil {
				a.log.Warn("redisadapter: room unsubscription failed", "err", err)
			}
		}
	}
}

// envelope encodes a ClusterAdapter message {type, data, uid, nsp}: msgpack
// when the type may carry binary and data has some, JSON otherwise.
func (a *ShardedAdapter) envelope(kind int, data *object) []byte {
	msg := newObject("type", float64(kind), "data", data, "uid", a.uid, "nsp", a.nsp.Name())
	switch kind {
	case msgBroadcast, msgBroadcastAck, msgFetchSocketsResponse, msgServerSideEmit, msgServerSideEmitResponse:
		if hasBinary(data) {
			return encodeMsgpack(msg)
		}
	}
	return toJSON(msg)
}

func hasBinary(v any) bool {
	switch v := v.(type) {
	case []byte:
		return true
	case []any:
		for _, e := range v {
			if hasBinary(e) {
				return true
			}
		}
	case *object:
		for _, e := range v.vals {
			if hasBinary(e) {
				return true
			}
		}
	}
	return false
}

// looksLikeASocketID is JS room.length === 20 (UTF-16 code units).
func looksLikeASocketID(room string) bool {
	return len(utf16.Encode([]rune(room))) == 20
}

// publish sends a message on the main channel, or on a room's channel for a
// broadcast without ack to a single room (JS computeChannel).
func (a *ShardedAdapter) publish(kind int, data *object, rooms []string) error {
	channel := a.channel
	if kind == msgBroadcast && !data.has("requestId") && len(rooms) == 1 &&
		(a.opts.SubscriptionMode == Dynamic && !looksLikeASocketID(rooms[0]) || a.opts.SubscriptionMode == DynamicPrivate) {
		channel += rooms[0] + "#"
	}
	return a.link.publish(channel, a.envelope(kind, data))
}

func (a *ShardedAdapter) publishResponse(requesterUID string, kind int, data *object) {
	_ = a.link.publish(a.channel+requesterUID+"#", a.envelope(kind, data))
}

// Broadcast publishes p to the other servers, then delivers it locally
// (local delivery happens even when publishing fails).
func (a *ShardedAdapter) Broadcast(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) error {
	var pubErr error
	if !opts.Flags.Local {
		packet, err := packetTree(p, "")
		if err != nil {
			return err
		}
		pubErr = a.publish(msgBroadcast, newObject("packet", packet, "opts", wireOpts(opts, true)), dedup(opts.Rooms))
	}
	return cmp.Or(a.localAdapter.Broadcast(ctx, p, opts), pubErr)
}

// BroadcastWithAck publishes the broadcast with a request id, then runs it
// locally; every server reports its client count and each client's ack.
func (a *ShardedAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions,
	clientCount func(int), ack func(*parser.Packet)) error {
	return a.clusterBroadcastWithAck(ctx, p, opts, clientCount, ack, a.publishMain)
}

// AddSockets makes the selected sockets of every server join rooms.
func (a *ShardedAdapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	return a.socketsOp(opts, msgSocketsJoin, "rooms", strList(rooms), func() error {
		return a.localAdapter.AddSockets(ctx, opts, rooms)
	})
}

// DelSockets makes the selected sockets of every server leave rooms.
func (a *ShardedAdapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	return a.socketsOp(opts, msgSocketsLeave, "rooms", strList(rooms), func() error {
		return a.localAdapter.DelSockets(ctx, opts, rooms)
	})
}

// DisconnectSockets disconnects the selected sockets of every server.
func (a *ShardedAdapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, close bool) error {
	return a.socketsOp(opts, msgDisconnectSockets, "close", close, func() error {
		return a.localAdapter.DisconnectSockets(ctx, opts, close)
	})
}

func (a *ShardedAdapter) socketsOp(opts adapter.BroadcastOptions, kind int, key string, value any, local func() error) error {
	var pubErr error
	if !opts.Flags.Local {
		pubErr = a.publish(kind, newObject("opts", wireOpts(opts, true), key, value), nil)
	}
	return cmp.Or(local(), pubErr)
}

// FetchSockets returns the selected sockets of every server. It fails with
// a *TimeoutError when a server does not answer within the flags' timeout
// (RequestsTimeout when zero).
func (a *ShardedAdapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketDetails, error) {
	return a.clusterFetchSockets(ctx, opts, a.ServerCount, a.publishMain)
}

// ServerSideEmit sends an event to the other servers; with ack, it waits
// (RequestsTimeout) for one reply per other server.
func (a *ShardedAdapter) ServerSideEmit(ctx context.Context, args []json.RawMessage, ack func([]json.RawMessage, error)) error {
	return a.clusterServerSideEmit(ctx, args, ack, a.ServerCount, a.publishMain)
}

// publishMain publishes on the main channel.
func (a *ShardedAdapter) publishMain(kind int, data *object) error { return a.publish(kind, data, nil) }

// onRaw handles every message of the subscription, on the receive goroutine.
func (a *ShardedAdapter) onRaw(m *redis.Message) {
	if err := a.onMessage(m.Channel, []byte(m.Payload)); err != nil {
		a.log.Warn("redisadapter: ignoring malformed message", "channel", m.Channel, "err", err)
	}
}

func (a *ShardedAdapter) onMessage(channel string, payload []byte) error {
	v, err := decodeMessage(payload)
	if err != nil {
		return err
	}
	msg := obj(v)
	if msg == nil {
		return fmt.Errorf("redisadapter: message is not an object")
	}
	kind, _ := num(msg.get("type"))
	data := obj(msg.get("data"))
	switch kind {
	case msgFetchSocketsResponse, msgServerSideEmitResponse, msgBroadcastClientCount, msgBroadcastAck:
		a.onClusterResponse(int(kind), data)
		return nil
	}
	uid := str(msg.get("uid"))
	if channel == a.responseChannel || uid == a.uid || str(msg.get("nsp")) != a.nsp.Name() {
		return nil
	}
	return a.onClusterMessage(uid, int(kind), data, a.publishResponse, nil)
}
