// Package eventargs gives lazy access to the arguments of a received
// Socket.IO event or acknowledgement, shared by the server (package
// socketio) and the client (package client).
//
// # Concurrency
//
// A List's methods are safe for concurrent use: the arguments are split
// once, on first use (sync.Once), and never changed after.
package eventargs

import (
	"encoding/json"
	"sync"

	"github.com/seed9706/socketio/parser"
)

// List holds the arguments of a packet: they stay raw JSON until decoded.
type List struct {
	Packet    *parser.Packet
	FirstOnly bool // keep only the first argument (server broadcast acks, as in JS)

	once sync.Once
	raw  []json.RawMessage
	err  error
}

func (l *List) load() ([]json.RawMessage, error) {
	l.once.Do(func() {
		l.raw, l.err = l.Packet.Args()
		if l.FirstOnly && len(l.raw) > 1 {
			l.raw = l.raw[:1]
		}
	})
	return l.raw, l.err
}

// Args decodes the arguments into dst, in order, like json.Unmarshal; binary
// attachments decode into []byte (or any). Extra arguments are ignored and
// extra destinations are left untouched, as JavaScript does.
func (l *List) Args(dst ...any) error {
	raw, err := l.load()
	if err != nil {
		return err
	}
	for i, d := range dst {
		if i >= len(raw) {
			break
		}
		if err := parser.Unmarshal(raw[i], l.Packet.Attachments, d); err != nil {
			return err
		}
	}
	return nil
}

// Len returns the number of arguments (0 for invalid ones).
func (l *List) Len() int {
	raw, _ := l.load()
	return len(raw)
}

// Raw returns the arguments as raw JSON; binary attachments appear as their
// placeholders ({"_placeholder":true,"num":N}).
func (l *List) Raw() []json.RawMessage {
	raw, _ := l.load()
	return raw
}

// Values returns the arguments ready to be emitted again, byte for byte:
// raw JSON, with the binary attachments they refer to (parser.RawArg).
func (l *List) Values() []any {
	raw, _ := l.load()
	out := make([]any, len(raw))
	for i, r := range raw {
		if len(l.Packet.Attachments) == 0 {
			out[i] = r
		} else {
			out[i] = parser.RawArg{JSON: r, Attachments: l.Packet.Attachments}
		}
	}
	return out
}
