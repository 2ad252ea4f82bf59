package client

import (
	"encoding/json"
	"errors"
)

// Disconnect reasons passed to OnDisconnect and Manager.OnClose: the exact
// strings of the official JavaScript client.
const (
	// ReasonIOServerDisconnect: the server disconnected the socket; no
	// automatic reconnection.
	ReasonIOServerDisconnect = "io server disconnect"
	// ReasonIOClientDisconnect: Socket.Disconnect was called; no automatic
	// reconnection.
	ReasonIOClientDisconnect = "io client disconnect"
	// ReasonPingTimeout: the server sent no ping in pingInterval + pingTimeout.
	ReasonPingTimeout = "ping timeout"
	// ReasonTransportClose: the connection was closed (by the server or the network).
	ReasonTransportClose = "transport close"
	// ReasonTransportError: the connection failed.
	ReasonTransportError = "transport error"
	// ReasonParseError: the server sent a packet that could not be decoded.
	ReasonParseError = "parse error"
	// ReasonForcedClose: the Manager closed the connection (no socket left).
	ReasonForcedClose = "forced close"
)

var (
	// ErrDisconnected fails the pending acknowledgements of a socket that
	// disconnects (JS "socket has been disconnected").
	ErrDisconnected = errors.New("client: socket has been disconnected")
	// ErrTimeout: no acknowledgement in time (JS "operation has timed out").
	ErrTimeout = errors.New("client: operation has timed out")
	// ErrConnectTimeout: the connection was not established within
	// ManagerOptions.Timeout (JS "timeout").
	ErrConnectTimeout = errors.New("client: timeout")
	// ErrReservedEvent: the event name is reserved by Socket.IO.
	ErrReservedEvent = errors.New("client: reserved event name")
	// ErrBufferFull: too many packets are waiting for the connection
	// (SocketOptions.MaxBufferedPackets).
	ErrBufferFull = errors.New("client: send buffer full")
	// ErrClosed: the Manager was closed (Manager.Close); its sockets cannot
	// connect any more.
	ErrClosed = errors.New("client: manager closed")
	// ErrReconnectFailed: every reconnection attempt failed.
	ErrReconnectFailed = errors.New("client: reconnection failed")
	// ErrNotRecovered: a reconnection did not recover the previous session
	// (connection state recovery); see Socket.RecoveryError.
	ErrNotRecovered = errors.New("client: connection state not recovered")
	// ErrV2Server: the server answered CONNECT without a sid (Socket.IO v2).
	ErrV2Server = errors.New("client: It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, " +
		"but they are not compatible (more information here: https://socket.io/docs/v3/migrating-from-2-x-to-3-0/)")
)

// ConnectError is a refusal of the server (a CONNECT_ERROR packet): the
// message and data given by its middleware.
type ConnectError struct {
	Message string
	Data    json.RawMessage // nil when the server sent none
}

func (e *ConnectError) Error() string { return "client: connect_error: " + e.Message }
