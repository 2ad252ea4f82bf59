package client

import (
	"encoding/json"
	"sync/atomic"

	"github.com/seed9706/socketio/internal/eventargs"
	"github.com/seed9706/socketio/parser"
)

// argList gives lazy access to the arguments of a packet: they stay raw
// JSON until decoded. It forwards to eventargs.List, shared with package
// socketio, so that Event and Reply get exactly these methods.
type argList struct {
	args eventargs.List
}

func newArgList(p *parser.Packet) argList { return argList{eventargs.List{Packet: p}} }

// Args decodes the arguments into dst, in order, like json.Unmarshal; binary
// attachments decode into []byte (or any). Extra arguments are ignored and
// extra destinations are left untouched, as JavaScript does.
func (a *argList) Args(dst ...any) error { return a.args.Args(dst...) }

// Len returns the number of arguments.
func (a *argList) Len() int { return a.args.Len() }

// Raw returns the arguments as raw JSON; binary attachments appear as their
// placeholders ({"_placeholder":true,"num":N}).
func (a *argList) Raw() []json.RawMessage { return a.args.Raw() }

// Values returns the arguments ready to be emitted again, byte for byte.
func (a *argList) Values() []any { return a.args.Values() }

// Event is an event received from the server (or, for OnAnyOutgoing, one
// being sent to it).
type Event struct {
	argList
	name     string
	socket   *Socket
	outgoing bool
	acked    atomic.Bool
}

// Name is the event name.
func (e *Event) Name() string { return e.name }

// Socket is the socket that received (or sends) the event.
func (e *Event) Socket() *Socket { return e.socket }

// HasAck reports whether the server asked for an acknowledgement.
func (e *Event) HasAck() bool { return !e.outgoing && e.args.Packet.HasID }

// Ack sends the acknowledgement with args. Only the first call sends; it does
// nothing when the server asked for none. Like in JS, an acknowledgement is
// not buffered: it is lost when the socket is disconnected.
func (e *Event) Ack(args ...any) error {
	if !e.HasAck() || !e.acked.CompareAndSwap(false, true) {
		return nil
	}
	p, err := parser.NewAck(e.socket.nsp, e.args.Packet.ID, args)
	if err != nil {
		return err
	}
	return e.socket.sendNow(p)
}

// Reply is the server's acknowledgement of an EmitWithAck.
type Reply struct {
	argList
}
