package socketio

import (
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/seed9706/socketio/parser"
)

// argList gives lazy access to the arguments of a received packet: they
// stay raw JSON until decoded.
type argList struct {
	pkt       *parser.Packet
	firstOnly bool // keep only the first argument (broadcast acks, as in JS)
	once      sync.Once
	raw       []json.RawMessage
	err       error
}

func (a *argList) load() ([]json.RawMessage, error) {
	a.once.Do(func() {
		a.raw, a.err = a.pkt.Args()
		if a.firstOnly && len(a.raw) > 1 {
			a.raw = a.raw[:1]
		}
	})
	return a.raw, a.err
}

// Args decodes the arguments into dst, in order, like json.Unmarshal; binary
// attachments decode into []byte (or any). Extra arguments are ignored and
// extra destinations are left untouched, as JavaScript does.
func (a *argList) Args(dst ...any) error {
	raw, err := a.load()
	if err != nil {
		return err
	}
	for i, d := range dst {
		if i >= len(raw) {
			break
		}
		if err := parser.Unmarshal(raw[i], a.pkt.Attachments, d); err != nil {
			return err
		}
	}
	return nil
}

// Raw returns the arguments as raw JSON; binary attachments appear as their
// placeholders ({"_placeholder":true,"num":N}).
func (a *argList) Raw() []json.RawMessage {
	raw, _ := a.load()
	return raw
}

// Values returns the arguments ready to be emitted again, byte for byte:
// raw JSON, with the binary attachments they refer to (parser.RawArg).
func (a *argList) Values() []any {
	raw, _ := a.load()
	out := make([]any, len(raw))
	for i, r := range raw {
		if len(a.pkt.Attachments) == 0 {
			out[i] = r
		} else {
			out[i] = parser.RawArg{JSON: r, Attachments: a.pkt.Attachments}
		}
	}
	return out
}

// Event is an event received from a client (or, for OnAnyOutgoing, sent to it).
type Event struct {
	argList
	name   string
	socket *Socket
	acked  atomic.Bool
}

func newEvent(s *Socket, p *parser.Packet, name string) *Event {
	return &Event{argList: argList{pkt: p}, name: name, socket: s}
}

// Name is the event name.
func (e *Event) Name() string { return e.name }

// Socket is the socket that received (or sends) the event.
func (e *Event) Socket() *Socket { return e.socket }

// HasAck reports whether the client asked for an acknowledgement.
func (e *Event) HasAck() bool { return e.pkt.HasID }

// Ack sends the acknowledgement with args. Only the first call sends; it does
// nothing when the client asked for none.
func (e *Event) Ack(args ...any) error {
	if !e.pkt.HasID || !e.acked.CompareAndSwap(false, true) {
		return nil
	}
	p, err := parser.NewAck(e.socket.nsp.name, e.pkt.ID, args)
	if err != nil {
		return err
	}
	return e.socket.sendPacket(p, false)
}

// Reply is a client's acknowledgement of an EmitWithAck: every argument for
// Socket.EmitWithAck, the first one only for a broadcast.
type Reply struct {
	argList
}

func newReply(p *parser.Packet, firstOnly bool) *Reply {
	return &Reply{argList{pkt: p, firstOnly: firstOnly}}
}
