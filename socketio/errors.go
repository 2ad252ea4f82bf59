package socketio

import (
	"errors"
	"fmt"
)

// Disconnect reasons passed to OnDisconnecting and OnDisconnect: the exact
// strings of the official server. Engine-level reasons come from engineio.
const (
	ReasonTransportError            = "transport error"
	ReasonTransportClose            = "transport close"
	ReasonForcedClose               = "forced close"
	ReasonPingTimeout               = "ping timeout"
	ReasonParseError                = "parse error"
	ReasonServerShuttingDown        = "server shutting down"
	ReasonForcedServerClose         = "forced server close"
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
)

var (
	// ErrReservedEvent is returned when emitting a reserved event name.
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrTimeout is returned by EmitWithAck when the context deadline passes
	// before every acknowledgement arrived (JS "operation has timed out").
	ErrTimeout = errors.New("socketio: operation has timed out")
	// ErrDisconnected is returned when using a socket that has disconnected.
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrTooManyPendingAcks is returned by EmitWithAck past MaxPendingAcks.
	ErrTooManyPendingAcks = errors.New("socketio: too many pending acknowledgements")
	// ErrServerClosed is returned by Close when called twice.
	ErrServerClosed = errors.New("socketio: server closed")
)

// ConnectError rejects a connection from a middleware: the client gets
// CONNECT_ERROR with {"message": Message, "data": Data} (data omitted when
// nil). Any other error sends its Error() text as message.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return "socketio: connection refused: " + e.Message }

var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

func checkEventName(name string) error {
	if reservedEvents[name] {
		return fmt.Errorf("%w: %q is a reserved event name", ErrReservedEvent, name)
	}
	return nil
}
