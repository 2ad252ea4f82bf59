// Package redisadapter lets several Socket.IO servers, Go and Node.js
// alike, share rooms, broadcasts, acknowledgements and socket operations
// through Redis, speaking the wire protocol of the official
// @socket.io/redis-adapter 8.3 byte for byte:
//
//   - New: the classic Pub/Sub adapter (createAdapter). Broadcasts are
//     msgpack [uid, packet, opts] on prefix#nsp# (prefix#nsp#room# for a
//     single room); requests and responses (types 0 to 9) go through
//     prefix-request#nsp# and prefix-response#nsp#, as JSON or msgpack.
//     ServerCount is PUBSUB NUMSUB of the request channel.
//   - NewSharded: the sharded Pub/Sub adapter (createShardedAdapter):
//     SPUBLISH and SSUBSCRIBE, the ClusterAdapter envelope {type, data, uid,
//     nsp}, static, dynamic or dynamic-private room channels, PUBSUB
//     SHARDNUMSUB. It needs Redis 7.
//   - NewStreams: @socket.io/redis-streams-adapter 0.3: broadcasts, joins,
//     leaves and disconnections in a Redis stream (XADD, read by every node
//     with XREAD), requests and responses over Pub/Sub (msgpack), and
//     connection state recovery across nodes (sessions in Redis, stream
//     entry ids as offsets): a client recovers on any node, Go or Node.js.
//   - Emitter: publishes like @socket.io/redis-emitter 5.1, for processes
//     that are not servers (classic adapter only, as with JS).
//
// Values cross the wire as JavaScript sees them: msgpack is written as
// notepack.io writes it, JSON as JSON.stringify writes it, and binary
// arguments travel as msgpack bin (Buffers), never as attachments. Every
// node, Go or Node.js, must use the same key (channel prefix) and the same
// adapter variant.
//
// Operations differ from JS in one way that does not show on the wire: a
// Go node applies its own SocketsJoin, SocketsLeave and DisconnectSockets
// at once and ignores them when Redis echoes them back (JS applies them on
// the echo), so they keep working locally while Redis is down.
//
// rdb may be a *redis.Client or a failover client; Redis Cluster is not
// supported (the server count and the sharded room channels assume one
// node). Each namespace's adapter holds one Redis connection for its
// subscription, so many dynamic namespaces mean as many connections.
//
// # Resilience
//
// Publishing never blocks a caller: messages wait in a bounded queue that one
// goroutine publishes in order (what piles up during a round trip goes in one
// pipeline); when Redis is slow or down the queue fills and new messages are
// dropped (ErrPublishQueueFull), while local delivery goes on. The subscription reconnects with backoff and go-redis
// resubscribes every channel; a ping after 15 s of silence detects dead
// connections. Errors are logged (Options.Logger) when the state changes,
// not once per message. Requests that need answers (FetchSockets,
// ServerSideEmit with acks, BroadcastWithAck) fail or time out while
// Redis is down, as in JS.
//
// # Concurrency
//
// Each adapter (one per namespace) runs these goroutines: the publisher;
// the receiver, which decodes every message and runs broadcasts, joins,
// leaves, disconnects and responses in the order Redis delivered them; a
// worker that runs server-side emit handlers in order, so that a handler
// may itself wait for the cluster; and, for the sharded adapter in a
// dynamic mode, a room subscriber that (un)subscribes room channels so
// that joining a room never waits for Redis. The adapter's mutexes guard
// the pending requests and the wanted room channels; none is held while
// calling the namespace, a socket, a callback or Redis. The local part is
// adapter.InMemory, with its own lock, which is taken after the room
// mutex (sharded AddAll, Del and DelAll).
//
// The streams adapter has no room subscriber; instead the namespaces of one
// NewStreams factory share one reader goroutine per stream, which blocks in
// XREAD on its own connection and runs each entry on its namespace's
// adapter in stream order; it stops when the last adapter closes. Stream
// writes (XADD) and the session calls (SET, MULTI GET DEL, XRANGE) run on
// the caller's goroutine.
package redisadapter
