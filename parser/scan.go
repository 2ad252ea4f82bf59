package parser

import (
	"bytes"
	"encoding/binary"
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
	depth  int
	spaced bool // whitespace seen outside strings
	nonJS  bool // a string escape JSON.stringify would not write (\/, \u00e9, \u000A...)
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

// jsEscape reports whether \u<h> is how JSON.stringify writes that character:
// only control characters without a short escape, in lower-case hex.
func jsEscape(h []byte) bool {
	if h[0] != '0' || h[1] != '0' || h[2] != '0' && h[2] != '1' || h[3] >= 'A' && h[3] <= 'F' {
		return false
	}
	switch string(h) {
	case "0008", "0009", "000a", "000c", "000d":
		return false
	}
	return true
}

// Word-at-a-time string scanning: plain string bytes (not '"', not '\\',
// not a control character) are skipped eight at a time.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasSpecial reports whether any of the eight bytes of w is '"', '\\' or
// below 0x20: (x - lsb) &^ x & msb is non-zero exactly when a byte of x is
// zero, and (w - n*lsb) &^ w & msb when a byte of w is below n (n <= 0x80).
func hasSpecial(w uint64) bool {
	q := w ^ ('"' * lsb)
	bs := w ^ ('\\' * lsb)
	return ((q-lsb)&^q|(bs-lsb)&^bs|(w-0x20*lsb)&^w)&msb != 0
}

func (s *scanner) str(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		for i+8 <= len(b) && !hasSpecial(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			i++
			if i >= len(b) {
				return 0, errSyntax
			}
			switch b[i] {
			case '"', '\\', 'b', 'f', 'n', 'r', 't':
			case '/':
				s.nonJS = true
			case 'u':
				if len(b)-i < 5 || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return 0, errSyntax
				}
				s.nonJS = s.nonJS || !jsEscape(b[i+1:i+5])
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

// The helpers below walk JSON that is mostly validated already; on malformed
// input they stop without reading out of bounds.

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

// forArray calls fn with the offset of each element of the array at b[i];
// fn returns the element's end. forArray returns the array's end, or
// errSyntax if the array is malformed around its elements.
func forArray(b []byte, i int, fn func(at int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '[' {
		return 0, errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		end, err := fn(i)
		if err != nil {
			return 0, err
		}
		if i = skipSpace(b, end); i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case ']':
			return i + 1, nil
		case ',':
			i = skipSpace(b, i+1)
		default:
			return 0, errSyntax
		}
	}
}

// forObject calls fn with the raw quoted key and the value offset of each
// member of the object at b[i]; fn returns the value's end. forObject returns
// the object's end, or errSyntax if the object is malformed around its values.
func forObject(b []byte, i int, fn func(key []byte, at int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return 0, errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		var s scanner
		kend, err := s.str(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i:kend]
		if i = skipSpace(b, kend); i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		end, err := fn(key, skipSpace(b, i+1))
		if err != nil {
			return 0, err
		}
		if i = skipSpace(b, end); i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case '}':
			return i + 1, nil
		case ',':
			i = skipSpace(b, i+1)
		default:
			return 0, errSyntax
		}
	}
}

// skipValue returns the end of the validated value at b[i] (len(b) if it
// turns out invalid, so that callers stop).
func skipValue(b []byte, i int) int {
	var s scanner
	end, err := s.value(b, i)
	if err != nil {
		return len(b)
	}
	return end
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
	x := phIndex{b: b, n: n}
	_, _, err := x.walk(0)
	return err
}

// phIndex locates the attachment placeholders of validated JSON b: the
// offsets of placeholder objects (with their num) and of every container
// holding one. Built in one pass, it lets the walkers that replace
// placeholders stay linear however deep the JSON nests.
type phIndex struct {
	b     []byte
	n     int          // attachment count
	nums  map[int]int  // placeholder object offset -> num (nil: not recorded)
	holds map[int]bool // offset of a placeholder or of a container holding one
}

func newPhIndex(b []byte, n int) (*phIndex, error) {
	x := &phIndex{b: b, n: n, nums: map[int]int{}, holds: map[int]bool{}}
	_, _, err := x.walk(0)
	return x, err
}

// walk scans the value at b[i] and returns its end and whether it is or holds
// a placeholder. Like socket.io-parser, an object whose (last) _placeholder
// member is true is a placeholder as a whole: what it contains is not looked
// at, so errors found inside it are dropped.
func (x *phIndex) walk(i int) (end int, found bool, err error) {
	b := x.b
	switch b[i] {
	case '[':
		end, _ = forArray(b, i, func(at int) (int, error) {
			e, f, er := x.walk(at)
			found = found || f
			if err == nil {
				err = er
			}
			return e, nil
		})
	case '{':
		isPh := false
		var numTok []byte
		end, _ = forObject(b, i, func(key []byte, at int) (int, error) {
			e, f, er := x.walk(at)
			found = found || f
			if err == nil {
				err = er
			}
			switch {
			case keyIs(key, "_placeholder"):
				isPh = string(b[at:e]) == "true"
			case keyIs(key, "num"):
				numTok = b[at:e]
			}
			return e, nil
		})
		if isPh {
			found = true
			var num int
			if num, err = placeholderNum(numTok, x.n); err == nil && x.nums != nil {
				x.nums[i] = num
			}
		}
	default:
		return skipValue(b, i), false, nil
	}
	if found && x.holds != nil {
		x.holds[i] = true
	}
	return end, found, err
}

// placeholderNum checks a placeholder's num: a number (JS typeof "number"),
// an integer here, with 0 <= num < n.
func placeholderNum(tok []byte, n int) (int, error) {
	if len(tok) == 0 || (tok[0] != '-' && (tok[0] < '0' || tok[0] > '9')) {
		return 0, ErrIllegalAttachments
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || f < 0 || f >= float64(n) || f != float64(int(f)) {
		return 0, ErrIllegalAttachments
	}
	return int(f), nil
}
