// Package adapter defines how a Socket.IO namespace reaches its sockets:
// rooms, broadcasts (with rooms, except rooms and flags), broadcasts with
// acknowledgements, and the operations on sockets selected by rooms
// (fetch, join, leave, disconnect), plus the hooks a cluster needs
// (server count, server-side emit, session persistence for connection state
// recovery). It mirrors JS socket.io-adapter.
//
// The server implements the small Namespace and Socket interfaces and creates
// one Adapter per namespace with a Factory; this package never imports the
// server. NewInMemory is the single-server adapter; a cluster adapter (Redis)
// forwards operations to the other servers and runs the local part, which it
// can delegate to an InMemory. NewSessionAware is the in-memory adapter with
// connection state recovery: it stores sessions and packets (bounded in time,
// count and bytes) and implements Recoverer.
//
// # Concurrency
//
// Every method of InMemory is safe for concurrent use. It guards its room
// maps with one RWMutex. Operations select their target sockets under the
// read lock, calling only Socket.ID and Socket.Connected (which must not call
// back into the adapter), then act on them with the lock released. Socket.Deliver and Socket.ExpectAck must
// not block; Socket.Join, Leave and Disconnect may run user code (disconnect
// handlers) and may call back into the adapter.
// SessionAware selects a stored broadcast's targets while holding its own
// store lock (lock order: SessionAware.mu, then InMemory's).
package adapter
