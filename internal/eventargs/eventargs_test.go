package eventargs

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/seed9706/socketio/internal/leakcheck"
	"github.com/seed9706/socketio/parser"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// decode decodes wire messages (a text packet, then its attachments).
func decode(t testing.TB, text string, attachments ...[]byte) *parser.Packet {
	t.Helper()
	var d parser.Decoder
	p, err := d.Add([]byte(text), false)
	for _, a := range attachments {
		if err != nil {
			break
		}
		p, err = d.Add(a, true)
	}
	if err != nil || p == nil {
		t.Fatalf("decode %q: %v, %v", text, p, err)
	}
	return p
}

func TestEventArgs(t *testing.T) {
	l := &List{Packet: decode(t, `2["msg","hi",{"a":1},[2]]`)}
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want 3", l.Len())
	}
	var (
		s string
		m map[string]int
	)
	if err := l.Args(&s, &m); err != nil || s != "hi" || m["a"] != 1 {
		t.Fatalf("Args: %q %v %v", s, m, err)
	}
	var extra [5]any
	if err := l.Args(&extra[0], &extra[1], &extra[2], &extra[3], &extra[4]); err != nil || extra[3] != nil || extra[4] != nil {
		t.Fatalf("extra destinations: %v %v", extra, err)
	}
	raw := l.Raw()
	if len(raw) != 3 || string(raw[0]) != `"hi"` || string(raw[1]) != `{"a":1}` || string(raw[2]) != `[2]` {
		t.Fatalf("Raw = %q", raw)
	}
	vals := l.Values()
	if r, ok := vals[1].(json.RawMessage); !ok || string(r) != `{"a":1}` {
		t.Fatalf("Values = %#v", vals)
	}
}

func TestBinaryAndFirstOnly(t *testing.T) {
	p := decode(t, `61-7["x",{"_placeholder":true,"num":0}]`, []byte{1, 2})
	l := &List{Packet: p}
	var b []byte
	var s string
	if err := l.Args(&s, &b); err != nil || s != "x" || !bytes.Equal(b, []byte{1, 2}) {
		t.Fatalf("Args: %q %v %v", s, b, err)
	}
	v, ok := l.Values()[1].(parser.RawArg)
	if !ok || string(v.JSON) != `{"_placeholder":true,"num":0}` || len(v.Attachments) != 1 {
		t.Fatalf("Values = %#v", l.Values())
	}
	first := &List{Packet: p, FirstOnly: true}
	if raw := first.Raw(); len(raw) != 1 || string(raw[0]) != `"x"` {
		t.Fatalf("FirstOnly Raw = %q", raw)
	}
}

func TestEventWithoutArgs(t *testing.T) {
	l := &List{Packet: decode(t, `2["ping"]`)}
	var s string
	if l.Len() != 0 || len(l.Values()) != 0 || l.Args(&s) != nil || s != "" {
		t.Fatalf("Len %d, Values %v", l.Len(), l.Values())
	}
}

func TestInvalidArgs(t *testing.T) {
	// Not an event: a CONNECT has no arguments.
	l := &List{Packet: decode(t, `0{"token":1}`)}
	if err := l.Args(new(any)); !errors.Is(err, parser.ErrNoArgs) {
		t.Fatalf("Args error %v, want ErrNoArgs", err)
	}
	if l.Len() != 0 || l.Raw() != nil || len(l.Values()) != 0 {
		t.Fatal("invalid arguments should read as none")
	}
}

func FuzzList(f *testing.F) {
	for _, s := range []string{`2["msg",1,"a",{"b":[null]}]`, `3/nsp,4[true]`, `2["ping"]`, `31[]`, `2[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d parser.Decoder
		p, err := d.Add(data, false)
		if err != nil || p == nil {
			return
		}
		l := &List{Packet: p}
		dst := make([]any, l.Len())
		ptrs := make([]any, len(dst))
		for i := range dst {
			ptrs[i] = &dst[i]
		}
		_ = l.Args(ptrs...)
		if len(l.Values()) != len(l.Raw()) {
			t.Fatal("Values and Raw disagree")
		}
	})
}
