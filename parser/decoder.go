package parser

import (
	"bytes"
	"fmt"
)

// Default decoder limits.
const (
	DefaultMaxAttachments     = 10 // socket.io-parser's maxAttachments default
	DefaultMaxNamespaceLength = 1024
)

// Decoder turns the messages of one connection back into packets. It is
// stateful (a BINARY_EVENT/BINARY_ACK header is followed by its attachments
// as separate binary messages), so use one per connection, from one goroutine.
// The zero value is ready to use.
type Decoder struct {
	// MaxAttachments is the largest attachment count a binary packet may
	// announce; more is ErrTooManyAttachments. Zero or negative means
	// DefaultMaxAttachments (10, as socket.io-parser); at most 2^30.
	MaxAttachments int
	// MaxNamespaceLength bounds the namespace, in bytes; longer is
	// ErrInvalidNamespace. Zero or negative means DefaultMaxNamespaceLength (1024).
	// (JS sets no bound; the Engine.IO message size bounds it there.)
	MaxNamespaceLength int

	pending *Packet // binary packet waiting for attachments
	want    int     // attachments it announced
	lastNsp string  // the last namespace seen, reused to avoid an allocation per packet
}

// Add decodes one Engine.IO message: text (binary=false) or a binary
// attachment (binary=true). It returns the packet once it is complete, or
// nil, nil while attachments are still expected. The decoder keeps data (the
// packet's Data and Attachments alias it): the caller must not reuse it.
//
// An error means the peer broke the protocol and the connection must be
// closed; the decoder drops any pending packet and can be used again.
func (d *Decoder) Add(data []byte, binary bool) (*Packet, error) {
	if binary {
		if d.pending == nil {
			return nil, ErrUnexpectedBinary
		}
		p := d.pending
		p.Attachments = append(p.Attachments, data)
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.pending = nil
		return p, nil
	}
	if d.pending != nil {
		d.Reset()
		return nil, ErrUnexpectedText
	}
	p, n, err := d.decodeText(data)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return p, nil
	}
	p.Attachments = make([][]byte, 0, min(n, DefaultMaxAttachments)) // n is the peer's claim: grow as they come
	d.pending, d.want = p, n
	return nil, nil
}

// Reset drops a partially received binary packet.
func (d *Decoder) Reset() { d.pending, d.want = nil, 0 }

// Pending reports how many attachments the decoder still expects.
func (d *Decoder) Pending() int {
	if d.pending == nil {
		return 0
	}
	return d.want - len(d.pending.Attachments)
}

// decodeText parses <type>[<n>-][<nsp>,][<id>][<json>] and returns the packet
// and its announced attachment count.
func (d *Decoder) decodeText(s []byte) (*Packet, int, error) {
	if len(s) == 0 || s[0] < '0' || s[0] > '6' {
		return nil, 0, fmt.Errorf("%w: %.10q", ErrInvalidPacketType, s)
	}
	p := &Packet{Type: Type(s[0] - '0'), Namespace: "/"}
	i := 1

	n := 0
	if p.Type.IsBinary() {
		maxN := d.MaxAttachments
		if maxN <= 0 {
			maxN = DefaultMaxAttachments
		}
		maxN = min(maxN, 1<<30) // keeps n*10 below overflow
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if n <= maxN {
				n = n*10 + int(s[i]-'0')
			}
		}
		// socket.io-parser 4.2.7 refuses a count below 1, like a malformed one.
		if i == start || i >= len(s) || s[i] != '-' || n < 1 {
			return nil, 0, fmt.Errorf("%w: malformed attachment count", ErrIllegalAttachments)
		}
		if n > maxN {
			return nil, 0, fmt.Errorf("%w: more than %d", ErrTooManyAttachments, maxN)
		}
		i++
	}

	if i < len(s) && s[i] == '/' {
		end := bytes.IndexByte(s[i:], ',')
		next := len(s)
		if end < 0 {
			end = len(s)
		} else {
			end += i
			next = end + 1
		}
		maxLen := d.MaxNamespaceLength
		if maxLen <= 0 {
			maxLen = DefaultMaxNamespaceLength
		}
		if end-i > maxLen {
			return nil, 0, fmt.Errorf("%w: longer than %d bytes", ErrInvalidNamespace, maxLen)
		}
		if string(s[i:end]) != d.lastNsp {
			d.lastNsp = string(s[i:end])
		}
		p.Namespace = d.lastNsp
		i = next
	}

	if start := i; i < len(s) && s[i] >= '0' && s[i] <= '9' {
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			c := uint64(s[i] - '0')
			if p.ID > (1<<64-1-c)/10 {
				return nil, 0, fmt.Errorf("%w: %s overflows uint64", ErrInvalidAckID, s[start:min(len(s), start+30)])
			}
			p.ID = p.ID*10 + c
		}
		p.HasID = true
	}

	if i < len(s) {
		if isSpace(s[i]) {
			// JS would read leading whitespace as part of an ack id (Number(" ")
			// is 0); no client sends it, so refuse it rather than guess.
			return nil, 0, fmt.Errorf("%w: whitespace before the payload", ErrInvalidPayload)
		}
		p.Data = trimSpace(s[i:])
		if err := checkPayload(p.Type, p.Data); err != nil {
			return nil, 0, err
		}
		if p.Type.IsBinary() {
			if err := checkPlaceholders(p.Data, n); err != nil {
				return nil, 0, err
			}
		}
	} else if p.Type == Event || p.Type == BinaryEvent {
		// JS lets an EVENT without payload through and then drops it; an event
		// needs a name, so we refuse it.
		return nil, 0, fmt.Errorf("%w: %s without payload", ErrInvalidPayload, p.Type)
	}
	return p, n, nil
}

// checkPayload applies socket.io-parser's isPayloadValid to the trimmed JSON b.
func checkPayload(t Type, b []byte) error {
	var s scanner
	end, err := s.value(b, 0)
	if err != nil || end != len(b) {
		return fmt.Errorf("%w: malformed JSON", ErrInvalidPayload)
	}
	ok := false
	switch t {
	case Connect:
		ok = b[0] == '{'
	case Disconnect:
		ok = false // DISCONNECT carries no payload
	case ConnectError:
		ok = b[0] == '{' || b[0] == '"'
	case Ack, BinaryAck:
		ok = b[0] == '['
	case Event, BinaryEvent:
		if b[0] != '[' {
			break
		}
		first, _ := nextValue(b, 1)
		switch {
		case len(first) == 0:
		case first[0] == '"':
			ok = !reservedToken(first)
		default:
			ok = first[0] == '-' || first[0] >= '0' && first[0] <= '9'
		}
	}
	if !ok {
		return fmt.Errorf("%w for %s", ErrInvalidPayload, t)
	}
	return nil
}

// reservedToken is IsReservedEvent for a JSON string token, without allocating.
func reservedToken(q []byte) bool {
	inner := q[1 : len(q)-1]
	if bytes.IndexByte(inner, '\\') >= 0 {
		return IsReservedEvent(unquote(q))
	}
	for _, r := range reserved {
		if string(inner) == r {
			return true
		}
	}
	return false
}
