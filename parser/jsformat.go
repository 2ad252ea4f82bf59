package parser

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// arrayIndex reports whether key is a JS array index ("0", "17", no leading
// zero, below 2^32-1): JS orders such keys first, numerically.
func arrayIndex(key string) (uint64, bool) {
	if key == "" || len(key) > 10 || key[0] == '0' && len(key) > 1 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n < 1<<32-1
}

// compareKeys orders object keys the way JS enumerates them, with sorted
// order standing in for insertion order.
func compareKeys(a, b string) int {
	ai, aok := arrayIndex(a)
	bi, bok := arrayIndex(b)
	switch {
	case aok && bok:
		return cmp.Compare(ai, bi)
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(a, b)
}

// appendFloat formats f as JavaScript's Number#toString (which JSON.stringify
// uses): shortest round-trip digits, exponent form below 1e-6 and from 1e21.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == 0 {
		return append(b, '0') // also -0
	}
	abs := math.Abs(f)
	format := byte('f')
	if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// Go writes e-07 where JS writes e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// plainASCII marks the bytes JSON.stringify writes as they are.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString writes s as JSON.stringify does: only `"`, `\` and control
// characters are escaped; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) { // eight plain ASCII bytes at a time
			if w := load64(s, i); w&msb != 0 || hasSpecial(w) {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = appendEscaped(append(b, s[start:i]...), c)
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// load64 reads s[i:i+8] as a little-endian word (the compiler makes it one
// load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// appendEscaped writes the ASCII character c as JSON.stringify does.
func appendEscaped(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	if c < 0x20 {
		return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(b, c)
}

// appendReescaped writes the validated JSON string token q as JSON.stringify
// writes the string JSON.parse reads from it: escapes that JS would not write
// are resolved, lone surrogates stay escaped (in lower-case hex).
func appendReescaped(b, q []byte) []byte {
	b = append(b, '"')
	last := len(q) - 1 // the closing quote
	for i := 1; i < last; i++ {
		c := q[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		switch q[i] {
		case '/':
			b = append(b, '/')
		case 'u':
			u := hex4(q[i+1:])
			i += 4
			switch {
			case u < utf8.RuneSelf:
				b = appendEscaped(b, byte(u))
			case !utf16.IsSurrogate(u):
				b = utf8.AppendRune(b, u)
			case u < 0xdc00 && i+6 < last && q[i+1] == '\\' && q[i+2] == 'u' && isLowSurrogate(hex4(q[i+3:])):
				b = utf8.AppendRune(b, utf16.DecodeRune(u, hex4(q[i+3:])))
				i += 6
			default:
				b = append(b, '\\', 'u', hexDigits[u>>12], hexDigits[u>>8&0xf], hexDigits[u>>4&0xf], hexDigits[u&0xf])
			}
		default: // " \ b f n r t, as JS writes them
			b = append(b, '\\', q[i])
		}
	}
	return append(b, '"')
}

func isLowSurrogate(r rune) bool { return r >= 0xdc00 && r < 0xe000 }

// hex4 reads the 4 hex digits at the start of h (validated).
func hex4(h []byte) rune {
	var r rune
	for _, c := range h[:4] {
		switch {
		case c >= 'a':
			c -= 'a' - 10
		case c >= 'A':
			c -= 'A' - 10
		default:
			c -= '0'
		}
		r = r<<4 | rune(c)
	}
	return r
}

// appendNormalized validates the JSON text raw and appends it as
// JSON.stringify(JSON.parse(raw)) would write it, except that numbers, key
// order and duplicate keys are kept as written: whitespace is dropped and
// string escapes JS would not write are resolved. JS-made JSON is copied as is.
func appendNormalized(dst, raw []byte) ([]byte, error) {
	var s scanner
	i := skipSpace(raw, 0)
	end, err := s.value(raw, i)
	if err != nil || skipSpace(raw, end) != len(raw) {
		return dst, fmt.Errorf("%w: %.40q", ErrInvalidJSON, raw)
	}
	raw = raw[i:end]
	if !s.spaced && !s.nonJS {
		return append(dst, raw...), nil
	}
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case isSpace(c):
			i++
		case c == '"':
			var sc scanner
			end, _ := sc.str(raw, i)
			if sc.nonJS {
				dst = appendReescaped(dst, raw[i:end])
			} else {
				dst = append(dst, raw[i:end]...)
			}
			i = end
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst, nil
}
