package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/seed9706/socketio/parser"
)

// Why RestoreSession fails. Adapters that recover sessions return these
// (wrapped) so the server can log why a client was not recovered.
var (
	// ErrSessionUnknown: no session with that private id, or it expired.
	ErrSessionUnknown = errors.New("adapter: session unknown or expired")
	// ErrOffsetUnknown: the offset is not one of the stored packets, or
	// packets after it were already dropped (too old, or the store was full).
	ErrOffsetUnknown = errors.New("adapter: offset unknown or too old")
)

// Recoverer is implemented by adapters that store packets for connection
// state recovery. The server uses it on top of PersistSession and
// RestoreSession to close two gaps of the JS implementation:
//
//   - Offset gives a new socket the position of the stream when it
//     connected; it is persisted with the session (Session.Offset), so a
//     client that had not received any event yet (and so sends no offset)
//     can still be recovered.
//   - Replay lets the server catch up with the packets stored between
//     RestoreSession and the moment the restored socket joined its rooms,
//     so that no event is lost or repeated while the client reconnects.
type Recoverer interface {
	// Offset returns the offset of the newest stored packet (or of the
	// start of the stream when none is stored).
	Offset(ctx context.Context) (string, error)
	// Replay returns the stored packets after offset that a socket in
	// rooms would have received, oldest first, each with its offset as its
	// last argument. It fails with ErrOffsetUnknown when packets after
	// offset are no longer stored.
	Replay(ctx context.Context, offset string, rooms []string) ([]*parser.Packet, error)
}

// RecoveryNamespace is implemented by the namespaces of a server with
// connection state recovery: a cluster adapter appends offsets to the
// broadcasts it receives only then, and keeps sessions this long (JS
// nsp.server.opts.connectionStateRecovery).
type RecoveryNamespace interface {
	// MaxDisconnectionDuration is how long sessions are kept; 0 when
	// recovery is off.
	MaxDisconnectionDuration() time.Duration
}

// Storable reports whether a broadcast of p with opts is stored for
// connection state recovery (and gets an offset): an event without an
// acknowledgement id and without the volatile flag, as in JS.
func Storable(p *parser.Packet, opts BroadcastOptions) bool {
	return (p.Type == parser.Event || p.Type == parser.BinaryEvent) && !p.HasID && !opts.Flags.Volatile
}

// AppendOffset appends offset as the last argument of the event p (JS
// packet.data.push(offset)). p.Data gets a new backing array: the old one
// may be shared.
func AppendOffset(p *parser.Packet, offset string) {
	d := p.Data
	if len(d) < 2 || d[len(d)-1] != ']' {
		return // not an event payload; the parser never builds one
	}
	out := make([]byte, 0, len(d)+len(offset)+3)
	out = append(out, d[:len(d)-1]...)
	out = append(out, ',')
	out, _ = parser.AppendMarshal(out, offset)
	p.Data = append(out, ']')
}

// PacketOffset returns the offset of a stored event: its last argument when
// that is a string, "" otherwise.
func PacketOffset(p *parser.Packet) string {
	args, err := p.Args()
	if err != nil || len(args) == 0 {
		return ""
	}
	last := args[len(args)-1]
	if len(last) == 0 || last[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(last, &s) != nil {
		return ""
	}
	return s
}

// SessionIncludes reports whether a socket in rooms was a target of a
// broadcast with opts (JS shouldIncludePacket): no rooms means everyone,
// and a socket in any except room is left out.
func SessionIncludes(rooms []string, opts BroadcastOptions) bool {
	included := len(opts.Rooms) == 0
	for _, r := range rooms {
		for _, o := range opts.Except {
			if r == o {
				return false
			}
		}
		if !included {
			for _, o := range opts.Rooms {
				if r == o {
					included = true
					break
				}
			}
		}
	}
	return included
}
