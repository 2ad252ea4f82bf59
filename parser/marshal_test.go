package parser

import (
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"
)

type jsonMarshaler struct{}

func (jsonMarshaler) MarshalJSON() ([]byte, error) {
	return []byte(` { "b" : "\u003c\/\u2028\u00E9" , "a" : [ 1 , 2.50 ] } `), nil
}

type badMarshaler struct{}

func (badMarshaler) MarshalJSON() ([]byte, error) { return []byte(`{oops`), nil }

type failingMarshaler struct{}

func (failingMarshaler) MarshalJSON() ([]byte, error) { return nil, errors.New("boom") }

type ptrMarshaler struct{ N int }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"ptr"`), nil }

type textKey struct{ a, b string }

func (k textKey) MarshalText() ([]byte, error) { return []byte(k.a + "-" + k.b), nil }

type Inner struct {
	X int    `json:"x"`
	Y string `json:"y,omitempty"`
}

type Deep struct{ Z bool }

type Outer struct {
	Inner
	*Deep
	Name string `json:"name"`
	Skip string `json:"-"`
	//lint:ignore SA5008 the "-," tag names a member "-", as in encoding/json
	Dash     string            `json:"-,"`
	Empty    []int             `json:"empty,omitempty"`
	Zero     time.Time         `json:"zero,omitzero"`
	Count    int64             `json:"count,string"`
	Ptr      *int              `json:"ptr"`
	Iface    any               `json:"iface"`
	Map      map[int]string    `json:"map,omitempty"`
	Raw      json.RawMessage   `json:"raw,omitempty"`
	Float32  float32           `json:"f32"`
	private  int               //lint:ignore U1000 unexported fields are skipped
	Untagged map[string]string // Go name as the key
}

type ConflictA struct{ Name string }
type ConflictB struct{ Name string }
type Conflicting struct {
	ConflictA
	ConflictB
	Tagged
}
type Tagged struct {
	Other string `json:"Name2"`
}

func TestMarshalJSExact(t *testing.T) {
	t.Parallel()
	seven := 7
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, `null`},
		{true, `true`},
		{"", `""`},
		{"<>&", `"<>&"`},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		{"\"\\/", `"\"\\/"`},
		{"\b\f\n\r\t\x00\x01\x1f\x7f", `"\b\f\n\r\t\u0000\u0001\u001f` + "\x7f\""},
		{"é😀", `"é😀"`},
		{"bad\xffutf8", "\"bad\uFFFDutf8\""},
		{0, `0`},
		{-12, `-12`},
		{uint64(math.MaxUint64), `18446744073709551615`},
		{int8(-8), `-8`},
		{1.0, `1`},
		{0.1, `0.1`},
		{0.30000000000000004, `0.30000000000000004`},
		{1e21, `1e+21`},
		{1e20, `100000000000000000000`},
		{123e-20, `1.23e-18`},
		{5e-7, `5e-7`},
		{1e-7, `1e-7`},
		{0.000001, `0.000001`},
		{1.5e300, `1.5e+300`},
		{math.Copysign(0, -1), `0`},
		{math.NaN(), `null`},
		{math.Inf(1), `null`},
		{math.Inf(-1), `null`},
		{float32(0.1), `0.1`},
		{float32(1e21), `1e+21`},
		{json.Number("1.50"), `1.50`},
		{[]byte{1, 2, 3}, `"AQID"`},
		{[]byte(nil), `null`},
		{[]any{}, `[]`},
		{[]any(nil), `null`},
		{[]int{1, 2}, `[1,2]`},
		{[2]string{"a", "b"}, `["a","b"]`},
		{map[string]any{}, `{}`},
		{map[string]any(nil), `null`},
		{map[string]any{"b": 1, "a": 2, "10": 3, "2": 4, "01": 5, "-1": 6, "4294967295": 7, "4294967294": 8},
			`{"2":4,"10":3,"4294967294":8,"-1":6,"01":5,"4294967295":7,"a":2,"b":1}`},
		{map[int]bool{10: true, 2: false, -1: true}, `{"2":false,"10":true,"-1":true}`},
		{map[textKey]int{{"x", "y"}: 1}, `{"x-y":1}`},
		{map[string]string{"sid": "a<b", "10": "\n", "pid": ""}, `{"10":"\n","pid":"","sid":"a<b"}`},
		{map[string]string(nil), `null`},
		{[]string{"a", "\u2028"}, "[\"a\",\"\u2028\"]"},
		{[]string(nil), `null`},
		{[]any{"message-back", 1, "2", map[string]any{"3": []any{true}}}, `["message-back",1,"2",{"3":[true]}]`},
		{json.RawMessage(` [ 1 , "a b" , {"k" : "\u003c"} ] `), `[1,"a b",{"k":"<"}]`},
		{json.RawMessage(`{"kept":"as is"}`), `{"kept":"as is"}`},
		{json.RawMessage(nil), `null`},
		{json.RawMessage(`["\ud800","\uD83D\uDE00","\u00E9\/","\u000A","\u0022\u005c","\u001F","\u000b","\ud800\u0041","\udc00\ud800","\u0041\""]`),
			`["\ud800","😀","é/","\n","\"\\","\u001f","\u000b","\ud800A","\udc00\ud800","A\""]`},
		{json.RawMessage(`["as JS writes it: \"\\\b\f\n\r\t\u0000\u001f"]`), `["as JS writes it: \"\\\b\f\n\r\t\u0000\u001f"]`},
		{jsonMarshaler{}, "{\"b\":\"</\u2028é\",\"a\":[1,2.50]}"},
		{&ptrMarshaler{}, `"ptr"`},
		{[]ptrMarshaler{{}}, `["ptr"]`},
		{(*ptrMarshaler)(nil), `null`},
		{netip.MustParseAddr("127.0.0.1"), `"127.0.0.1"`},
		{&seven, `7`},
		{(*int)(nil), `null`},
		{Outer{Inner: Inner{X: 1}, Name: "n", Skip: "s", Dash: "d", Count: 42, Ptr: &seven, Float32: 1.5},
			`{"x":1,"name":"n","-":"d","count":"42","ptr":7,"iface":null,"f32":1.5,"Untagged":null}`},
		{Outer{Inner: Inner{Y: "y"}, Deep: &Deep{Z: true}, Zero: time.Unix(0, 0).UTC(), Iface: []byte{1},
			Map: map[int]string{3: "c"}, Raw: json.RawMessage(`{}`), Untagged: map[string]string{"k": "v"}},
			`{"x":0,"y":"y","Z":true,"name":"","-":"","zero":"1970-01-01T00:00:00Z","count":"0","ptr":null,"iface":"AQ==","map":{"3":"c"},"raw":{},"f32":0,"Untagged":{"k":"v"}}`},
		{Conflicting{ConflictA{"a"}, ConflictB{"b"}, Tagged{"t"}}, `{"Name2":"t"}`},
		{struct {
			S string `json:"s,string"`
			B bool   `json:",string"`
		}{"x", true}, `{"s":"\"x\"","B":"true"}`},
	} {
		got, err := Marshal(tc.v)
		if err != nil {
			t.Errorf("Marshal(%#v): %v", tc.v, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("Marshal(%#v)\n got  %s\n want %s", tc.v, got, tc.want)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	t.Parallel()
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	type node struct{ Next *node }
	loop := &node{}
	loop.Next = loop
	for _, tc := range []struct {
		v    any
		want error
	}{
		{make(chan int), ErrUnsupportedValue},
		{func() {}, ErrUnsupportedValue},
		{complex(1, 2), ErrUnsupportedValue},
		{map[[2]int]int{{1, 2}: 3}, ErrUnsupportedValue},
		{cyclic, ErrUnsupportedValue},
		{loop, ErrUnsupportedValue},
		{badMarshaler{}, ErrInvalidJSON},
		{json.RawMessage(`{"a":}`), ErrInvalidJSON},
		{json.RawMessage(`1 2`), ErrInvalidJSON},
		{json.Number("1e"), ErrInvalidJSON},
		{[]any{"ok", failingMarshaler{}}, nil},
	} {
		_, err := Marshal(tc.v)
		if err == nil {
			t.Errorf("Marshal(%T): no error", tc.v)
		} else if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("Marshal(%T): %v, want %v", tc.v, err, tc.want)
		}
	}
}

func TestAppendMarshal(t *testing.T) {
	t.Parallel()
	got, err := AppendMarshal([]byte("prefix:"), map[string]any{"a": []any{1, "x"}})
	if err != nil || string(got) != `prefix:{"a":[1,"x"]}` {
		t.Fatalf("got %s, %v", got, err)
	}
}

// Marshal is a drop-in for encoding/json where both agree (no HTML or U+2028
// escaping, no integer-like map keys).
func TestMarshalAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	v := Outer{Inner: Inner{X: 3, Y: "why"}, Name: "name", Count: -1, Iface: map[string]any{"k": []any{1.5, "s", nil}}}
	std, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := Marshal(v)
	if err != nil || string(ours) != string(std) {
		t.Fatalf("ours %s (%v)\nstd  %s", ours, err, std)
	}
}

type zeroer struct{ set bool }

func (z zeroer) IsZero() bool { return !z.set }

func TestMarshalOmit(t *testing.T) {
	t.Parallel()
	type omit struct {
		B   bool              `json:"b,omitempty"`
		I   int8              `json:"i,omitempty"`
		U   uint              `json:"u,omitempty"`
		F   float32           `json:"f,omitempty"`
		S   string            `json:"s,omitempty"`
		P   *int              `json:"p,omitempty"`
		A   any               `json:"a,omitempty"`
		L   []int             `json:"l,omitempty"`
		M   map[string]int    `json:"m,omitempty"`
		R   [0]int            `json:"r,omitempty"`
		St  struct{}          `json:"st,omitempty"` // never empty, as in encoding/json
		Z   zeroer            `json:"z,omitzero"`
		ZP  *zeroer           `json:"zp,omitzero"`
		ZA  [2]int            `json:"za,omitzero"`
		QP  *int              `json:"qp,string"`
		QF  float64           `json:"qf,string"`
		QU  uint16            `json:"qu,string"`
		QN  *int              `json:"qn,string"`
		Kid map[uint8][]int8  `json:"kid,omitempty"`
		Txt map[textKey]uint8 `json:"txt,omitempty"`
	}
	three := 3
	for _, tc := range []struct {
		v    omit
		want string
	}{
		{omit{}, `{"st":{},"qp":null,"qf":"0","qu":"0","qn":null}`},
		{omit{B: true, I: -1, U: 1, F: 0.5, S: "s", P: &three, A: 0, L: []int{}, M: map[string]int{}, Z: zeroer{true},
			ZP: &zeroer{}, ZA: [2]int{0, 1}, QP: &three, QF: 1e21, QU: 7, Kid: map[uint8][]int8{200: {-1}, 3: nil},
			Txt: map[textKey]uint8{{"b", "c"}: 2, {"a", "z"}: 1}},
			`{"b":true,"i":-1,"u":1,"f":0.5,"s":"s","p":3,"a":0,"st":{},"z":{},"za":[0,1],"qp":"3","qf":"1e+21","qu":"7","qn":null,` +
				`"kid":{"3":null,"200":[-1]},"txt":{"a-z":1,"b-c":2}}`},
	} {
		got, err := Marshal(tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("got  %s (%v)\nwant %s", got, err, tc.want)
		}
	}
}

type ptrZeroer struct{ n int }

func (z *ptrZeroer) IsZero() bool { return z.n < 0 }

func TestMarshalOmitZeroMethods(t *testing.T) {
	t.Parallel()
	type s struct {
		Ptr   ptrZeroer `json:"ptr,omitzero"`   // pointer-receiver IsZero: says non-zero for n=0
		Iface any       `json:"iface,omitzero"` // any has no IsZero: only nil is zero
		Neg   ptrZeroer `json:"neg,omitzero"`
	}
	got, err := Marshal(s{Iface: zeroer{}, Neg: ptrZeroer{-1}})
	if want := `{"ptr":{},"iface":{}}`; err != nil || string(got) != want {
		t.Errorf("got %s (%v), want %s", got, err, want)
	}
	std, _ := json.Marshal(s{Iface: zeroer{}, Neg: ptrZeroer{-1}})
	if string(std) != string(got) {
		t.Errorf("encoding/json writes %s", std)
	}
}
