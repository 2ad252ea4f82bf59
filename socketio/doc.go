// Package socketio is a Socket.IO v5 server (the protocol of socket.io 4.x),
// wire-compatible with the official Node.js server: any official client
// connects to it as it would to Node.js.
//
//	srv := socketio.NewServer(nil) // nil options = the JS defaults
//	srv.OnConnection(func(s *socketio.Socket) {
//		s.On("msg", func(e *socketio.Event) {
//			var text string
//			if err := e.Args(&text); err != nil {
//				return
//			}
//			s.Broadcast().Emit("msg", text)
//			e.Ack("ok")
//		})
//	})
//	http.Handle("/socket.io/", srv)
//
// A Server holds namespaces (Of, OfRegexp, OfFunc); each namespace has
// middlewares (Use), connection handlers (OnConnection) and an adapter
// (package adapter) that knows its rooms. A Socket is one client in one
// namespace. BroadcastOperator (To, In, Except, Local, Volatile) targets
// rooms on every server of the cluster.
//
// # Backpressure
//
// Each connection's outbound queue is bounded in packets and bytes
// (MaxQueuePackets, MaxQueueBytes). A broadcast never waits for a client:
// a packet that does not fit disconnects that client at once, dropping its
// queue (logged, reason "forced server close"), while a volatile packet is
// simply dropped. This also applies to a burst larger than the bound (beyond
// what the TCP buffers absorb) sent faster than a healthy client reads: raise
// the bounds for bursty traffic, or pace the sender. The events a socket has
// received but not yet handled are bounded too (MaxPendingEvents): past it, reading from that client pauses (so a
// handler of that socket waiting in EmitWithAck for the same client only
// gets its reply once the queue drains, or fails at its deadline).
//
// # Concurrency
//
// Every exported method is safe for concurrent use.
//
// The Engine.IO layer calls the server on one goroutine at a time per
// connection (the read path: a websocket read loop or a polling POST). The
// read path decodes packets, resolves acknowledgements at once (so a handler
// blocked in EmitWithAck gets its reply) and queues events. Each socket runs
// its middlewares, connection handlers, event handlers and disconnect
// handlers one at a time, in order, on a goroutine that exists only while it
// has work (and lingers 5ms after, so that a burst or the next event of a
// request/reply loop reuses it); an idle socket owns no goroutine. An event
// that finds its socket with no handler at work runs on the WebSocket read
// goroutine that read it (Linux, without TLS): should the handler run
// longer than a millisecond or two, a new read goroutine reads on (engineio
// RunInline). OnAnyOutgoing handlers run on
// the emitter's goroutine.
//
// Locks, outermost first: Server.mu, Namespace.mu (ParentNamespace.mu),
// conn.mu, the adapter's lock, Socket.mu (the adapter checks
// Socket.Connected under its read lock). None is held while user code runs
// or while sending to the Engine.IO session.
//
// Connection state recovery (ConnectionStateRecovery) runs on the socket's
// task goroutine: the adapter calls that restore a session, then the missed
// events, then the CONNECT reply. While a socket is being restored, the
// adapter's deliveries to it are held under Socket.mu and sent after the
// missed events (see recovery.go).
//
// Encoding: an emitted packet is encoded once; a broadcast shares the same
// bytes between every recipient.
package socketio
