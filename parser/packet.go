package parser

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Protocol is the Socket.IO protocol revision this package speaks.
const Protocol = 5

// Type is a Socket.IO packet type, the first character of a packet.
type Type byte

// The Socket.IO v5 packet types.
const (
	Connect      Type = 0
	Disconnect   Type = 1
	Event        Type = 2
	Ack          Type = 3
	ConnectError Type = 4
	BinaryEvent  Type = 5
	BinaryAck    Type = 6
)

var typeNames = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// String returns the name socket.io-parser uses for t, e.g. "BINARY_EVENT".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "UNKNOWN(" + strconv.Itoa(int(t)) + ")"
}

// IsBinary reports whether t carries binary attachments (BINARY_EVENT, BINARY_ACK).
func (t Type) IsBinary() bool { return t == BinaryEvent || t == BinaryAck }

// Packet is one Socket.IO packet: the text part and its binary attachments.
type Packet struct {
	Type      Type
	Namespace string // "/" when absent on the wire
	ID        uint64 // ack id, valid when HasID
	HasID     bool
	// Data is the JSON payload without surrounding whitespace, placeholders left
	// in place; nil when the packet has none. A decoded packet's Data aliases
	// the bytes given to the Decoder.
	Data []byte
	// Attachments are the binary attachments of a BINARY_EVENT or BINARY_ACK;
	// index = placeholder num. They are shared, never copied.
	Attachments [][]byte
}

// AppendText appends the text form of p, <type>[<n>-][<nsp>,][<id>][<json>],
// to dst. For BinaryEvent and BinaryAck, n is len(p.Attachments), each of which
// the transport sends as its own binary message after the text; without
// attachments they are written as Event and Ack (JS refuses a count of 0).
func (p *Packet) AppendText(dst []byte) []byte {
	t := p.Type
	if t.IsBinary() && len(p.Attachments) == 0 {
		t -= BinaryEvent - Event
	}
	dst = append(dst, '0'+byte(t))
	if t.IsBinary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// TextLen is the length AppendText adds for p, so that a caller can
// allocate the text form once.
func (p *Packet) TextLen() int {
	t := p.Type
	if t.IsBinary() && len(p.Attachments) == 0 {
		t -= BinaryEvent - Event
	}
	n := 1 + len(p.Data)
	if t.IsBinary() {
		n += decimalLen(uint64(len(p.Attachments))) + 1
	}
	if p.Namespace != "" && p.Namespace != "/" {
		n += len(p.Namespace) + 1
	}
	if p.HasID {
		n += decimalLen(p.ID)
	}
	return n
}

// decimalLen is the number of decimal digits of v.
func decimalLen(v uint64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// String returns the text form of p, for logs and tests.
func (p *Packet) String() string { return string(p.AppendText(nil)) }

// EventName returns the event name of an EVENT or BINARY_EVENT: the first
// array element, a string, or a number rendered as JavaScript's String(n)
// renders it (so `[1,...]` is event "1", as in JS where event names are keys).
func (p *Packet) EventName() (string, error) {
	if p.Type != Event && p.Type != BinaryEvent {
		return "", ErrNotEvent
	}
	if len(p.Data) == 0 || p.Data[0] != '[' {
		return "", ErrInvalidPayload
	}
	first, _ := nextValue(p.Data, 1)
	switch {
	case len(first) == 0:
		return "", ErrInvalidPayload
	case first[0] == '"':
		return unquote(first), nil
	case first[0] == '-' || first[0] >= '0' && first[0] <= '9':
		f, err := strconv.ParseFloat(string(first), 64)
		if err != nil && math.IsInf(f, 0) {
			err = nil // JS turns out-of-range numbers into Infinity
		}
		if err != nil {
			return "", ErrInvalidPayload
		}
		return jsNumberString(f), nil
	}
	return "", ErrInvalidPayload
}

// jsNumberString formats f as JavaScript's String(f) does.
func jsNumberString(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return string(appendFloat(nil, f, 64))
}

// Args returns the top-level elements of the payload array: those after the
// event name for an EVENT or BINARY_EVENT, all of them for an ACK or
// BINARY_ACK (nil when an ACK has no payload). The slices alias p.Data;
// placeholders are left in place: decode them with Unmarshal(arg, p.Attachments, &v).
func (p *Packet) Args() ([]json.RawMessage, error) {
	isEvent := p.Type == Event || p.Type == BinaryEvent
	if !isEvent && p.Type != Ack && p.Type != BinaryAck {
		return nil, ErrNoArgs
	}
	if len(p.Data) == 0 && !isEvent {
		return nil, nil
	}
	var args []json.RawMessage
	skip := isEvent
	end, err := forArray(p.Data, 0, func(at int) (int, error) {
		var s scanner
		end, err := s.value(p.Data, at)
		if err == nil && !skip {
			args = append(args, p.Data[at:end])
		}
		skip = false
		return end, err
	})
	if err != nil || skipSpace(p.Data, end) != len(p.Data) || isEvent && skip {
		return nil, ErrInvalidPayload
	}
	return args, nil
}

// reserved are the event names a peer may not send (socket.io RESERVED_EVENTS).
var reserved = [...]string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// IsReservedEvent reports whether name is reserved by Socket.IO: the decoder
// refuses incoming events with these names, and JS refuses to emit them with
// the error `"<name>" is a reserved event name`.
func IsReservedEvent(name string) bool {
	for _, r := range reserved {
		if name == r {
			return true
		}
	}
	return false
}

func checkNamespace(nsp string) (string, error) {
	if nsp == "" {
		return "/", nil
	}
	if nsp[0] != '/' || strings.IndexByte(nsp, ',') >= 0 {
		return "", fmt.Errorf("%w: %q", ErrInvalidNamespace, nsp)
	}
	return nsp, nil
}

// NewEvent builds the EVENT packet ["event", args...] for namespace nsp ("" =
// "/"). Every []byte found in args (at any depth) becomes a placeholder and an
// attachment, and the packet a BINARY_EVENT. The caller sets ID/HasID for an
// ack request. Attachments share the caller's byte slices: do not modify them
// until the packet is sent.
func NewEvent(nsp, event string, args []any) (*Packet, error) {
	return newArgsPacket(Event, nsp, &event, args)
}

// NewAck builds the ACK packet [args...] answering ack id on namespace nsp;
// like NewEvent, []byte values make it a BINARY_ACK.
func NewAck(nsp string, id uint64, args []any) (*Packet, error) {
	p, err := newArgsPacket(Ack, nsp, nil, args)
	if err == nil {
		p.ID, p.HasID = id, true
	}
	return p, err
}

// newArgsPacket builds an EVENT (with name) or ACK (without) packet.
func newArgsPacket(t Type, nsp string, name *string, args []any) (*Packet, error) {
	nsp, err := checkNamespace(nsp)
	if err != nil {
		return nil, err
	}
	e := encoder{binary: true, buf: make([]byte, 0, 64)}
	e.buf = append(e.buf, '[')
	if name != nil {
		e.buf = appendString(e.buf, *name)
	}
	for i, a := range args {
		if i > 0 || name != nil {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(a); err != nil {
			return nil, err
		}
	}
	e.buf = append(e.buf, ']')
	if len(e.attachments) > 0 {
		t += BinaryEvent - Event
	}
	return &Packet{Type: t, Namespace: nsp, Data: e.buf, Attachments: e.attachments}, nil
}

// NewConnect builds a CONNECT packet. payload is the client's auth object or
// the server's reply ({"sid":...}); nil means no payload (a bare "0"). It must
// marshal to a JSON object.
func NewConnect(nsp string, payload any) (*Packet, error) {
	nsp, err := checkNamespace(nsp)
	if err != nil {
		return nil, err
	}
	p := &Packet{Type: Connect, Namespace: nsp}
	if payload != nil {
		if p.Data, err = Marshal(payload); err != nil {
			return nil, err
		}
		if p.Data[0] != '{' {
			return nil, fmt.Errorf("%w: CONNECT payload must be an object, got %s", ErrInvalidPayload, p.Data)
		}
	}
	return p, nil
}

// NewConnectError builds the CONNECT_ERROR packet {"message":message,"data":data};
// "data" is left out when data is nil, as JS leaves out undefined.
func NewConnectError(nsp, message string, data any) (*Packet, error) {
	nsp, err := checkNamespace(nsp)
	if err != nil {
		return nil, err
	}
	buf := append(make([]byte, 0, 32+len(message)), `{"message":`...)
	buf = appendString(buf, message)
	if data != nil {
		e := encoder{buf: append(buf, `,"data":`...)}
		if err := e.value(data); err != nil {
			return nil, err
		}
		buf = e.buf
	}
	return &Packet{Type: ConnectError, Namespace: nsp, Data: append(buf, '}')}, nil
}

// NewDisconnect builds the DISCONNECT packet for namespace nsp.
func NewDisconnect(nsp string) (*Packet, error) {
	nsp, err := checkNamespace(nsp)
	if err != nil {
		return nil, err
	}
	return &Packet{Type: Disconnect, Namespace: nsp}, nil
}
