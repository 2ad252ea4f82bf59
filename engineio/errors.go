package engineio

import (
	"errors"
	"fmt"
)

// Close reasons passed to Handler.OnClose (the exact strings of the official server).
const (
	ReasonTransportClose     = "transport close"
	ReasonTransportError     = "transport error"
	ReasonPingTimeout        = "ping timeout"
	ReasonParseError         = "parse error"
	ReasonForcedClose        = "forced close"
	ReasonServerShuttingDown = "server shutting down"
)

var (
	// ErrQueueFull is returned by Session.Send when the outbound queue bound
	// (MaxQueuePackets or MaxQueueBytes) would be exceeded; nothing is queued.
	ErrQueueFull = errors.New("engineio: outbound queue full")
	// ErrClosed is returned when sending on a session that is closing or closed.
	ErrClosed = errors.New("engineio: session closed")
	// ErrServerClosed is returned by Server.Close when called twice.
	ErrServerClosed = errors.New("engineio: server closed")
	// ErrRequestResent fails a client's polling GET that the HTTP client
	// resent after its connection failed: the first response may have been
	// lost with packets in it.
	ErrRequestResent = errors.New("engineio: polling request resent after a connection failure")
)

// Request error codes of the official server (FEATURES 1.16).
const (
	CodeUnknownTransport    = 0
	CodeUnknownSID          = 1
	CodeBadHandshakeMethod  = 2
	CodeBadRequest          = 3
	CodeForbidden           = 4
	CodeUnsupportedProtocol = 5
)

var codeMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// RequestError is a rejected HTTP request: Code is one of the Code*
// constants, Message the text sent to the client.
type RequestError struct {
	Code    int
	Message string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("engineio: request rejected: code %d: %s", e.Code, e.Message)
}

func requestError(code int) *RequestError {
	return &RequestError{Code: code, Message: codeMessages[code]}
}

// ProtocolError is the cause passed to OnClose when the peer broke the
// protocol (an invalid packet, overlapping requests, a ping from the client).
type ProtocolError struct {
	Reason string // e.g. "overlap from client", "invalid heartbeat direction"
	Err    error  // the underlying decode or I/O error, may be nil
}

func (e *ProtocolError) Error() string {
	if e.Err != nil {
		return "engineio: " + e.Reason + ": " + e.Err.Error()
	}
	return "engineio: " + e.Reason
}

func (e *ProtocolError) Unwrap() error { return e.Err }
