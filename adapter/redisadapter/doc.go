// Package redisadapter lets several Socket.IO servers, Go and Node.js
// alike, share rooms, broadcasts, acknowledgements and socket operations
// through Redis, speaking the wire protocol of the official
// @socket.io/redis-adapter 8.3 byte for byte:
//
//   - New: the classic Pub/Sub adapter (createAdapter). Broadcasts are
//     msgpack [uid, packet, opts] on prefix#nsp# (prefix#nsp#room# for a
//     single room); requests and responses (types 0 to 9) go through
//     prefix-request#nsp# and prefix-response#nsp#, as JSON or msgpack.
//   - NewSharded: the sharded Pub/Sub adapter (createShardedAdapter,
//     SPUBLISH/SSUBSCRIBE, the ClusterAdapter envelope).
//   - Emitter: publishes like @socket.io/redis-emitter, for processes that
//     are not servers.
//
// Values cross the wire as JavaScript sees them: msgpack is written as
// notepack.io writes it, JSON as JSON.stringify writes it, and binary
// arguments travel as msgpack bin (Buffers), never as attachments.
//
// # Resilience
//
// Publishing never blocks a caller: messages wait in a bounded queue that one
// goroutine publishes in order; when Redis is slow or down the queue fills
// and new messages are dropped (ErrPublishQueueFull), while local delivery
// goes on. The subscription reconnects with backoff and go-redis
// resubscribes every channel; a ping after 15 s of silence detects dead
// connections. Errors are logged (Options.Logger) when the state changes,
// not once per message.
//
// # Concurrency
//
// Each adapter (one per namespace) has three goroutines: the publisher, the
// receiver (decodes every message and runs broadcasts, joins, leaves,
// disconnects and responses in the order Redis delivered them) and a worker
// that runs server-side emit handlers in order, so a handler may itself wait
// for the cluster. The adapter's mutex guards the pending requests only; it
// is never held while calling the namespace, a socket or a callback. The
// local part is adapter.InMemory, with its own lock.
package redisadapter
