package parser

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func hasSpecialBytewise(w uint64) bool {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], w)
	for _, c := range b {
		if c == '"' || c == '\\' || c < 0x20 {
			return true
		}
	}
	return false
}

// hasSpecial agrees with its byte-by-byte definition: every byte value in
// every position, among plain bytes and next to UTF-8 and other specials.
func TestHasSpecial(t *testing.T) {
	fills := []byte{'a', ' ', '!', '#', '[', ']', 0x7f, 0x80, 0xc3, 0xff}
	for _, fill := range fills {
		for pos := range 8 {
			for c := range 256 {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[pos] = byte(c)
				w := binary.LittleEndian.Uint64(b[:])
				if got, want := hasSpecial(w), hasSpecialBytewise(w); got != want {
					t.Fatalf("hasSpecial(% x) = %v, want %v", b, got, want)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		w := r.Uint64()
		if got, want := hasSpecial(w), hasSpecialBytewise(w); got != want {
			t.Fatalf("hasSpecial(%#x) = %v, want %v", w, got, want)
		}
	}
}

// The string scanner accepts and rejects exactly what encoding/json does,
// with the special byte at every offset around the eight-byte words.
func TestScanStringEveryOffset(t *testing.T) {
	specials := []string{`"`, `\"`, `\\`, `\n`, `\u00e9`, `\/`, "\x01", "\x1f", `\`, `\x`, `\u12`, "é", "\x7f"}
	for n := range 40 {
		for _, sp := range specials {
			for _, tail := range []string{"", "abc", strings.Repeat("z", 9)} {
				doc := `"` + strings.Repeat("a", n) + sp + tail + `"`
				var s scanner
				end, err := s.str([]byte(doc), 0)
				valid := json.Valid([]byte(doc))
				if (err == nil && end == len(doc)) != valid {
					t.Fatalf("str(%q) = %d, %v; encoding/json valid: %v", doc, end, err, valid)
				}
			}
		}
	}
}

// appendString writes what encoding/json reads back as the same string
// (invalid bytes as U+FFFD), and plain text as it is, with escapes, UTF-8
// and invalid bytes at every offset around the eight-byte words.
func TestAppendStringEveryOffset(t *testing.T) {
	specials := []string{`"`, `\`, "\n", "\x01", "\x1f", "é", "\u2028", "\xff", "\xc3", "😀", "\x7f", "<>&"}
	for n := range 40 {
		for _, sp := range specials {
			for _, tail := range []string{"", "abc", strings.Repeat("z", 9)} {
				in := strings.Repeat("a", n) + sp + tail
				out := appendString(nil, in)
				var back string
				if err := json.Unmarshal(out, &back); err != nil {
					t.Fatalf("appendString(%q) = %s: %v", in, out, err)
				}
				if want := strings.ToValidUTF8(in, "\uFFFD"); back != want {
					t.Fatalf("appendString(%q) reads back as %q, want %q", in, back, want)
				}
				if plain := !strings.ContainsAny(in, "\"\\\n\x01\x1f") && utf8.ValidString(in); plain && string(out) != `"`+in+`"` {
					t.Fatalf("appendString(%q) = %s, want it unescaped", in, out)
				}
			}
		}
	}
}
