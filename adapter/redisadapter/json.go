package redisadapter

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/seed9706/socketio/parser"
)

// A small JSON parser and writer for the value tree. encoding/json's token
// API costs an allocation per token, and the writer must follow
// JSON.stringify anyway (no HTML escaping, JS number formatting).

var errJSON = errors.New("redisadapter: invalid JSON")

type jsonParser struct {
	b           []byte
	off         int
	attachments [][]byte // non-nil: placeholders become attachments
}

// parseJSON parses JSON into a tree. With attachments, Socket.IO
// placeholders ({"_placeholder":true,"num":n}) become the attachment bytes.
func parseJSON(data []byte, attachments [][]byte) (any, error) {
	p := jsonParser{b: data, attachments: attachments}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.skipSpace(); p.off != len(p.b) {
		return nil, errJSON
	}
	return v, nil
}

func (p *jsonParser) skipSpace() {
	for p.off < len(p.b) {
		switch p.b[p.off] {
		case ' ', '\t', '\n', '\r':
			p.off++
		default:
			return
		}
	}
}

func (p *jsonParser) literal(word string, v any) (any, error) {
	if len(p.b)-p.off < len(word) || string(p.b[p.off:p.off+len(word)]) != word {
		return nil, errJSON
	}
	p.off += len(word)
	return v, nil
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	p.skipSpace()
	if p.off >= len(p.b) {
		return nil, errJSON
	}
	switch c := p.b[p.off]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		p.off++
		arr := []any{}
		p.skipSpace()
		if p.off < len(p.b) && p.b[p.off] == ']' {
			p.off++
			return arr, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			if end, err := p.sep(']'); err != nil || end {
				return arr, err
			}
		}
	case c == '"':
		return p.str()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	case c == '-' || c >= '0' && c <= '9':
		start := p.off
		if !p.number() {
			return nil, errJSON
		}
		f, err := strconv.ParseFloat(string(p.b[start:p.off]), 64)
		if err != nil && !math.IsInf(f, 0) { // JSON.parse turns huge numbers into Infinity
			return nil, errJSON
		}
		return f, nil
	}
	return nil, errJSON
}

// number skips a number of the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) number() bool {
	digits := func() int {
		n := 0
		for p.off < len(p.b) && p.b[p.off] >= '0' && p.b[p.off] <= '9' {
			p.off++
			n++
		}
		return n
	}
	at := func(c byte) bool { return p.off < len(p.b) && p.b[p.off] == c }
	if at('-') {
		p.off++
	}
	if at('0') {
		p.off++
	} else if digits() == 0 {
		return false
	}
	if at('.') {
		p.off++
		if digits() == 0 {
			return false
		}
	}
	if at('e') || at('E') {
		p.off++
		if at('+') || at('-') {
			p.off++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// sep reads ',' (more to come) or the closing byte (end).
func (p *jsonParser) sep(closing byte) (end bool, err error) {
	p.skipSpace()
	if p.off >= len(p.b) {
		return false, errJSON
	}
	switch p.b[p.off] {
	case ',':
		p.off++
		return false, nil
	case closing:
		p.off++
		return true, nil
	}
	return false, errJSON
}

func (p *jsonParser) object(depth int) (any, error) {
	p.off++
	o := &object{}
	p.skipSpace()
	if p.off < len(p.b) && p.b[p.off] == '}' {
		p.off++
		return o, nil
	}
	for {
		p.skipSpace()
		if p.off >= len(p.b) || p.b[p.off] != '"' {
			return nil, errJSON
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		if p.skipSpace(); p.off >= len(p.b) || p.b[p.off] != ':' {
			return nil, errJSON
		}
		p.off++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		o.set(k.(string), v)
		if end, err := p.sep('}'); err != nil {
			return nil, err
		} else if end {
			break
		}
	}
	if p.attachments != nil && o.get("_placeholder") == true {
		n, ok := num(o.get("num"))
		if !ok || n < 0 || n >= float64(len(p.attachments)) || n != math.Trunc(n) {
			return nil, errors.New("redisadapter: invalid attachment placeholder")
		}
		return p.attachments[int(n)], nil
	}
	return o, nil
}

func (p *jsonParser) str() (any, error) {
	p.off++ // opening quote
	start := p.off
	for p.off < len(p.b) { // fast path: no escape
		c := p.b[p.off]
		if c == '"' {
			s := string(p.b[start:p.off])
			p.off++
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.off++
	}
	buf := append([]byte(nil), p.b[start:p.off]...)
	for p.off < len(p.b) {
		c := p.b[p.off]
		switch {
		case c == '"':
			p.off++
			return string(buf), nil
		case c < 0x20:
			return nil, errJSON
		case c != '\\':
			buf = append(buf, c)
			p.off++
			continue
		}
		if p.off+1 >= len(p.b) {
			return nil, errJSON
		}
		e := p.b[p.off+1]
		p.off += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, errJSON
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.off+1 < len(p.b) && p.b[p.off] == '\\' && p.b[p.off+1] == 'u' {
					p.off += 2
					if r2, ok = p.hex4(); !ok {
						return nil, errJSON
					}
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
				} else { // a lone surrogate: Go strings cannot hold it
					buf = utf8.AppendRune(buf, utf8.RuneError)
					if r2 < 0 {
						continue
					}
					r = r2
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, errJSON
		}
	}
	return nil, errJSON
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.b)-p.off < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.b[p.off:p.off+4]), 16, 32)
	p.off += 4
	return rune(n), err == nil
}

// appendJSString writes s as JSON.stringify does: only '"', '\' and control
// characters are escaped; invalid UTF-8 becomes U+FFFD.
func appendJSString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c >= 0x20:
				b = append(b, c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendJSNumber writes f as JSON.stringify does; integers take a fast path.
func appendJSNumber(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		if f == 0 {
			return append(b, '0') // -0 too
		}
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	b, _ = parser.AppendMarshal(b, f)
	return b
}
