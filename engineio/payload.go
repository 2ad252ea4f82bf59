package engineio

import (
	"bytes"
	"fmt"
)

// recordSeparator joins the packets of a polling payload.
const recordSeparator = 0x1e

// AppendPayload appends the polling payload of pkts to dst: their text forms
// joined with the record separator 0x1e ("4hello\x1e2\x1ebAQID").
func AppendPayload(dst []byte, pkts ...Packet) []byte {
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		dst = AppendPacket(dst, p)
	}
	return dst
}

// PayloadLen is the length AppendPayload adds for pkts.
func PayloadLen(pkts ...Packet) int {
	n := 0
	for i, p := range pkts {
		if i > 0 {
			n++
		}
		n += EncodedLen(p)
	}
	return n
}

// DecodePayload decodes a polling payload. It stops at the first invalid
// packet and returns the packets decoded before it together with the error
// (wrapping ErrInvalidPacket), so a caller can process the valid prefix in
// order first, like the official server does. Text packet data aliases body.
func DecodePayload(body []byte) ([]Packet, error) {
	var pkts []Packet
	err := eachPacket(body, func(p Packet) bool {
		pkts = append(pkts, p)
		return true
	})
	return pkts, err
}

// eachPacket decodes body packet by packet, calling fn for each until fn
// returns false or a packet is invalid (then the error is returned).
func eachPacket(body []byte, fn func(Packet) bool) error {
	for i := 0; ; i++ {
		part, rest, more := bytes.Cut(body, []byte{recordSeparator})
		p, err := DecodePacket(part)
		if err != nil {
			return fmt.Errorf("packet %d: %w", i, err)
		}
		if !fn(p) || !more {
			return nil
		}
		body = rest
	}
}
