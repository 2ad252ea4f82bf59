// Package client is a Socket.IO v5 client (Engine.IO v4), the Go counterpart
// of the official socket.io-client 4.x: it talks to the official Node.js
// server and to ours.
//
// For the common case, Connect joins the namespace of a URL and waits:
//
//	s, err := client.Connect(ctx, "http://localhost:3000/chat", nil)
//	s.On("msg", func(e *client.Event) { var text string; _ = e.Args(&text) })
//	err = s.Emit("msg", "hello")
//	reply, err := s.EmitWithAck(ctx, "ping")
//	s.Disconnect()
//
// A Manager is one Engine.IO connection (polling, WebSocket, or polling
// upgraded to WebSocket) shared by the sockets of several namespaces
// (Manager.Socket). It reconnects with the JS algorithm and defaults
// (exponential backoff from 1 s to 5 s with 0.5 randomization, unlimited
// attempts) unless the server disconnected the socket or the client did.
// Emits made while disconnected are buffered and sent in order after the
// reconnection; volatile emits are dropped. Acknowledgements pending when
// the connection drops fail with ErrDisconnected, as in JS 4.7.5+;
// Disconnect also fails those of emits still buffered (JS would keep them
// waiting for ever). SocketOptions.Retries gives at-least-once delivery.
// The private id and last offset of connection state recovery are kept and
// sent on reconnection; Socket.Recovered tells whether the server restored
// the session, and Socket.RecoveryError why it did not (ErrNotRecovered).
//
// # Concurrency
//
// Every user callback (event handlers, OnAny, OnAnyOutgoing, OnConnect,
// OnConnectError, OnDisconnect, the Manager's On* callbacks and
// SocketOptions.AuthFunc) runs on one goroutine per Manager, in order,
// never with a lock held; it exists only while callbacks are pending (and
// 5ms after, so that a burst reuses it). A callback may call any method,
// including EmitWithAck: acknowledgements are resolved on the connection's
// read goroutine, not queued behind callbacks.
// When MaxPendingEvents received events wait for their handlers, reading
// from the connection waits; so a callback in EmitWithAck while that many
// events are queued behind it cannot get its acknowledgement: its context
// (or AckTimeout) ends the wait, else the heartbeat ends the connection (no
// ping is read meanwhile), which fails it with ErrDisconnected.
//
// Other goroutines: the Engine.IO connection's (see package engineio), one
// per connection attempt while it dials, and timers for reconnection delays
// and acknowledgement timeouts. All methods are safe for concurrent use.
//
// Lock order: Socket.mu -> Manager.mu -> the engineio.ClientConn's lock,
// and Socket.mu -> the callback queue's lock (a reader waiting for room in
// that queue holds no other lock); the Manager never holds its lock while
// calling into a socket.
package client
