package engineio

import (
	"encoding/base64"
	"errors"
	"fmt"
)

// PacketType is the Engine.IO packet type, written as one ASCII digit on the wire.
type PacketType uint8

// The Engine.IO v4 packet types.
const (
	PacketOpen    PacketType = iota // 0: server -> client handshake
	PacketClose                     // 1: close the session
	PacketPing                      // 2: heartbeat (server -> client in v4; "2probe" on an upgrade)
	PacketPong                      // 3: heartbeat reply ("3probe" on an upgrade)
	PacketMessage                   // 4: application data
	PacketUpgrade                   // 5: switch to the probed transport
	PacketNoop                      // 6: forces a polling cycle to end
)

var packetTypeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

func (t PacketType) String() string {
	if int(t) < len(packetTypeNames) {
		return packetTypeNames[t]
	}
	return fmt.Sprintf("PacketType(%d)", uint8(t))
}

// Packet is one Engine.IO packet. Binary is only meaningful for PacketMessage:
// a binary message travels as a WebSocket binary frame or, on polling, as
// "b" followed by standard base64.
type Packet struct {
	Type   PacketType
	Data   []byte
	Binary bool
}

// ErrInvalidPacket is wrapped by every decoding error.
var ErrInvalidPacket = errors.New("engineio: invalid packet")

// AppendPacket appends the text form of p (as used in polling payloads and
// WebSocket text frames) to dst: the type digit followed by the data, or, for a
// binary message, "b" followed by the standard base64 of the data.
func AppendPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// EncodedLen is the length AppendPacket adds for p.
func EncodedLen(p Packet) int {
	if p.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}

// DecodePacket decodes one text packet ("4hello", "2probe", "bAQID"). The
// Data of a text packet aliases b; the Data of a base64 packet is new memory.
// An empty input, an unknown type or bad base64 is an error wrapping
// ErrInvalidPacket.
func DecodePacket(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, fmt.Errorf("%w: empty packet", ErrInvalidPacket)
	}
	if b[0] == 'b' {
		data, err := base64.StdEncoding.AppendDecode(make([]byte, 0, base64.StdEncoding.DecodedLen(len(b)-1)), b[1:])
		if err != nil {
			return Packet{}, fmt.Errorf("%w: bad base64: %v", ErrInvalidPacket, err)
		}
		return Packet{Type: PacketMessage, Data: data, Binary: true}, nil
	}
	t := b[0] - '0'
	if t > byte(PacketNoop) {
		return Packet{}, fmt.Errorf("%w: unknown type %q", ErrInvalidPacket, b[0])
	}
	p := Packet{Type: PacketType(t)}
	if len(b) > 1 {
		p.Data = b[1:len(b):len(b)] // capped: appending must not overwrite a neighbour in a payload
	}
	return p, nil
}
