package socketio

import (
	"encoding/json"
	"sync/atomic"

	"github.com/seed9706/socketio/internal/eventargs"
	"github.com/seed9706/socketio/parser"
)

// argList gives lazy access to the arguments of a received packet: they
// stay raw JSON until decoded. It forwards to eventargs.List, shared with
// package client, so that Event and Reply get exactly these methods.
type argList struct {
	args eventargs.List
}

// Args decodes the arguments into dst, in order, like json.Unmarshal; binary
// attachments decode into []byte (or any). Extra arguments are ignored and
// extra destinations are left untouched, as JavaScript does.
func (a *argList) Args(dst ...any) error { return a.args.Args(dst...) }

// Raw returns the arguments as raw JSON; binary attachments appear as their
// placeholders ({"_placeholder":true,"num":N}).
func (a *argList) Raw() []json.RawMessage { return a.args.Raw() }

// Values returns the arguments ready to be emitted again, byte for byte:
// raw JSON, with the binary attachments they refer to (parser.RawArg).
func (a *argList) Values() []any { return a.args.Values() }

// Event is an event received from a client (or, for OnAnyOutgoing, sent to it).
type Event struct {
	argList
	name   string
	socket *Socket
	acked  atomic.Bool
}

func newEvent(s *Socket, p *parser.Packet, name string) *Event {
	return &Event{argList: argList{eventargs.List{Packet: p}}, name: name, socket: s}
}

// Name is the event name.
func (e *Event) Name() string { return e.name }

// Socket is the socket that received (or sends) the event.
func (e *Event) Socket() *Socket { return e.socket }

// HasAck reports whether the client asked for an acknowledgement.
func (e *Event) HasAck() bool { return e.args.Packet.HasID }

// Ack sends the acknowledgement with args. Only the first call sends; it does
// nothing when the client asked for none.
func (e *Event) Ack(args ...any) error {
	if !e.args.Packet.HasID || !e.acked.CompareAndSwap(false, true) {
		return nil
	}
	p, err := parser.NewAck(e.socket.nsp.name, e.args.Packet.ID, args)
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
	return &Reply{argList{eventargs.List{Packet: p, FirstOnly: firstOnly}}}
}
