package redisadapter

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

// Request types of the classic protocol (RequestType in @socket.io/redis-adapter).
const (
	reqSockets              = 0
	reqAllRooms             = 1
	reqRemoteJoin           = 2
	reqRemoteLeave          = 3
	reqRemoteDisconnect     = 4
	reqRemoteFetch          = 5
	reqServerSideEmit       = 6
	reqBroadcast            = 7
	reqBroadcastClientCount = 8
	reqBroadcastAck         = 9
)

// Options configure the classic adapter. The zero value (or nil) is the
// JS createAdapter default.
type Options struct {
	// Key prefixes every channel. Default "socket.io".
	Key string
	// RequestsTimeout bounds FetchSockets, AllRooms and ServerSideEmit with
	// acknowledgements. Default 5s.
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel sends responses to the requester's own
	// channel (prefix-response#nsp#uid#) instead of the shared one. Default false.
	PublishOnSpecificResponseChannel bool
	// PublishQueueSize bounds the messages waiting for Redis; when it is
	// full (Redis slow or down) new messages are dropped. Default 4096.
	PublishQueueSize int
	// Logger receives connection errors and dropped messages. Default: silent.
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Key == "" {
		r.Key = DefaultKey
	}
	commonDefaults(&r.RequestsTimeout, &r.PublishQueueSize, &r.Logger)
	return r
}

// New returns an adapter.Factory whose adapters share the namespaces'
// rooms, broadcasts and requests through Redis Pub/Sub, speaking the
// protocol of @socket.io/redis-adapter 8.3 (createAdapter), so Go and
// Node.js servers can form one cluster. Each namespace's adapter uses
// one connection of rdb for its subscription; rdb is not closed by the
// adapter.
func New(rdb redis.UniversalClient, opts *Options) adapter.Factory {
	o := opts.withDefaults()
	return func(nsp adapter.Namespace) adapter.Adapter { return newAdapter(nsp, rdb, o) }
}

// Adapter is the classic Redis adapter of one namespace. Local operations
// are those of adapter.InMemory; cluster operations go through Redis.
type Adapter struct {
	core
	opts Options
	uid  string

	channel, requestChannel, responseChannel, specificResponseChannel string
}

func newAdapter(nsp adapter.Namespace, rdb redis.UniversalClient, o Options) *Adapter {
	name := nsp.Name()
	a := &Adapter{
		core:            newCore(nsp, rdb, false, o.PublishQueueSize, o.Logger, o.RequestsTimeout),
		opts:            o,
		uid:             randomID(6),
		channel:         o.Key + "#" + name + "#",
		requestChannel:  o.Key + "-request#" + name + "#",
		responseChannel: o.Key + "-response#" + name + "#",
	}
	a.specificResponseChannel = a.responseChannel + a.uid + "#"
	return a
}

// UID is this node's id in the cluster (6 random characters, as in JS).
func (a *Adapter) UID() string { return a.uid }

// Init subscribes to the namespace's channels and waits (at most
// RequestsTimeout) until Redis confirmed them, so that the server counts in
// ServerCount from then on. When Redis is unreachable it returns the error
// and keeps retrying in the background; local operations work meanwhile.
func (a *Adapter) Init(ctx context.Context) error {
	a.startWorker()
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	return a.link.start(ctx, []string{a.channel + "*"},
		[]string{a.requestChannel, a.responseChannel, a.specificResponseChannel}, a.onMessage)
}

// Close unsubscribes, publishes what is still queued (until ctx is done)
// and fails the pending requests.
func (a *Adapter) Close(ctx context.Context) error { return a.closeCore(ctx) }

// ServerCount is the number of servers subscribed to the namespace's
// request channel (PUBSUB NUMSUB), this one included.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	res, err := a.link.rdb.PubSubNumSub(ctx, a.requestChannel).Result()
	if err != nil {
		return 0, fmt.Errorf("redisadapter: server count: %w", err)
	}
	return int(res[a.requestChannel]), nil
}

// Broadcast publishes p to the other servers, then delivers it locally.
// Local delivery happens even when publishing fails (Redis down, queue
// full); the publish error is returned.
func (a *Adapter) Broadcast(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) error {
	var pubErr error
	if !opts.Flags.Local {
		pubErr = a.publishBroadcast(p, opts)
	}
	return cmp.Or(a.localAdapter.Broadcast(ctx, p, opts), pubErr)
}

func (a *Adapter) publishBroadcast(p *parser.Packet, opts adapter.BroadcastOptions) error {
	packet, err := packetTree(p, a.nsp.Name())
	if err != nil {
		return err
	}
	rooms := dedup(opts.Rooms)
	channel := a.channel
	if len(rooms) == 1 {
		channel += rooms[0] + "#"
	}
	return a.link.publish(channel, encodeMsgpack([]any{a.uid, packet, wireOpts(opts, true)}))
}

// BroadcastWithAck publishes a broadcast-with-ack request (msgpack, on the
// request channel), then runs it locally. clientCount is called by each
// server that answers, this one first; the request is forgotten after
// opts.Flags.Timeout (RequestsTimeout when zero).
func (a *Adapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions,
	clientCount func(int), ack func(*parser.Packet)) error {
	var pubErr error
	if !opts.Flags.Local {
		packet, err := packetTree(p, a.nsp.Name())
		if err != nil {
			return err
		}
		requestID := randomID(6)
		msg := newObject("uid", a.uid, "requestId", requestID, "type", float64(reqBroadcast),
			"packet", packet, "opts", wireOpts(opts, true))
		a.addAckRequest(requestID, opts.Flags.Timeout, clientCount, ack)
		pubErr = a.link.publish(a.requestChannel, encodeMsgpack(msg))
	}
	return cmp.Or(a.localAdapter.BroadcastWithAck(ctx, p, opts, clientCount, ack), pubErr)
}

// AddSockets makes the selected sockets of every server join rooms.
func (a *Adapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	return a.socketsOp(opts, reqRemoteJoin, "rooms", strList(rooms), func() error {
		return a.localAdapter.AddSockets(ctx, opts, rooms)
	})
}

// DelSockets makes the selected sockets of every server leave rooms.
func (a *Adapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	return a.socketsOp(opts, reqRemoteLeave, "rooms", strList(rooms), func() error {
		return a.localAdapter.DelSockets(ctx, opts, rooms)
	})
}

// DisconnectSockets disconnects the selected sockets of every server.
func (a *Adapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, close bool) error {
	return a.socketsOp(opts, reqRemoteDisconnect, "close", close, func() error {
		return a.localAdapter.DisconnectSockets(ctx, opts, close)
	})
}

// socketsOp publishes a join/leave/disconnect request and applies it
// locally. (JS applies it when its own request comes back; a Go node applies
// it at once and ignores its own request, so it works while Redis is down.)
func (a *Adapter) socketsOp(opts adapter.BroadcastOptions, kind int, key string, value any, local func() error) error {
	var pubErr error
	if !opts.Flags.Local {
		msg := newObject("uid", a.uid, "type", float64(kind), "opts", wireOpts(opts, false), key, value)
		pubErr = a.link.publish(a.requestChannel, toJSON(msg))
	}
	return cmp.Or(local(), pubErr)
}

// FetchSockets returns the selected sockets of every server: local ones as
// adapter.Socket, remote ones as *adapter.RemoteSocket. It fails with
// ErrFetchSocketsTimeout when a server does not answer within
// RequestsTimeout.
func (a *Adapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketDetails, error) {
	local, err := a.localAdapter.FetchSockets(ctx, opts)
	if err != nil || opts.Flags.Local {
		return local, err
	}
	r, err := a.request(ctx, func(id string) []byte {
		return toJSON(newObject("uid", a.uid, "requestId", id, "type", float64(reqRemoteFetch), "opts", wireOpts(opts, false)))
	})
	if r == nil || err != nil {
		return local, err
	}
	if ok, err := a.wait(ctx, r); err != nil || !ok {
		return nil, cmp.Or(err, ErrFetchSocketsTimeout)
	}
	return append(local, r.sockets...), nil
}

// AllRooms returns the rooms of every server (JS adapter.allRooms()).
func (a *Adapter) AllRooms(ctx context.Context) ([]string, error) {
	local := a.localAdapter.Rooms()
	r, err := a.request(ctx, func(id string) []byte {
		return toJSON(newObject("uid", a.uid, "requestId", id, "type", float64(reqAllRooms)))
	})
	if r == nil || err != nil {
		return local, err
	}
	if ok, err := a.wait(ctx, r); err != nil || !ok {
		return nil, cmp.Or(err, ErrAllRoomsTimeout)
	}
	for _, room := range local {
		r.rooms[room] = struct{}{}
	}
	return slices.Collect(maps.Keys(r.rooms)), nil
}

// request publishes a request on the request channel that every other
// server answers; nil means there is no other server.
func (a *Adapter) request(ctx context.Context, encode func(id string) []byte) (*request, error) {
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	return a.newRequest(n, a.timeout, func(id string) error { return a.link.publish(a.requestChannel, encode(id)) })
}

// ServerSideEmit sends an event to the other servers. With ack, it waits
// (RequestsTimeout) for one reply per other server; ack gets the replies
// and, on timeout, a *TimeoutError with the partial replies.
func (a *Adapter) ServerSideEmit(ctx context.Context, args []json.RawMessage, ack func([]json.RawMessage, error)) error {
	data := make([]any, len(args))
	for i, arg := range args {
		data[i] = rawJSON(arg)
	}
	if ack == nil {
		return a.link.publish(a.requestChannel, toJSON(newObject("uid", a.uid, "type", float64(reqServerSideEmit), "data", data)))
	}
	r, err := a.request(ctx, func(id string) []byte {
		return toJSON(newObject("uid", a.uid, "requestId", id, "type", float64(reqServerSideEmit), "data", data))
	})
	if err != nil {
		return err
	}
	if r == nil {
		ack([]json.RawMessage{}, nil)
		return nil
	}
	a.awaitServerSide(r, ack)
	return nil
}

// onMessage handles everything the subscription receives, on the receive
// goroutine: broadcasts (pattern messages), requests and responses.
func (a *Adapter) onMessage(m *redis.Message) {
	var err error
	switch {
	case m.Pattern != "":
		err = a.onBroadcast(m.Channel, []byte(m.Payload))
	case m.Channel == a.requestChannel:
		err = a.onRequest([]byte(m.Payload))
	case strings.HasPrefix(m.Channel, a.responseChannel):
		err = a.onResponse([]byte(m.Payload))
	}
	if err != nil {
		a.opts.Logger.Warn("redisadapter: ignoring malformed message", "channel", m.Channel, "err", err)
	}
}

func (a *Adapter) onBroadcast(channel string, payload []byte) error {
	if !strings.HasPrefix(channel, a.channel) {
		return nil
	}
	if room := strings.TrimSuffix(channel[len(a.channel):], "#"); room != "" && !a.HasRoom(room) {
		return nil // no local member: skip decoding
	}
	v, err := decodeMsgpack(payload)
	if err != nil {
		return err
	}
	msg, _ := v.([]any)
	if len(msg) < 3 {
		return fmt.Errorf("redisadapter: broadcast is not [uid, packet, opts]")
	}
	if uid, _ := msg[0].(string); uid == a.uid {
		return nil
	}
	nsp := "/"
	if s, ok := obj(msg[1]).get("nsp").(string); ok {
		nsp = s
	}
	if nsp != a.nsp.Name() {
		return nil
	}
	p, err := treePacket(msg[1], nsp)
	if err != nil {
		return err
	}
	return a.localAdapter.Broadcast(context.Background(), p, readOpts(msg[2], true))
}

func (a *Adapter) onRequest(payload []byte) error {
	v, err := decodeMessage(payload)
	if err != nil {
		return err
	}
	req := obj(v)
	if req == nil {
		return fmt.Errorf("redisadapter: request is not an object")
	}
	kind, _ := num(req.get("type"))
	uid, requestID := str(req.get("uid")), str(req.get("requestId"))
	ctx := context.Background()
	switch kind {
	case reqSockets:
		if a.hasRequest(requestID) {
			return nil
		}
		ids, _ := a.localAdapter.Sockets(ctx, strs(req.get("rooms")))
		a.respond(uid, toJSON(newObject("requestId", requestID, "sockets", strList(ids))))
	case reqAllRooms:
		if a.hasRequest(requestID) {
			return nil
		}
		a.respond(uid, toJSON(newObject("requestId", requestID, "rooms", strList(a.localAdapter.Rooms()))))
	case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
		if uid == a.uid {
			return nil // applied when it was sent
		}
		a.applySocketsOp(int(kind), req)
	case reqRemoteFetch:
		if a.hasRequest(requestID) {
			return nil
		}
		list, _ := a.localAdapter.FetchSockets(ctx, readOpts(req.get("opts"), false))
		sockets := make([]any, len(list))
		for i, s := range list {
			sockets[i] = socketTree(s)
		}
		a.respond(uid, toJSON(newObject("requestId", requestID, "sockets", sockets)))
	case reqServerSideEmit:
		if uid == a.uid {
			return nil
		}
		a.onServerSideEmit(req, requestID)
	case reqBroadcast:
		if a.hasAckRequest(requestID) {
			return nil // our own
		}
		return a.onBroadcastWithAck(req, uid, requestID)
	}
	return nil
}

// applySocketsOp runs a join, leave or disconnect request: the current
// form selects sockets with opts, the legacy one names a socket id.
func (a *Adapter) applySocketsOp(kind int, req *object) {
	ctx := context.Background()
	opts := adapter.BroadcastOptions{Rooms: []string{str(req.get("sid"))}}
	legacy := !req.has("opts")
	if !legacy {
		opts = readOpts(req.get("opts"), false)
	} else if len(a.localAdapter.Select(opts)) == 0 {
		return
	}
	switch kind {
	case reqRemoteJoin:
		rooms := strs(req.get("rooms"))
		if legacy {
			rooms = strs([]any{req.get("room")})
		}
		_ = a.localAdapter.AddSockets(ctx, opts, rooms)
	case reqRemoteLeave:
		rooms := strs(req.get("rooms"))
		if legacy {
			rooms = strs([]any{req.get("room")})
		}
		_ = a.localAdapter.DelSockets(ctx, opts, rooms)
	case reqRemoteDisconnect:
		_ = a.localAdapter.DisconnectSockets(ctx, opts, req.get("close") == true)
	}
	if legacy {
		a.respond(str(req.get("uid")), toJSON(newObject("requestId", str(req.get("requestId")))))
	}
}

func (a *Adapter) onServerSideEmit(req *object, requestID string) {
	var reply func(json.RawMessage)
	if req.has("requestId") {
		reply = func(r json.RawMessage) {
			msg := newObject("type", float64(reqServerSideEmit), "requestId", requestID, "data", rawJSON(r))
			_ = a.link.publish(a.responseChannel, toJSON(msg)) // JS always answers on the shared channel
		}
	}
	a.deliverServerSide(req.get("data"), reply)
}

func (a *Adapter) onBroadcastWithAck(req *object, uid, requestID string) error {
	p, err := treePacket(req.get("packet"), a.nsp.Name())
	if err != nil {
		return err
	}
	return a.localAdapter.BroadcastWithAck(context.Background(), p, readOpts(req.get("opts"), false),
		func(n int) {
			a.respond(uid, toJSON(newObject("type", float64(reqBroadcastClientCount), "requestId", requestID,
				"clientCount", float64(n))))
		},
		func(ack *parser.Packet) {
			arg, err := firstAckArg(ack)
			if err != nil {
				return
			}
			a.respond(uid, encodeMsgpack(newObject("type", float64(reqBroadcastAck), "requestId", requestID, "packet", arg)))
		})
}

// respond publishes a response for the server uid.
func (a *Adapter) respond(uid string, payload []byte) {
	channel := a.responseChannel
	if a.opts.PublishOnSpecificResponseChannel {
		channel += uid + "#"
	}
	_ = a.link.publish(channel, payload)
}

func (a *Adapter) onResponse(payload []byte) error {
	v, err := decodeMessage(payload)
	if err != nil {
		return err
	}
	res := obj(v)
	requestID := str(res.get("requestId"))
	if requestID == "" {
		return nil
	}
	if ar := a.ackRequest(requestID); ar != nil {
		switch kind, _ := num(res.get("type")); kind {
		case reqBroadcastClientCount:
			n, _ := num(res.get("clientCount"))
			ar.clientCount(int(n))
		case reqBroadcastAck:
			ar.ack(ackPacket(res.get("packet"), a.nsp.Name()))
		}
		return nil
	}
	// The response to a fetch, rooms or server-side emit request: JS tells
	// them apart by the request, the response has no type.
	a.addResponse(requestID, func(r *request) {
		if list, ok := res.get("sockets").([]any); ok {
			for _, s := range list {
				r.sockets = append(r.sockets, remoteSocket(s))
			}
		}
		for _, room := range strs(res.get("rooms")) {
			r.rooms[room] = struct{}{}
		}
		if kind, _ := num(res.get("type")); kind == reqServerSideEmit {
			r.responses = append(r.responses, jsonOrNil(res, "data"))
		}
	})
	return nil
}

// jsonOrNil is the JSON of property k, nil when it is undefined.
func jsonOrNil(o *object, k string) json.RawMessage {
	if !o.has(k) {
		return nil
	}
	return toJSON(o.get(k))
}
