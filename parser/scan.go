package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// maxDepth bounds the nesting of JSON values we accept, the same bound as
// encoding/json, so that every payload we accept can also be unmarshalled.
const maxDepth = 10000

var errSyntax = errors.New("parser: JSON syntax error")

// scanner validates JSON text strictly (RFC 8259, as JSON.parse accepts it)
// and notes what a JS-exact re-serialisation would have to change.
type scanner struct {
	depth   int
	spaced  bool // whitespace seen outside strings
	escaped bool // a backslash seen inside a string
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// trimSpace removes JSON whitespace around a value.
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// validJSON reports whether b is exactly one JSON value, whitespace allowed around it.
func validJSON(b []byte) bool {
	var s scanner
	i := skipSpace(b, 0)
	end, err := s.value(b, i)
	return err == nil && skipSpace(b, end) == len(b)
}

// value returns the index just past the value starting at b[i].
func (s *scanner) value(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; c {
	case '{':
		return s.object(b, i)
	case '[':
		return s.array(b, i)
	case '"':
		return s.str(b, i)
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return number(b, i)
		}
		return 0, errSyntax
	}
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

func number(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, errSyntax
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return 0, errSyntax
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return 0, errSyntax
		}
		i = j
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *scanner) str(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			s.escaped = true
			i++
			if i >= len(b) {
				return 0, errSyntax
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return 0, errSyntax
				}
				i += 4
			default:
				return 0, errSyntax
			}
		case c < 0x20:
			return 0, errSyntax
		}
	}
	return 0, errSyntax
}

func (s *scanner) space(b []byte, i int) int {
	j := skipSpace(b, i)
	if j != i {
		s.spaced = true
	}
	return j
}

func (s *scanner) array(b []byte, i int) (int, error) {
	if s.depth++; s.depth > maxDepth {
		return 0, errSyntax
	}
	i = s.space(b, i+1)
	if i < len(b) && b[i] == ']' {
		s.depth--
		return i + 1, nil
	}
	for {
		var err error
		if i, err = s.value(b, i); err != nil {
			return 0, err
		}
		i = s.space(b, i)
		if i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case ',':
			i = s.space(b, i+1)
		case ']':
			s.depth--
			return i + 1, nil
		default:
			return 0, errSyntax
		}
	}
}

func (s *scanner) object(b []byte, i int) (int, error) {
	if s.depth++; s.depth > maxDepth {
		return 0, errSyntax
	}
	i = s.space(b, i+1)
	if i < len(b) && b[i] == '}' {
		s.depth--
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		var err error
		if i, err = s.str(b, i); err != nil {
			return 0, err
		}
		i = s.space(b, i)
		if i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		if i, err = s.value(b, s.space(b, i+1)); err != nil {
			return 0, err
		}
		i = s.space(b, i)
		if i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case ',':
			i = s.space(b, i+1)
		case '}':
			s.depth--
			return i + 1, nil
		default:
			return 0, errSyntax
		}
	}
}

// The helpers below walk JSON that has already been validated.

// nextValue returns the value starting at or after b[i] (whitespace skipped)
// and the index just past it.
func nextValue(b []byte, i int) (val []byte, end int) {
	var s scanner
	i = skipSpace(b, i)
	end, err := s.value(b, i)
	if err != nil {
		return nil, len(b)
	}
	return b[i:end], end
}

// arrayElems calls fn for each element of the validated array b.
func arrayElems(b []byte, fn func(elem []byte) error) error {
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for i < len(b) {
		elem, end := nextValue(b, i)
		if err := fn(elem); err != nil {
			return err
		}
		i = skipSpace(b, end) + 1 // past ',' or ']'
	}
	return nil
}

// objectMembers calls fn for each member of the validated object b; key is
// the raw quoted key.
func objectMembers(b []byte, fn func(key, val []byte) error) error {
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for i < len(b) {
		key, end := nextValue(b, i)
		i = skipSpace(b, end) + 1 // past ':'
		val, end := nextValue(b, i)
		if err := fn(key, val); err != nil {
			return err
		}
		i = skipSpace(b, end) + 1 // past ',' or '}'
	}
	return nil
}

// unquote returns the text of the validated JSON string token q.
func unquote(q []byte) string {
	inner := q[1 : len(q)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(q, &s) // q is valid, cannot fail
	return s
}

// keyIs reports whether the validated JSON string token q spells name.
func keyIs(q []byte, name string) bool {
	inner := q[1 : len(q)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == name
	}
	return unquote(q) == name
}

var placeholderKey = []byte(`"_placeholder"`)

// placeholder reports whether the validated object b is an attachment
// placeholder the way socket.io-parser sees one (`_placeholder` === true, the
// last duplicate key winning as in JSON.parse), and returns its num when num
// is a valid index below n.
func placeholder(b []byte, n int) (isPlaceholder bool, num int, err error) {
	if len(b) == 0 || b[0] != '{' {
		return false, 0, nil
	}
	var numTok []byte
	_ = objectMembers(b, func(key, val []byte) error {
		switch {
		case keyIs(key, "_placeholder"):
			isPlaceholder = string(val) == "true"
		case keyIs(key, "num"):
			numTok = val
		}
		return nil
	})
	if !isPlaceholder {
		return false, 0, nil
	}
	if len(numTok) == 0 || (numTok[0] != '-' && (numTok[0] < '0' || numTok[0] > '9')) {
		return true, 0, ErrIllegalAttachments
	}
	f, perr := strconv.ParseFloat(string(numTok), 64)
	if perr != nil || f < 0 || f >= float64(n) || f != float64(int(f)) {
		return true, 0, ErrIllegalAttachments
	}
	return true, int(f), nil
}

// mayHavePlaceholder is a cheap filter: a placeholder needs its key, written
// plainly or with \u escapes.
func mayHavePlaceholder(b []byte) bool {
	return bytes.Contains(b, placeholderKey) || bytes.Contains(b, []byte(`\u`))
}

// checkPlaceholders validates every placeholder in the validated value b
// against n attachments, as socket.io-parser's reconstructPacket does.
func checkPlaceholders(b []byte, n int) error {
	if !mayHavePlaceholder(b) {
		return nil
	}
	return walkPlaceholders(b, n)
}

func walkPlaceholders(b []byte, n int) error {
	switch b[0] {
	case '[':
		return arrayElems(b, func(elem []byte) error { return walkPlaceholders(elem, n) })
	case '{':
		if ok, _, err := placeholder(b, n); ok {
			return err
		}
		return objectMembers(b, func(_, val []byte) error { return walkPlaceholders(val, n) })
	}
	return nil
}
