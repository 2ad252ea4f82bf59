package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds a text message and up to 12 binary messages. Nothing may
// panic, and every packet decoded must re-encode to text that decodes to the
// same packet (round-trip oracle), with a payload the accessors can read.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSamples() {
		f.Add([]byte(s.text), uint8(len(s.bins)), bytes.Join(s.bins, nil))
	}
	f.Add([]byte(`51-["a",1e400,{"x":[-1E999,{"_placeholder":true,"num":0}]}]`), uint8(1), []byte{1})
	f.Fuzz(func(t *testing.T, text []byte, nbins uint8, blob []byte) {
		var d Decoder
		p, err := d.Add(text, false)
		for i := range int(nbins % 13) {
			if err != nil {
				break
			}
			chunk := blob[min(i, len(blob)):min(i+1+len(blob)/13, len(blob))]
			var q *Packet
			q, err = d.Add(chunk, true)
			if q != nil {
				p = q
			}
		}
		if err != nil || p == nil {
			return
		}
		if p.Type.IsBinary() && d.Pending() != 0 {
			t.Fatalf("%q: complete packet while %d attachments pending", text, d.Pending())
		}

		again := p.AppendText(nil)
		var d2 Decoder
		q, err := d2.Add(again, false)
		for _, a := range p.Attachments {
			if err != nil {
				break
			}
			q, err = d2.Add(a, true)
		}
		if err != nil || q == nil || !samePacket(p, q) {
			t.Fatalf("%q decoded as %+v, re-encoded as %q, decoded back as %+v (%v)", text, p, again, q, err)
		}

		switch p.Type {
		case Event, BinaryEvent:
			if _, err := p.EventName(); err != nil {
				t.Fatalf("%q: EventName: %v", text, err)
			}
			fallthrough
		case Ack, BinaryAck:
			args, err := p.Args()
			if err != nil {
				t.Fatalf("%q: Args: %v", text, err)
			}
			raws := make([]any, len(args))
			for i, a := range args {
				var v any
				if err := Unmarshal(a, p.Attachments, &v); err != nil && !outOfRange(err) {
					t.Fatalf("%q: Unmarshal(%s): %v", text, a, err)
				}
				var u upload // typed targets may refuse, but must not panic
				_ = Unmarshal(a, p.Attachments, &u)
				raws[i] = RawArg{a, p.Attachments}
			}
			// Re-emitting the arguments (RawArg) keeps their values, binary included.
			echo, err := NewAck("/", 1, raws)
			if err != nil {
				t.Fatalf("%q: re-emit: %v", text, err)
			}
			var d3 Decoder
			q, err := d3.Add(echo.AppendText(nil), false)
			for _, a := range echo.Attachments {
				if err != nil {
					break
				}
				q, err = d3.Add(a, true)
			}
			if err != nil || q == nil {
				t.Fatalf("%q: re-emitted as %s: %v", text, echo, err)
			}
			echoed, _ := q.Args()
			for i := range args {
				var want, got any
				if Unmarshal(args[i], p.Attachments, &want) != nil {
					continue
				}
				if err := Unmarshal(echoed[i], q.Attachments, &got); err != nil || !reflect.DeepEqual(want, got) {
					t.Fatalf("%q: arg %d re-emitted as %s: %#v, want %#v (%v)", text, i, echoed[i], got, want, err)
				}
			}
		}
		if p.Data != nil {
			var v any
			if err := Unmarshal(p.Data, p.Attachments, &v); err != nil && !outOfRange(err) {
				t.Fatalf("%q: Unmarshal: %v", text, err)
			}
		}
	})
}

// FuzzMarshal: for any JSON document, Marshal of its decoded value is valid
// JSON holding the same value, and stable; appendNormalized keeps the value;
// strings survive appendString.
func FuzzMarshal(f *testing.F) {
	for _, s := range []string{
		`null`, `true`, `"<>&\u2028\u0000é"`, `1e21`, `5e-7`, `-0`, `0.1`, `[1,"2",{"3":[true]}]`,
		`{"b":1,"a":2,"10":3,"2":4,"01":5}`, ` { "k" : [ 1 , 2 ] } `, `"\ud800"`, "\"\xff\"", `1E400`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		q, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := json.Unmarshal(q, &back); err != nil || back != perByteValid(s) {
			t.Fatalf("string %q marshalled as %s, read back as %q (%v)", s, q, back, err)
		}

		// Our scanner accepts exactly what encoding/json accepts.
		exact, err := decodeUseNumber(data)
		if (err == nil) != validJSON(data) {
			t.Fatalf("%q: encoding/json says %v, our scanner %v", data, err, validJSON(data))
		}
		if err != nil {
			return
		}
		out, err := Marshal(exact)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", exact, err)
		}
		if back, err := decodeUseNumber(out); err != nil || !reflect.DeepEqual(exact, back) {
			t.Fatalf("%q -> %s -> %#v (%v)", data, out, back, err)
		}

		var v any
		if json.Unmarshal(data, &v) != nil {
			return // a number out of float64 range
		}
		out, err = Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", v, err)
		}
		var v2 any
		if err := json.Unmarshal(out, &v2); err != nil || !reflect.DeepEqual(v, v2) {
			t.Fatalf("%q -> %s -> %#v (%v)", data, out, v2, err)
		}
		if out2, _ := Marshal(v2); !bytes.Equal(out, out2) {
			t.Fatalf("unstable: %s then %s", out, out2)
		}

		norm, err := appendNormalized(nil, data)
		if err != nil {
			t.Fatalf("appendNormalized(%q): %v", data, err)
		}
		var v3 any
		if err := json.Unmarshal(norm, &v3); err != nil || !reflect.DeepEqual(v, v3) {
			t.Fatalf("normalized %q to %s -> %#v (%v)", data, norm, v3, err)
		}
	})
}

// outOfRange reports encoding/json refusing a number beyond float64 (1e400),
// which JSON.parse reads as Infinity.
func outOfRange(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te) && strings.HasPrefix(te.Value, "number")
}

func decodeUseNumber(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// perByteValid replaces each invalid UTF-8 byte with U+FFFD, as appendString does.
func perByteValid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += n
	}
	return b.String()
}
