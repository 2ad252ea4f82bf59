package parser

import "errors"

// Decoding errors. Each maps to the error the official socket.io-parser throws
// for the same input; every one of them means the peer broke the protocol and
// the connection must be closed. Errors returned by the Decoder wrap one of
// these, so test them with errors.Is.
var (
	// ErrInvalidPacketType: the first character is not 0..6 (JS "unknown packet type").
	ErrInvalidPacketType = errors.New("parser: unknown packet type")
	// ErrIllegalAttachments: a malformed attachment count ("45x-") or a placeholder
	// whose num is not an integer in [0, attachments) (JS "illegal attachments").
	ErrIllegalAttachments = errors.New("parser: illegal attachments")
	// ErrTooManyAttachments: the attachment count exceeds Decoder.MaxAttachments.
	ErrTooManyAttachments = errors.New("parser: too many attachments")
	// ErrInvalidPayload: the JSON payload is malformed or has the wrong shape for
	// the packet type (JS "invalid payload").
	ErrInvalidPayload = errors.New("parser: invalid payload")
	// ErrInvalidNamespace: the namespace is longer than Decoder.MaxNamespaceLength,
	// or (when building a packet) does not start with "/" or contains ",".
	ErrInvalidNamespace = errors.New("parser: invalid namespace")
	// ErrInvalidAckID: the ack id does not fit in a uint64.
	ErrInvalidAckID = errors.New("parser: invalid ack id")
	// ErrUnexpectedBinary: a binary message arrived while no attachment was
	// pending (JS "got binary data when not reconstructing a packet").
	ErrUnexpectedBinary = errors.New("parser: got binary data when not reconstructing a packet")
	// ErrUnexpectedText: a text message arrived while attachments were pending
	// (JS "got plaintext data when reconstructing a packet").
	ErrUnexpectedText = errors.New("parser: got plaintext data when reconstructing a packet")
)

// Errors of the JSON encoder and of the packet accessors.
var (
	// ErrUnsupportedValue: Marshal met a value JSON cannot represent (a channel,
	// a function, a complex number, a cycle or a nesting deeper than 1000).
	ErrUnsupportedValue = errors.New("parser: unsupported value")
	// ErrInvalidJSON: a json.RawMessage or a MarshalJSON result is not valid JSON.
	ErrInvalidJSON = errors.New("parser: invalid JSON")
	// ErrNotEvent: EventName was called on a packet that is not an EVENT or BINARY_EVENT.
	ErrNotEvent = errors.New("parser: not an event packet")
	// ErrNoArgs: Args was called on a packet that carries no argument array.
	ErrNoArgs = errors.New("parser: packet has no argument array")
)
