package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/seed9706/socketio/parser"
)

// ErrServerSideEmitUnsupported is returned by adapters that have no other
// servers to talk to (the in-memory adapter).
var ErrServerSideEmitUnsupported = errors.New("adapter: this adapter does not support the serverSideEmit() functionality")

// Flags modify a broadcast (JS BroadcastFlags).
type Flags struct {
	// Volatile drops the packet for a client whose transport cannot write now.
	Volatile bool
	// Compress asks the transport to compress the packet when it can.
	Compress bool
	// Local keeps the operation on this server (no forwarding to other nodes).
	Local bool
	// Timeout bounds a broadcast with acknowledgements; cluster adapters use it
	// to forget a request. Zero means no timeout was given.
	Timeout time.Duration
	// ExpectSingleResponse is set when the target is one socket id
	// (RemoteSocket.Emit), so an ack gets one response instead of a list.
	ExpectSingleResponse bool
}

// BroadcastOptions select the sockets of an operation (JS BroadcastOptions).
// Empty Rooms means every socket of the namespace; a socket in any Except
// room is left out.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Flags  Flags
}

// Handshake describes the first HTTP request of a connection and the auth
// payload of its CONNECT packet (JS socket.handshake). It is plain data so
// that cluster adapters can send it to other servers.
type Handshake struct {
	// Headers of the handshake request.
	Headers http.Header
	// Time is when the socket was created, as JavaScript's Date.toString writes it.
	Time string
	// Address is the remote IP address of the connection.
	Address string
	// XDomain reports whether the handshake request had an Origin header.
	XDomain bool
	// Secure reports whether the connection uses TLS.
	Secure bool
	// Issued is Time in milliseconds since the Unix epoch.
	Issued int64
	// URL is the request URI of the handshake request.
	URL string
	// Query is the parsed query of the handshake request.
	Query url.Values
	// Auth is the JSON payload of the CONNECT packet, `{}` when absent.
	Auth json.RawMessage
}

// SocketDetails is what any server knows of a socket, local or remote
// (the payload of JS fetchSockets).
type SocketDetails interface {
	ID() string
	Handshake() *Handshake
	Rooms() []string
	Data() any
}

// RemoteSocket is a SocketDetails received from another server.
type RemoteSocket struct {
	SocketID        string
	SocketHandshake *Handshake
	SocketRooms     []string
	SocketData      any
}

// ID returns the socket id.
func (r *RemoteSocket) ID() string { return r.SocketID }

// Handshake returns the handshake details.
func (r *RemoteSocket) Handshake() *Handshake { return r.SocketHandshake }

// Rooms returns the rooms the socket was in when it was fetched.
func (r *RemoteSocket) Rooms() []string { return r.SocketRooms }

// Data returns the socket's user data.
func (r *RemoteSocket) Data() any { return r.SocketData }

// Prepared is a packet encoded once by Namespace.Prepare and shared by every
// recipient of a broadcast. Only the namespace understands its encoded form.
type Prepared interface {
	Packet() *parser.Packet
}

// Socket is a connected socket of this server as an adapter sees it. The
// server implements it; its methods never block.
type Socket interface {
	SocketDetails
	// Connected reports whether the socket finished connecting and has not
	// disconnected; an adapter targets connected sockets only.
	Connected() bool
	// Deliver queues a prepared packet for the socket's client. It reports
	// false when the packet was not queued, as for a socket not Connected:
	// broadcasts leave that check to Deliver.
	Deliver(p Prepared, flags Flags) bool
	// ExpectAck registers ack for the acknowledgement with id. It reports
	// false when the socket can no longer receive it.
	ExpectAck(id uint64, ack func(*parser.Packet)) bool
	// Join is called by SocketsJoin-style operations (JS socket.join).
	Join(rooms ...string)
	// Leave is called by SocketsLeave-style operations (JS socket.leave).
	Leave(rooms ...string)
	// Disconnect is called by DisconnectSockets (JS socket.disconnect(close)).
	Disconnect(close bool)
}

// Namespace is the part of a server namespace that an adapter uses.
type Namespace interface {
	// Name is the namespace name, e.g. "/" or "/chat".
	Name() string
	// Prepare encodes p once for delivery to many sockets.
	Prepare(p *parser.Packet) (Prepared, error)
	// NextAckID returns a fresh acknowledgement id of the namespace.
	NextAckID() uint64
	// ServerSideEmit delivers an event sent by another server with
	// serverSideEmit; ack is nil when the sender expects no answer.
	ServerSideEmit(args []json.RawMessage, ack func(reply json.RawMessage))
}

// Session is the state of a disconnected socket kept for connection state
// recovery (JS Session).
type Session struct {
	SID   string
	PID   string
	Rooms []string
	Data  any
	// Offset is a position in the adapter's packet stream. Given to
	// PersistSession, it is where the socket's session started (see
	// Recoverer.Offset; "" when unknown): a client that sends no offset is
	// restored from there. Returned by RestoreSession, it is the offset the
	// missed packets start after.
	Offset string
	// MissedPackets are the EVENT packets broadcast to the session while it
	// was away, filled by RestoreSession.
	MissedPackets []*parser.Packet
}

// Adapter routes the operations of one namespace to its sockets, on this
// server and, for cluster adapters, on the others. Methods that talk to other
// servers take a context; the in-memory adapter never blocks.
type Adapter interface {
	// Init starts the adapter; it is called once when the namespace is created.
	Init(ctx context.Context) error
	// Close stops the adapter; it is called by Server.Close.
	Close(ctx context.Context) error
	// ServerCount is the number of servers of the cluster, this one included.
	ServerCount(ctx context.Context) (int, error)

	// AddAll adds the socket to rooms.
	AddAll(s Socket, rooms []string)
	// Del removes the socket with id from room.
	Del(id, room string)
	// DelAll removes the socket with id from every room.
	DelAll(id string)
	// SocketRooms returns the rooms of the socket with id, nil when unknown.
	SocketRooms(id string) []string
	// Sockets returns the ids of the sockets in any of rooms (every socket
	// when rooms is empty).
	Sockets(ctx context.Context, rooms []string) ([]string, error)

	// Broadcast sends p to the selected sockets.
	Broadcast(ctx context.Context, p *parser.Packet, opts BroadcastOptions) error
	// BroadcastWithAck sends p with an acknowledgement id to the selected
	// sockets. clientCount is called once per server with the number of
	// sockets reached there; ack is called with each client's ACK packet.
	BroadcastWithAck(ctx context.Context, p *parser.Packet, opts BroadcastOptions,
		clientCount func(n int), ack func(*parser.Packet)) error

	// FetchSockets returns the selected sockets; local ones are Socket values.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketDetails, error)
	// AddSockets makes the selected sockets join rooms.
	AddSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DelSockets makes the selected sockets leave rooms.
	DelSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DisconnectSockets disconnects the selected sockets.
	DisconnectSockets(ctx context.Context, opts BroadcastOptions, close bool) error

	// ServerSideEmit sends an event to the other servers. With a non-nil ack
	// it waits (until ctx is done) for one reply per other server.
	ServerSideEmit(ctx context.Context, args []json.RawMessage, ack func(replies []json.RawMessage, err error)) error

	// PersistSession stores a disconnected socket's session for connection
	// state recovery.
	PersistSession(s *Session)
	// RestoreSession returns the stored session pid with the packets missed
	// since offset, or nil when it cannot be restored (with an error saying
	// why, e.g. ErrSessionUnknown or ErrOffsetUnknown, when the adapter
	// stores sessions).
	RestoreSession(ctx context.Context, pid, offset string) (*Session, error)
}

// Factory creates the adapter of a namespace.
type Factory func(nsp Namespace) Adapter
