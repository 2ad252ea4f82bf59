package redisadapter

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

// Defaults of StreamsOptions (those of @socket.io/redis-streams-adapter 0.3).
const (
	DefaultStreamName       = "socket.io"
	DefaultStreamMaxLen     = 10000
	DefaultStreamReadCount  = 100
	DefaultStreamBlockTime  = 5 * time.Second
	DefaultSessionKeyPrefix = "sio:session:"
	defaultSessionTTL       = 2 * time.Minute
	// restoreMaxReads bounds the XRANGE calls of one replay (JS
	// RESTORE_SESSION_MAX_XRANGE_CALLS), restoreReadCount their size.
	restoreMaxReads  = 100
	restoreReadCount = 1000
)

// StreamsOptions configure NewStreams. The zero value (or nil) is the JS
// createAdapter default of @socket.io/redis-streams-adapter 0.3.
type StreamsOptions struct {
	// StreamName is the stream, or the prefix of the streams. Default "socket.io".
	StreamName string
	// StreamCount > 1 spreads the namespaces over StreamName-0 ...
	// StreamName-(n-1) by a hash of their name (JS hashCode). Default 1.
	StreamCount int
	// ChannelPrefix prefixes the Pub/Sub channels. Default "socket.io".
	ChannelPrefix string
	// UseShardedPubSub uses SPUBLISH/SSUBSCRIBE (Redis 7). Default false.
	UseShardedPubSub bool
	// MaxLen trims the stream (XADD MAXLEN ~). Default 10000.
	MaxLen int64
	// ReadCount is the COUNT of each XREAD. Default 100.
	ReadCount int64
	// BlockTime is the BLOCK of each XREAD. Default 5s.
	BlockTime time.Duration
	// SessionKeyPrefix prefixes the keys of stored sessions. Default "sio:session:".
	SessionKeyPrefix string
	// OnlyPlaintext skips the binary checks: data is always JSON. Default false.
	OnlyPlaintext bool
	// RequestsTimeout bounds FetchSockets and ServerSideEmit with acks. Default 5s.
	RequestsTimeout time.Duration
	// PublishQueueSize bounds the Pub/Sub messages waiting for Redis. Default 4096.
	PublishQueueSize int
	// Logger receives connection errors and malformed entries. Default: silent.
	Logger *slog.Logger
}

func (opts *StreamsOptions) withDefaults() StreamsOptions {
	var o StreamsOptions
	if opts != nil {
		o = *opts
	}
	o.StreamName = cmp.Or(o.StreamName, DefaultStreamName)
	o.StreamCount = max(o.StreamCount, 1)
	o.ChannelPrefix = cmp.Or(o.ChannelPrefix, DefaultKey)
	o.MaxLen = cmp.Or(max(o.MaxLen, 0), DefaultStreamMaxLen)
	o.ReadCount = cmp.Or(max(o.ReadCount, 0), DefaultStreamReadCount)
	if o.BlockTime <= 0 {
		o.BlockTime = DefaultStreamBlockTime
	}
	o.SessionKeyPrefix = cmp.Or(o.SessionKeyPrefix, DefaultSessionKeyPrefix)
	commonDefaults(&o.RequestsTimeout, &o.PublishQueueSize, &o.Logger)
	return o
}

// NewStreams returns an adapter.Factory wire-compatible with
// @socket.io/redis-streams-adapter 0.3 (createAdapter): broadcasts, joins,
// leaves and disconnections go through a Redis stream that every node reads
// (XREAD), requests and responses through Pub/Sub. It supports connection
// state recovery across nodes: sessions are stored in Redis and the stream
// entry ids are the offsets, so a client can recover on any node, Go or
// Node.js. One stream reader per stream is shared by the namespaces of the
// factory.
func NewStreams(rdb redis.UniversalClient, opts *StreamsOptions) adapter.Factory {
	h := &streamsHub{rdb: rdb, opts: opts.withDefaults(), adapters: make(map[string]*StreamsAdapter)}
	return func(nsp adapter.Namespace) adapter.Adapter { return newStreamsAdapter(nsp, h) }
}

// streamsHub reads the streams for every namespace of one factory.
type streamsHub struct {
	rdb  redis.UniversalClient
	opts StreamsOptions

	mu       sync.Mutex
	adapters map[string]*StreamsAdapter // by namespace
	stop     func()                     // stops the readers; nil when none runs
	readers  sync.WaitGroup
}

// readerClient returns the client the readers block on: a duplicate of rdb
// when it is a *redis.Client (as JS does), so that closing it interrupts a
// blocked XREAD; rdb otherwise (stopping then waits for BlockTime).
func (h *streamsHub) readerClient() (redis.UniversalClient, func()) {
	if c, ok := h.rdb.(*redis.Client); ok {
		o := *c.Options()
		// A blocked reader has no use for maintenance notifications, and
		// their handlers cannot be registered twice from copied options.
		o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
		dup := redis.NewClient(&o)
		return dup, func() { _ = dup.Close() }
	}
	return h.rdb, func() {}
}

func (h *streamsHub) streamNames() []string {
	if h.opts.StreamCount == 1 {
		return []string{h.opts.StreamName}
	}
	names := make([]string, h.opts.StreamCount)
	for i := range names {
		names[i] = h.opts.StreamName + "-" + strconv.Itoa(i)
	}
	return names
}

// streamName is the stream of a namespace (JS computeStreamName).
func (h *streamsHub) streamName(nsp string) string {
	if h.opts.StreamCount == 1 {
		return h.opts.StreamName
	}
	var hash int32 // JS hashCode over UTF-16 code units, with |0 overflow
	for _, u := range utf16.Encode([]rune(nsp)) {
		hash = hash*31 + int32(u)
	}
	return h.opts.StreamName + "-" + strconv.Itoa(int(hash%int32(h.opts.StreamCount)))
}

func (h *streamsHub) add(a *StreamsAdapter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.adapters[a.nsp.Name()] = a
	if h.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	rdb, closeClient := h.readerClient()
	h.stop = func() { cancel(); closeClient() }
	for _, name := range h.streamNames() {
		h.readers.Add(1)
		go h.read(ctx, rdb, name)
	}
}

func (h *streamsHub) remove(a *StreamsAdapter) {
	h.mu.Lock()
	if h.adapters[a.nsp.Name()] == a {
		delete(h.adapters, a.nsp.Name())
	}
	stop := h.stop
	if len(h.adapters) > 0 {
		stop = nil
	} else {
		h.stop = nil
	}
	h.mu.Unlock()
	if stop != nil {
		stop()
		h.readers.Wait()
	}
}

// read follows one stream from its end ("$") and dispatches each entry to
// its namespace's adapter, with the entry id as the offset.
func (h *streamsHub) read(ctx context.Context, rdb redis.UniversalClient, stream string) {
	defer h.readers.Done()
	offset := "$"
	for ctx.Err() == nil {
		res, err := rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{stream, offset},
			Count:   h.opts.ReadCount,
			Block:   h.opts.BlockTime,
		}).Result()
		if err != nil {
			if !errors.Is(err, redis.Nil) && ctx.Err() == nil {
				h.opts.Logger.Warn("redisadapter: reading the stream failed", "stream", stream, "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		for _, s := range res {
			for _, e := range s.Messages {
				offset = e.ID
				nsp, _ := e.Values["nsp"].(string)
				h.mu.Lock()
				a := h.adapters[nsp]
				h.mu.Unlock()
				if a != nil {
					a.onEntry(e)
				}
			}
		}
	}
}

// StreamsAdapter is the Redis Streams adapter of one namespace.
type StreamsAdapter struct {
	core
	hub                     *streamsHub
	uid                     string
	stream                  string
	channel, privateChannel string
}

func newStreamsAdapter(nsp adapter.Namespace, h *streamsHub) *StreamsAdapter {
	o := h.opts
	a := &StreamsAdapter{
		core:    newCore(nsp, h.rdb, o.UseShardedPubSub, o.PublishQueueSize, o.Logger, o.RequestsTimeout),
		hub:     h,
		uid:     randomHex(),
		stream:  h.streamName(nsp.Name()),
		channel: o.ChannelPrefix + "#" + nsp.Name() + "#",
	}
	a.privateChannel = a.channel + a.uid + "#"
	return a
}

// UID is this node's id in the cluster (16 hex characters, as in JS).
func (a *StreamsAdapter) UID() string { return a.uid }

// Init subscribes to the namespace's public and private channels and joins
// the stream readers.
func (a *StreamsAdapter) Init(ctx context.Context) error {
	a.startWorker()
	a.hub.add(a)
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	return a.link.start(ctx, nil, []string{a.channel, a.privateChannel}, a.onPubSub)
}

// Close leaves the stream readers, unsubscribes and fails pending requests.
func (a *StreamsAdapter) Close(ctx context.Context) error {
	a.hub.remove(a)
	return a.closeCore(ctx)
}

// ServerCount is the number of servers subscribed to the public channel.
func (a *StreamsAdapter) ServerCount(ctx context.Context) (int, error) {
	var n int64
	if a.hub.opts.UseShardedPubSub {
		res, err := a.link.rdb.PubSubShardNumSub(ctx, a.channel).Result()
		if err != nil {
			return 0, fmt.Errorf("redisadapter: server count: %w", err)
		}
		n = res[a.channel]
	} else {
		res, err := a.link.rdb.PubSubNumSub(ctx, a.channel).Result()
		if err != nil {
			return 0, fmt.Errorf("redisadapter: server count: %w", err)
		}
		n = res[a.channel]
	}
	return int(n), nil
}

// recovery is the session TTL, 0 when the server has recovery off.
func (a *StreamsAdapter) recovery() time.Duration {
	if r, ok := a.nsp.(adapter.RecoveryNamespace); ok {
		return r.MaxDisconnectionDuration()
	}
	return 0
}

// envelope is the ClusterAdapter message {type, data, uid, nsp}.
func (a *StreamsAdapter) envelope(kind int, data *object) *object {
	return newObject("type", float64(kind), "data", data, "uid", a.uid, "nsp", a.nsp.Name())
}

// xadd appends a persistent message to the stream and returns its id. It
// waits for Redis (at most RequestsTimeout), as JS does: local recipients
// get the entry id as their offset.
func (a *StreamsAdapter) xadd(ctx context.Context, kind int, data *object) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	var encoded string
	switch kind {
	case msgBroadcast, msgBroadcastAck, msgFetchSocketsResponse, msgServerSideEmit, msgServerSideEmitResponse:
		if !a.hub.opts.OnlyPlaintext && hasBinary(data) {
			encoded = base64.StdEncoding.EncodeToString(encodeMsgpack(data))
		}
	}
	if encoded == "" {
		encoded = string(toJSON(data))
	}
	id, err := a.link.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: a.stream,
		MaxLen: a.hub.opts.MaxLen,
		Approx: true,
		Values: []any{"uid", a.uid, "nsp", a.nsp.Name(), "type", strconv.Itoa(kind), "data", encoded},
	}).Result()
	if err != nil {
		return "", fmt.Errorf("redisadapter: XADD: %w", err)
	}
	return id, nil
}

// publish sends an ephemeral message (broadcast with acks, fetch, server-side
// emit) to the public channel, as msgpack.
func (a *StreamsAdapter) publish(kind int, data *object) error {
	return a.link.publish(a.channel, encodeMsgpack(a.envelope(kind, data)))
}

func (a *StreamsAdapter) publishResponse(requesterUID string, kind int, data *object) {
	_ = a.link.publish(a.channel+requesterUID+"#", encodeMsgpack(a.envelope(kind, data)))
}

// Broadcast appends p to the stream, then delivers it locally with the entry
// id as its offset (when recovery is on and p is storable); local delivery
// happens even when Redis fails.
func (a *StreamsAdapter) Broadcast(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) error {
	var pubErr error
	if !opts.Flags.Local {
		packet, err := packetTree(p, "")
		if err != nil {
			return err
		}
		id, err := a.xadd(ctx, msgBroadcast, newObject("packet", packet, "opts", wireOpts(opts, true)))
		if err == nil && a.recovery() > 0 && adapter.Storable(p, opts) {
			adapter.AppendOffset(p, id)
		}
		pubErr = err
	}
	return cmp.Or(a.localAdapter.Broadcast(ctx, p, opts), pubErr)
}

// BroadcastWithAck publishes the broadcast with a request id (Pub/Sub), then
// runs it locally.
func (a *StreamsAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions,
	clientCount func(int), ack func(*parser.Packet)) error {
	return a.clusterBroadcastWithAck(ctx, p, opts, clientCount, ack, a.publish)
}

// AddSockets makes the selected sockets of every server join rooms.
func (a *StreamsAdapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	return a.socketsOp(ctx, opts, msgSocketsJoin, "rooms", strList(rooms), func() error {
		return a.localAdapter.AddSockets(ctx, opts, rooms)
	})
}

// DelSockets makes the selected sockets of every server leave rooms.
func (a *StreamsAdapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	return a.socketsOp(ctx, opts, msgSocketsLeave, "rooms", strList(rooms), func() error {
		return a.localAdapter.DelSockets(ctx, opts, rooms)
	})
}

// DisconnectSockets disconnects the selected sockets of every server.
func (a *StreamsAdapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, close bool) error {
	return a.socketsOp(ctx, opts, msgDisconnectSockets, "close", close, func() error {
		return a.localAdapter.DisconnectSockets(ctx, opts, close)
	})
}

func (a *StreamsAdapter) socketsOp(ctx context.Context, opts adapter.BroadcastOptions, kind int, key string, value any, local func() error) error {
	var pubErr error
	if !opts.Flags.Local {
		_, pubErr = a.xadd(ctx, kind, newObject("opts", wireOpts(opts, true), key, value))
	}
	return cmp.Or(local(), pubErr)
}

// FetchSockets returns the selected sockets of every server.
func (a *StreamsAdapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketDetails, error) {
	return a.clusterFetchSockets(ctx, opts, a.ServerCount, a.publish)
}

// ServerSideEmit sends an event to the other servers; with ack, it waits
// (RequestsTimeout) for one reply per other server.
func (a *StreamsAdapter) ServerSideEmit(ctx context.Context, args []json.RawMessage, ack func([]json.RawMessage, error)) error {
	return a.clusterServerSideEmit(ctx, args, ack, a.ServerCount, a.publish)
}

// decodeEntry reads a stream entry into the ClusterAdapter message fields.
func decodeEntry(e redis.XMessage) (uid, nsp string, kind int, data *object, err error) {
	uid, _ = e.Values["uid"].(string)
	nsp, _ = e.Values["nsp"].(string)
	t, _ := e.Values["type"].(string)
	if kind, err = strconv.Atoi(t); err != nil {
		return "", "", 0, nil, fmt.Errorf("redisadapter: entry %s: type %q", e.ID, t)
	}
	raw, _ := e.Values["data"].(string)
	if raw == "" {
		return uid, nsp, kind, newObject(), nil
	}
	var v any
	if strings.HasPrefix(raw, "{") {
		v, err = parseJSON([]byte(raw), nil)
	} else {
		var b []byte
		if b, err = base64.StdEncoding.DecodeString(raw); err == nil {
			v, err = decodeMsgpack(b)
		}
	}
	if err != nil {
		return "", "", 0, nil, fmt.Errorf("redisadapter: entry %s: %w", e.ID, err)
	}
	if data = obj(v); data == nil {
		return "", "", 0, nil, fmt.Errorf("redisadapter: entry %s: data is not an object", e.ID)
	}
	return uid, nsp, kind, data, nil
}

// onEntry handles a stream entry of this namespace, on the reader goroutine.
func (a *StreamsAdapter) onEntry(e redis.XMessage) {
	uid, _, kind, data, err := decodeEntry(e)
	if err != nil {
		a.log.Warn("redisadapter: ignoring malformed entry", "err", err)
		return
	}
	if uid == a.uid {
		return // delivered locally when it was added
	}
	if err := a.handle(uid, kind, data, e.ID); err != nil {
		a.log.Warn("redisadapter: ignoring malformed entry", "id", e.ID, "err", err)
	}
}

// onPubSub handles a message of the public or private channel.
func (a *StreamsAdapter) onPubSub(m *redis.Message) {
	v, err := decodeMsgpack([]byte(m.Payload))
	msg := obj(v)
	if err != nil || msg == nil {
		a.log.Warn("redisadapter: ignoring malformed message", "channel", m.Channel, "err", err)
		return
	}
	kind, _ := num(msg.get("type"))
	data := obj(msg.get("data"))
	if data == nil {
		data = newObject()
	}
	switch int(kind) {
	case msgFetchSocketsResponse, msgServerSideEmitResponse, msgBroadcastClientCount, msgBroadcastAck:
		a.onClusterResponse(int(kind), data)
		return
	}
	uid := str(msg.get("uid"))
	if m.Channel == a.privateChannel || uid == a.uid || str(msg.get("nsp")) != a.nsp.Name() {
		return
	}
	if err := a.handle(uid, int(kind), data, ""); err != nil {
		a.log.Warn("redisadapter: ignoring malformed message", "channel", m.Channel, "err", err)
	}
}

// handle runs a message from another server (JS ClusterAdapter.onMessage);
// offset is the stream entry id ("" for Pub/Sub).
func (a *StreamsAdapter) handle(uid string, kind int, data *object, offset string) error {
	return a.onClusterMessage(uid, kind, data, a.publishResponse, func(p *parser.Packet, opts adapter.BroadcastOptions) {
		if offset != "" && a.recovery() > 0 && adapter.Storable(p, opts) {
			adapter.AppendOffset(p, offset)
		}
	})
}

// Connection state recovery.

var streamIDRe = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// streamID is a parsed stream entry id, for comparisons.
type streamID struct{ ms, seq uint64 }

func parseStreamID(s string) (streamID, bool) {
	if !streamIDRe.MatchString(s) {
		return streamID{}, false
	}
	ms, seq, _ := strings.Cut(s, "-")
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	return streamID{a, b}, err1 == nil && err2 == nil
}

func (id streamID) after(o streamID) bool { return id.ms > o.ms || id.ms == o.ms && id.seq > o.seq }

// next is the smallest id after id (exclusive XRANGE needs Redis 6.2).
func (id streamID) next() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq+1, 10)
}

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// PersistSession stores s in Redis for the server's MaxDisconnectionDuration:
// SET <prefix><pid> base64(msgpack({sid, pid, rooms, data, offset})) PX.
// Node.js nodes read it (they ignore "offset").
func (a *StreamsAdapter) PersistSession(s *adapter.Session) {
	ttl := a.recovery()
	if ttl <= 0 {
		ttl = defaultSessionTTL
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	if err := a.link.rdb.Set(ctx, a.hub.opts.SessionKeyPrefix+s.PID, encodeSession(s), ttl).Err(); err != nil {
		a.log.Warn("redisadapter: storing a session failed", "err", err)
	}
}

// RestoreSession takes the session pid out of Redis (GET and DEL in one
// MULTI) and returns it with the broadcasts it missed after offset, read
// from the stream. An empty offset, or one older than the session start,
// starts from the session start (Go nodes store it). Data comes back as
// json.RawMessage.
func (a *StreamsAdapter) RestoreSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	client, ok := parseStreamID(offset)
	if offset != "" && !ok {
		return nil, fmt.Errorf("%w: %q", adapter.ErrOffsetUnknown, offset)
	}
	key := a.hub.opts.SessionKeyPrefix + pid
	var get *redis.StringCmd
	if _, err := a.link.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		p.Del(ctx, key)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisadapter: reading the session: %w", err)
	}
	raw, err := get.Result()
	if err != nil {
		return nil, adapter.ErrSessionUnknown
	}
	s, err := decodeSession(raw)
	if err != nil {
		return nil, err
	}
	start, known := client, ok
	if base, ok := parseStreamID(s.Offset); ok && (!known || base.after(start)) {
		start, known = base, true
	}
	if !known {
		return nil, fmt.Errorf("%w: no offset", adapter.ErrOffsetUnknown)
	}
	s.Offset = start.String()
	if s.MissedPackets, err = a.replay(ctx, start, s.Rooms); err != nil {
		return nil, err
	}
	return s, nil
}

// encodeSession is base64(msgpack({sid, pid, rooms, data, offset})), the
// JS format plus "offset" (the session start, which Node.js ignores).
func encodeSession(s *adapter.Session) string {
	var data any
	if raw, err := parser.Marshal(s.Data); err == nil {
		data, _ = parseJSON(raw, nil)
	}
	session := newObject("sid", s.SID, "pid", s.PID, "rooms", strList(s.Rooms), "data", data)
	if s.Offset != "" {
		session.set("offset", s.Offset)
	}
	return base64.StdEncoding.EncodeToString(encodeMsgpack(session))
}

// decodeSession reads a stored session; Offset is its start ("" when a
// Node.js node stored it), Data its JSON.
func decodeSession(raw string) (*adapter.Session, error) {
	b, err := base64.StdEncoding.DecodeString(raw)
	var v any
	if err == nil {
		v, err = decodeMsgpack(b)
	}
	stored := obj(v)
	if err != nil || stored == nil {
		return nil, fmt.Errorf("%w: malformed session", adapter.ErrSessionUnknown)
	}
	s := &adapter.Session{
		SID:    str(stored.get("sid")),
		PID:    str(stored.get("pid")),
		Rooms:  strs(stored.get("rooms")),
		Offset: str(stored.get("offset")),
	}
	if d := stored.get("data"); d != nil {
		s.Data = json.RawMessage(toJSON(d))
	}
	return s, nil
}

// Offset returns the id of the newest entry of the namespace's stream
// ("0-0" when empty).
func (a *StreamsAdapter) Offset(ctx context.Context) (string, error) {
	res, err := a.link.rdb.XRevRangeN(ctx, a.stream, "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("redisadapter: XREVRANGE: %w", err)
	}
	if len(res) == 0 {
		return "0-0", nil
	}
	return res[0].ID, nil
}

// Replay returns the broadcasts of the stream after offset that a socket in
// rooms would have received, each with its entry id as its last argument.
func (a *StreamsAdapter) Replay(ctx context.Context, offset string, rooms []string) ([]*parser.Packet, error) {
	id, ok := parseStreamID(offset)
	if !ok {
		return nil, fmt.Errorf("%w: %q", adapter.ErrOffsetUnknown, offset)
	}
	return a.replay(ctx, id, rooms)
}

func (a *StreamsAdapter) replay(ctx context.Context, after streamID, rooms []string) ([]*parser.Packet, error) {
	if after != (streamID{}) {
		// The offset must still be in the stream, or entries after it may
		// have been trimmed.
		res, err := a.link.rdb.XRange(ctx, a.stream, after.String(), after.String()).Result()
		if err != nil {
			return nil, fmt.Errorf("redisadapter: XRANGE: %w", err)
		}
		if len(res) == 0 {
			return nil, fmt.Errorf("%w: %s is not in the stream", adapter.ErrOffsetUnknown, after)
		}
	}
	var out []*parser.Packet
	for range restoreMaxReads {
		entries, err := a.link.rdb.XRangeN(ctx, a.stream, after.next(), "+", restoreReadCount).Result()
		if err != nil {
			return nil, fmt.Errorf("redisadapter: XRANGE: %w", err)
		}
		for _, e := range entries {
			after, _ = parseStreamID(e.ID)
			if e.Values["nsp"] != a.nsp.Name() || e.Values["type"] != strconv.Itoa(msgBroadcast) {
				continue
			}
			_, _, _, data, err := decodeEntry(e)
			if err != nil || data.has("requestId") {
				continue
			}
			opts := readOpts(data.get("opts"), true)
			p, err := treePacket(data.get("packet"), a.nsp.Name())
			if err != nil || !adapter.Storable(p, opts) || !adapter.SessionIncludes(rooms, opts) {
				continue
			}
			adapter.AppendOffset(p, e.ID)
			out = append(out, p)
		}
		if len(entries) < restoreReadCount {
			break
		}
	}
	return out, nil
}
