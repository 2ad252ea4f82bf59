package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type upload struct {
	Name  string            `json:"name"`
	File  []byte            `json:"file"`
	Parts [][]byte          `json:"parts"`
	Meta  any               `json:"meta"`
	Ptr   *[]byte           `json:"ptr"`
	Named map[string][]byte `json:"named"`
	Arr   [2][]byte         `json:"arr"`
	*Deep
}

type selfDecoding struct{ raw string }

func (s *selfDecoding) UnmarshalJSON(b []byte) error { s.raw = string(b); return nil }

func TestUnmarshalAttachments(t *testing.T) {
	t.Parallel()
	a0, a1, a2 := []byte("zero"), []byte("one"), []byte("two")
	atts := [][]byte{a0, a1, a2}
	ph := func(n string) string { return `{"_placeholder":true,"num":` + n + `}` }

	var b []byte
	if err := Unmarshal([]byte(ph("1")), atts, &b); err != nil || !bytes.Equal(b, a1) {
		t.Errorf("[]byte: %q %v", b, err)
	}

	var x any
	if err := Unmarshal([]byte(`["s",`+ph("0")+`,{"n":[1,`+ph("2")+`]},null]`), atts, &x); err != nil {
		t.Fatal(err)
	}
	want := []any{"s", a0, map[string]any{"n": []any{1.0, a2}}, nil}
	if !reflect.DeepEqual(x, want) {
		t.Errorf("any: %#v\nwant %#v", x, want)
	}

	var u upload
	in := `{"name":"f","file":` + ph("0") + `,"parts":[` + ph("1") + `,` + ph("2") + `],"meta":{"m":` + ph("2") + `},` +
		`"ptr":` + ph("1") + `,"named":{"k":` + ph("0") + `},"arr":[` + ph("2") + `],"Z":true,"unknown":` + ph("0") + `}`
	if err := Unmarshal([]byte(in), atts, &u); err != nil {
		t.Fatal(err)
	}
	wantU := upload{Name: "f", File: a0, Parts: [][]byte{a1, a2}, Meta: map[string]any{"m": a2}, Ptr: &a1,
		Named: map[string][]byte{"k": a0}, Arr: [2][]byte{a2, nil}, Deep: &Deep{Z: true}}
	if !reflect.DeepEqual(u, wantU) {
		t.Errorf("struct: %+v\nwant %+v", u, wantU)
	}

	// Case-insensitive member names, as encoding/json.
	var ci struct{ Data []byte }
	if err := Unmarshal([]byte(`{"DATA":`+ph("0")+`}`), atts, &ci); err != nil || !bytes.Equal(ci.Data, a0) {
		t.Errorf("case-insensitive: %q %v", ci.Data, err)
	}

	// A type with its own UnmarshalJSON gets the placeholder text.
	var sd selfDecoding
	if err := Unmarshal([]byte(ph("0")), atts, &sd); err != nil || sd.raw != ph("0") {
		t.Errorf("UnmarshalJSON: %q %v", sd.raw, err)
	}

	// Integer map keys.
	var m map[int][]byte
	if err := Unmarshal([]byte(`{"7":`+ph("2")+`}`), atts, &m); err != nil || !bytes.Equal(m[7], a2) {
		t.Errorf("map[int]: %v %v", m, err)
	}

	// No attachments: plain encoding/json, placeholders stay objects.
	var plain any
	if err := Unmarshal([]byte(`[`+ph("0")+`]`), nil, &plain); err != nil ||
		!reflect.DeepEqual(plain, []any{map[string]any{"_placeholder": true, "num": 0.0}}) {
		t.Errorf("no attachments: %#v %v", plain, err)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	t.Parallel()
	atts := [][]byte{{1}}
	var b []byte
	var n int
	var s string
	var ch chan int
	for _, tc := range []struct {
		in   string
		v    any
		want error
	}{
		{`{"_placeholder":true,"num":1}`, &b, ErrIllegalAttachments},
		{`[{"_placeholder":true,"num":-1}]`, &[]any{}, ErrIllegalAttachments},
		{`{"x":{"_placeholder":true,"num":"0"}}`, &map[string]any{}, ErrIllegalAttachments},
	} {
		if err := Unmarshal([]byte(tc.in), atts, tc.v); !errors.Is(err, tc.want) {
			t.Errorf("%s into %T: %v, want %v", tc.in, tc.v, err, tc.want)
		}
	}
	var typeErr *json.UnmarshalTypeError
	if err := Unmarshal([]byte(`{"_placeholder":true,"num":0}`), atts, &n); !errors.As(err, &typeErr) {
		t.Errorf("attachment into int: %v", err)
	}
	if err := Unmarshal([]byte(`{"_placeholder":true,"num":0}`), atts, &s); !errors.As(err, &typeErr) {
		t.Errorf("attachment into string: %v", err)
	}
	if err := Unmarshal([]byte(`{"_placeholder":true,"num":0}`), atts, &ch); !errors.As(err, &typeErr) {
		t.Errorf("attachment into chan: %v", err)
	}
	var invalid *json.InvalidUnmarshalError
	if err := Unmarshal([]byte(`{"_placeholder":true,"num":0}`), atts, b); !errors.As(err, &invalid) {
		t.Errorf("non-pointer: %v", err)
	}
	var syntax *json.SyntaxError
	if err := Unmarshal([]byte(`{"_placeholder":true,`), atts, &b); !errors.As(err, &syntax) {
		t.Errorf("broken JSON: %v", err)
	}
}

// Event arguments decoded through Args and Unmarshal, the way the server will.
func TestArgsUnmarshalRoundTrip(t *testing.T) {
	t.Parallel()
	img := []byte{0x89, 'P', 'N', 'G'}
	p, err := NewEvent("/", "upload", []any{"cat.png", img, map[string]any{"thumb": img[:1]}})
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	back := decodeAll(t, &d, p.String(), p.Attachments...)
	args, err := back.Args()
	if err != nil || len(args) != 3 {
		t.Fatalf("args %q %v", args, err)
	}
	var name string
	var data []byte
	var meta struct {
		Thumb []byte `json:"thumb"`
	}
	for i, v := range []any{&name, &data, &meta} {
		if err := Unmarshal(args[i], back.Attachments, v); err != nil {
			t.Fatalf("arg %d: %v", i, err)
		}
	}
	if name != "cat.png" || !bytes.Equal(data, img) || !bytes.Equal(meta.Thumb, img[:1]) {
		t.Errorf("got %q %v %v", name, data, meta.Thumb)
	}
}

// Deep nesting around a placeholder is walked once per level, not once per
// level per ancestor (which made a 500 KB packet cost seconds).
func TestDeepNesting(t *testing.T) {
	t.Parallel()
	const depth = 3000
	text := `["e",` + strings.Repeat(`{"k":"`+strings.Repeat("x", 100)+`","a":[`, depth) +
		`{"_placeholder":true,"num":0}` + strings.Repeat("]}", depth) + `]`
	var d Decoder
	p := decodeAll(t, &d, "51-"+text, []byte("bin"))
	args, err := p.Args()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := Unmarshal(args[0], p.Attachments, &v); err != nil {
		t.Fatal(err)
	}
	for range depth {
		v = v.(map[string]any)["a"].([]any)[0]
	}
	if b, ok := v.([]byte); !ok || string(b) != "bin" {
		t.Fatalf("innermost value %#v", v)
	}
	out, err := NewEvent("/", "e", []any{RawArg{args[0], p.Attachments}})
	if err != nil || out.String() != "51-"+text || len(out.Attachments) != 1 {
		t.Fatalf("re-emitted %.80s... (%v)", out, err)
	}
	bad := strings.Replace(text, `"num":0`, `"num":1`, 1)
	if _, err := d.Add([]byte("51-"+bad), false); !errors.Is(err, ErrIllegalAttachments) {
		t.Fatalf("deep bad placeholder: %v", err)
	}
}

func TestUnmarshalMapKeys(t *testing.T) {
	t.Parallel()
	atts := [][]byte{[]byte("a")}
	ph := `{"_placeholder":true,"num":0}`
	var u map[uint16][]byte
	if err := Unmarshal([]byte(`{"65535":`+ph+`}`), atts, &u); err != nil || string(u[65535]) != "a" {
		t.Errorf("map[uint16]: %v %v", u, err)
	}
	var tk map[textKeyIn][]byte
	if err := Unmarshal([]byte(`{"k":`+ph+`}`), atts, &tk); err != nil || string(tk[textKeyIn{"k"}]) != "a" {
		t.Errorf("map[TextUnmarshaler]: %v %v", tk, err)
	}
	var typeErr *json.UnmarshalTypeError
	for _, tc := range []struct {
		in string
		v  any
	}{
		{`{"65536":` + ph + `}`, &u},
		{`{"-129":` + ph + `}`, &map[int8][]byte{}},
		{`{"x":` + ph + `}`, &map[int][]byte{}},
		{`{"x":` + ph + `}`, &map[float64][]byte{}},
	} {
		if err := Unmarshal([]byte(tc.in), atts, tc.v); !errors.As(err, &typeErr) && err == nil {
			t.Errorf("%s into %T: %v", tc.in, tc.v, err)
		}
	}
	var bad map[textKeyIn][]byte
	if err := Unmarshal([]byte(`{"":`+ph+`}`), atts, &bad); err == nil {
		t.Errorf("failing UnmarshalText: no error")
	}
}

type textKeyIn struct{ s string }

func (k *textKeyIn) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return errors.New("empty key")
	}
	k.s = string(b)
	return nil
}
