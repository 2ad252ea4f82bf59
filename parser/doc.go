// Package parser is the Socket.IO v5 packet codec (the Go counterpart of the
// official socket.io-parser 4.2): packets to and from their Engine.IO message
// payloads, and JSON written exactly as JavaScript's JSON.stringify writes it.
//
// A packet's text form is
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// for example `2/chat,12["msg","hi"]`. BINARY_EVENT and BINARY_ACK packets are
// followed by their attachments, one binary Engine.IO message each, and their
// JSON holds a placeholder {"_placeholder":true,"num":i} where attachment i was.
//
// # Encoding
//
// NewEvent, NewAck, NewConnect, NewConnectError and NewDisconnect build
// packets from Go values with Marshal's JSON; []byte values anywhere in event
// or ack arguments become attachments, numbered depth first. Packet.AppendText
// writes the text form; the transport then sends Packet.Attachments. A built
// packet is never modified, so a broadcast encodes it once and hands the same
// bytes to every recipient. A RawArg re-emits a received argument, binary
// included, byte for byte.
//
// # Decoding
//
// A Decoder, one per connection, turns incoming messages back into packets and
// applies the rules socket.io-parser applies (packet type, attachment count,
// namespace, ack id, payload shape per type, reserved event names,
// placeholders); every error means the connection must be closed. Payloads
// stay raw JSON until needed: Packet.EventName, Packet.Args, and Unmarshal,
// which turns placeholders into the attachments. All of it runs in time
// linear in the message size, however deep the JSON nests.
//
// Where socket.io-parser is lenient by accident, the Decoder refuses (no
// official client sends these): an empty message (JS: CONNECT), an EVENT
// without payload, whitespace before the payload (JS reads it as ack id 0), a
// placeholder num that is not an integer, an ack id beyond uint64, a namespace
// longer than MaxNamespaceLength. A binary packet announcing 0 attachments is
// refused, as socket.io-parser 4.2.7 does.
//
// # Concurrency
//
// A Decoder is used by one goroutine at a time (the connection's read path).
// A Packet is safe for concurrent reads once built or returned. The package
// keeps no shared mutable state apart from a cache of struct field lists (a
// sync.Map) and takes no locks. It calls no user code except the MarshalJSON,
// MarshalText, UnmarshalJSON and UnmarshalText methods of the values being
// encoded or decoded.
package parser
