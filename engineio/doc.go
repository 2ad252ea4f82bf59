// Package engineio implements the server side of Engine.IO v4, the transport
// layer of Socket.IO: HTTP long-polling, WebSocket, the polling -> WebSocket
// upgrade, the heartbeat, and the packet and payload codec. It is
// wire-compatible with the official engine.io 6.x Node.js server and knows
// nothing about Socket.IO: the layer above implements Handler.
//
// A Server is an http.Handler; mount it on its path (default "/engine.io/"):
//
//	srv := engineio.NewServer(handler, nil)
//	http.Handle("/engine.io/", srv)
//
// # Sending
//
// Session.Send queues messages on a bounded per-session queue and never
// blocks: a client that does not read gets ErrQueueFull, and the layer above
// decides (usually to close it). The queued Data is written as is and may
// be shared by many sessions, so a broadcast is encoded once.
//
// # Concurrency
//
// Goroutines: polling uses none of its own; a held GET waits on its own
// request goroutine and writes the whole queue as one payload when woken.
// A WebSocket write starts on the goroutine that calls Send (or the
// heartbeat timer) when no writer is running: it claims the writer role
// (Session.writing) and, on Linux, makes one non-blocking write/writev of
// the queue. What the socket does not take, everything for TLS or on other
// systems, and whatever is queued meanwhile goes to a writer goroutine
// started on demand, which writes each batch in one write/writev and exits
// when the queue is empty; a close found by the inline write (write error,
// drained orderly close) is left to that goroutine too, so Send never
// calls the Handler. SendLater (broadcasts) queues and leaves the write to
// the server's flusher goroutine, started on demand and gone when its list
// is empty, which writes each listed session's queue in one write; Cork
// and Uncork (the Socket.IO layer brackets each run of a socket's
// handlers with them) hold it back while broadcasts keep being queued, for
// at most 20 ms, so that the broadcasts of a run reach each client in one
// write. A WebSocket has a read goroutine; on Linux the
// read goroutine of a connection idle for 50 ms (a second once it proved
// chatty: woken within a second of parking), or right after a heartbeat
// pong, parks: it arms the fd
// in a shared epoll instance (waited on by one poller goroutine through
// Go's netpoller, alive while a connection is registered), releases its
// read buffer and ends; the poller, or a close request, starts a new one
// (wsConn.state decides who). A read goroutine may also run the layer
// above's work after OnMessage (Session.RunInline): should the work run
// longer than a millisecond or two, the lender goroutine (alive while such
// work runs) starts another read goroutine for the connection (inline.go).
// Elsewhere, and for TLS connections, the read goroutine blocks as usual.
// The heartbeat deadlines of a server's sessions are a min-heap behind one
// time.AfterFunc timer (its goroutine runs the due sessions' heartbeats one
// after the other); upgrade and close deadlines are time.AfterFunc timers
// of their own.
//
// Handler calls for one session never overlap and come in order: they are
// made while holding the session's dispatch token (recvMu), taken by the
// goroutine that read the packets (POST request, WebSocket read loop) or,
// for OnClose, by whoever closes the session when the token is free, else by
// the token holder when it finishes. The Handler may call any Session or
// Server method, including Close, from inside a callback.
//
// # Client
//
// Dial opens the client side of a session (polling, WebSocket, or polling
// upgraded to WebSocket, like engine.io-client) and returns a ClientConn:
// Send queues messages (bounded), DialOptions.OnMessage and OnClose receive.
// A ClientConn has at most one reader goroutine at a time (the polling GET
// loop, then the WebSocket read loop after the upgrade), a writer goroutine
// started on demand (one POST in flight, batches bounded by the server's
// maxPayload; or one write per WebSocket batch), the upgrade goroutine while
// probing, and a heartbeat timer. OnMessage calls never overlap; OnClose
// comes once, after the last OnMessage, from the goroutine that saw the
// reader stop. ClientConn.mu is a leaf lock; no callback runs under it.
//
// Lock order: Session.recvMu (dispatch token) before Session.mu; Session.mu
// and Server.mu are never held together; Server.flushMu is a leaf, taken
// under Session.mu; wsConn.wmu (write serialization)
// is held around a write, and also from an inline write cut short until the
// writer goroutine finished that frame: wmu may be held while taking
// Session.mu, never the reverse. The heartbeat heap's mutex is taken under
// Session.mu and is a leaf. The poller's mutex is a leaf (no wake runs
// under it). No Handler
// method, AllowRequest or Logger is called with Session.mu, Server.mu or wmu
// held.
package engineio
