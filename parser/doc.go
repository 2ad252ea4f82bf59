// Package parser is the Socket.IO v5 packet codec (the Go counterpart of the
// official socket.io-parser): packets to and from their Engine.IO message
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
// packets from Go values; []byte values anywhere in event or ack arguments
// become attachments. Packet.AppendText writes the text form; the transport
// then sends Packet.Attachments. A packet is immutable once built, so a
// broadcast encodes it once and hands the same bytes to every recipient.
//
// # Decoding
//
// A Decoder, one per connection, turns incoming messages back into packets and
// applies every rule socket.io-parser applies (packet type, attachment count,
// namespace, ack id, payload shape per type, reserved event names,
// placeholders). Payloads stay raw JSON until needed: Packet.EventName,
// Packet.Args, and Unmarshal, which turns placeholders into the attachments.
//
// # Concurrency
//
// A Decoder is used by one goroutine at a time (the connection's read path).
// A Packet is safe for concurrent reads once built or returned; the package
// keeps no shared mutable state apart from a cache of struct field lists
// (a sync.Map). Nothing here calls user code except MarshalJSON, MarshalText,
// UnmarshalJSON and UnmarshalText methods of the values being encoded or
// decoded, and no lock is held while doing so.
package parser
