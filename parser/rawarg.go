package parser

import (
	"encoding/json"
	"fmt"
)

// RawArg is raw JSON together with the attachments its placeholders refer
// to, typically an argument from Packet.Args and the packet's Attachments. In
// an event or ack it is written byte for byte (whitespace removed) except its
// placeholders, which are renumbered to the new packet's attachments: a server
// re-emits what it received, binary included, exactly as it came. Marshal
// writes each placeholder's attachment as a base64 string.
type RawArg struct {
	JSON        json.RawMessage
	Attachments [][]byte
}

func (e *encoder) rawArg(r RawArg) error {
	raw := trimSpace(r.JSON)
	if len(r.Attachments) == 0 || !mayHavePlaceholder(raw) {
		return e.raw(r.JSON)
	}
	if !validJSON(raw) {
		return fmt.Errorf("%w: %.40q", ErrInvalidJSON, raw)
	}
	x, err := newPhIndex(raw, len(r.Attachments))
	if err != nil {
		return err
	}
	_, err = e.rewrite(x, 0, r.Attachments)
	return err
}

// rewrite copies the value at x.b[i], replacing its placeholders, and returns its end.
func (e *encoder) rewrite(x *phIndex, i int, attachments [][]byte) (int, error) {
	b := x.b
	if num, ok := x.nums[i]; ok {
		e.bytes(attachments[num])
		return skipValue(b, i), nil
	}
	if !x.holds[i] {
		end := skipValue(b, i)
		var err error
		e.buf, err = appendNormalized(e.buf, b[i:end])
		return end, err
	}
	sep := byte(0)
	if b[i] == '[' {
		e.buf = append(e.buf, '[')
		end, err := forArray(b, i, func(at int) (int, error) {
			if sep != 0 {
				e.buf = append(e.buf, sep)
			}
			sep = ','
			return e.rewrite(x, at, attachments)
		})
		e.buf = append(e.buf, ']')
		return end, err
	}
	e.buf = append(e.buf, '{') // only arrays and objects hold placeholders
	end, err := forObject(b, i, func(key []byte, at int) (int, error) {
		if sep != 0 {
			e.buf = append(e.buf, sep)
		}
		sep = ','
		var err error
		if e.buf, err = appendNormalized(e.buf, key); err != nil {
			return 0, err
		}
		e.buf = append(e.buf, ':')
		return e.rewrite(x, at, attachments)
	})
	e.buf = append(e.buf, '}')
	return end, err
}
