package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestEncodeGolden(t *testing.T) {
	t.Parallel()
	mustPacket := func(p *Packet, err error) *Packet {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	withID := func(p *Packet, id uint64) *Packet { p.ID, p.HasID = id, true; return p }
	for _, tc := range []struct {
		p    *Packet
		want string
		bins [][]byte
	}{
		{mustPacket(NewConnect("/", nil)), "0", nil},
		{mustPacket(NewConnect("", map[string]any{"token": "123"})), `0{"token":"123"}`, nil},
		{mustPacket(NewConnect("/admin", struct {
			SID string `json:"sid"`
			PID string `json:"pid,omitempty"`
		}{SID: "abc"})), `0/admin,{"sid":"abc"}`, nil},
		{mustPacket(NewDisconnect("/")), "1", nil},
		{mustPacket(NewDisconnect("/admin")), "1/admin,", nil},
		{mustPacket(NewDisconnect("/server-disconnect")), "1/server-disconnect,", nil},
		{mustPacket(NewEvent("/", "foo", nil)), `2["foo"]`, nil},
		{mustPacket(NewEvent("/", "hello", []any{"world"})), `2["hello","world"]`, nil},
		{withID(mustPacket(NewEvent("/admin", "foo", []any{1})), 13), `2/admin,13["foo",1]`, nil},
		{withID(mustPacket(NewEvent("/server-ack", "question", []any{42})), 0), `2/server-ack,0["question",42]`, nil},
		{mustPacket(NewEvent("/", "message-back", []any{1, "2", map[string]any{"3": []any{true}}})), `2["message-back",1,"2",{"3":[true]}]`, nil},
		{mustPacket(NewAck("/", 12, []any{"bar"})), `312["bar"]`, nil},
		{mustPacket(NewAck("/admin", 13, nil)), `3/admin,13[]`, nil},
		{mustPacket(NewAck("/admin", 13, []any{"ok"})), `3/admin,13["ok"]`, nil},
		{mustPacket(NewConnectError("/", "Not authorized", nil)), `4{"message":"Not authorized"}`, nil},
		{mustPacket(NewConnectError("/random", "Invalid namespace", nil)), `4/random,{"message":"Invalid namespace"}`, nil},
		{mustPacket(NewConnectError("/forbidden", "not authorized", map[string]any{"reason": "probe"})),
			`4/forbidden,{"message":"not authorized","data":{"reason":"probe"}}`, nil},
		{mustPacket(NewEvent("/", "baz", []any{[]byte{1, 2, 3}})), `51-["baz",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3}}},
		{mustPacket(NewEvent("/", "message-back", []any{[]byte{1, 2, 3}})), `51-["message-back",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3}}},
		{mustPacket(NewEvent("/", "hi", []any{1, []byte{1, 2}})), `51-["hi",1,{"_placeholder":true,"num":0}]`, [][]byte{{1, 2}}},
		{mustPacket(NewAck("/", 15, []any{"bar", []byte{9}})), `61-15["bar",{"_placeholder":true,"num":0}]`, [][]byte{{9}}},
		{mustPacket(NewEvent("/server-binary", "bin", []any{[]byte{1, 2, 3}, map[string]any{"nested": []byte{4}}})),
			`52-/server-binary,["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, [][]byte{{1, 2, 3}, {4}}},
		// Depth first, arrays in order, struct fields in declaration order.
		{mustPacket(NewEvent("/", "deep", []any{struct {
			B []byte   `json:"b"`
			L [][]byte `json:"l"`
			A any      `json:"a"`
		}{[]byte("0"), [][]byte{[]byte("1"), []byte("2")}, []any{[]byte("3")}}})),
			`54-["deep",{"b":{"_placeholder":true,"num":0},"l":[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}],"a":[{"_placeholder":true,"num":3}]}]`,
			[][]byte{[]byte("0"), []byte("1"), []byte("2"), []byte("3")}},
		// Raw JSON is passed through.
		{mustPacket(NewEvent("/", "echo", []any{json.RawMessage(`{"3":[true],"a":"<&>"}`)})), `2["echo",{"3":[true],"a":"<&>"}]`, nil},
	} {
		got := tc.p.AppendText(nil)
		if string(got) != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
		if n := tc.p.TextLen(); n != len(got) {
			t.Errorf("%s: TextLen %d, want %d", tc.want, n, len(got))
		}
		if len(tc.p.Attachments) != len(tc.bins) {
			t.Errorf("%s: %d attachments, want %d", tc.want, len(tc.p.Attachments), len(tc.bins))
			continue
		}
		for i := range tc.bins {
			if !bytes.Equal(tc.p.Attachments[i], tc.bins[i]) {
				t.Errorf("%s: attachment %d = %v, want %v", tc.want, i, tc.p.Attachments[i], tc.bins[i])
			}
		}
		// What we encode, we decode back to the same packet.
		var d Decoder
		back := decodeAll(t, &d, string(got), tc.bins...)
		if !samePacket(back, tc.p) {
			t.Errorf("%s: decoded back as %+v", tc.want, back)
		}
	}
}

func samePacket(a, b *Packet) bool {
	if a.Type != b.Type || a.Namespace != b.Namespace || a.HasID != b.HasID || a.ID != b.ID ||
		!bytes.Equal(a.Data, b.Data) || len(a.Attachments) != len(b.Attachments) {
		return false
	}
	for i := range a.Attachments {
		if !bytes.Equal(a.Attachments[i], b.Attachments[i]) {
			return false
		}
	}
	return true
}

func TestConstructorErrors(t *testing.T) {
	t.Parallel()
	if _, err := NewEvent("chat", "x", nil); !errors.Is(err, ErrInvalidNamespace) {
		t.Errorf("namespace without slash: %v", err)
	}
	if _, err := NewAck("/a,b", 1, nil); !errors.Is(err, ErrInvalidNamespace) {
		t.Errorf("namespace with comma: %v", err)
	}
	if _, err := NewConnect("/", []any{1}); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("CONNECT with an array: %v", err)
	}
	if _, err := NewEvent("/", "x", []any{make(chan int)}); !errors.Is(err, ErrUnsupportedValue) {
		t.Errorf("channel argument: %v", err)
	}
	if _, err := NewConnectError("/", "m", func() {}); !errors.Is(err, ErrUnsupportedValue) {
		t.Errorf("func data: %v", err)
	}
}

func TestTypeString(t *testing.T) {
	t.Parallel()
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK", "UNKNOWN(7)"}
	for i, w := range want {
		if got := Type(i).String(); got != w {
			t.Errorf("Type(%d) = %q, want %q", i, got, w)
		}
	}
}

func TestEventNameAndArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		name string
		args []string
	}{
		{`2["foo"]`, "foo", nil},
		{`2["foo",1,"2",{"3":[true]}]`, "foo", []string{`1`, `"2"`, `{"3":[true]}`}},
		{`2[ "sp" , [ 1 ] ,null ]`, "sp", []string{`[ 1 ]`, `null`}},
		{`2["\u00e9v\n"]`, "év\n", nil},
		{`2[1,"a"]`, "1", []string{`"a"`}},
		{`2[1.50]`, "1.5", nil},
		{`2[1e2]`, "100", nil},
		{`2[-0]`, "0", nil},
		{`2[1e21]`, "1e+21", nil},
		{`2[1e999]`, "Infinity", nil},
		{`51-["bin",{"_placeholder":true,"num":0}]`, "bin", []string{`{"_placeholder":true,"num":0}`}},
	} {
		var d Decoder
		p, err := d.Add([]byte(tc.in), false)
		if p == nil && err == nil {
			p, err = d.Add([]byte{1}, true)
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		name, err := p.EventName()
		if err != nil || name != tc.name {
			t.Errorf("%s: EventName = %q, %v; want %q", tc.in, name, err, tc.name)
		}
		args, err := p.Args()
		if err != nil || len(args) != len(tc.args) {
			t.Errorf("%s: Args = %q, %v; want %q", tc.in, args, err, tc.args)
			continue
		}
		for i := range args {
			if string(args[i]) != tc.args[i] {
				t.Errorf("%s: arg %d = %s, want %s", tc.in, i, args[i], tc.args[i])
			}
		}
	}

	ack := &Packet{Type: Ack, Data: []byte(`["a",2]`)}
	if args, err := ack.Args(); err != nil || len(args) != 2 || string(args[0]) != `"a"` {
		t.Errorf("ack args = %q, %v", args, err)
	}
	if args, err := (&Packet{Type: Ack}).Args(); err != nil || args != nil {
		t.Errorf("ack without payload: %q, %v", args, err)
	}
	if _, err := ack.EventName(); !errors.Is(err, ErrNotEvent) {
		t.Errorf("EventName on ack: %v", err)
	}
	if _, err := (&Packet{Type: Connect}).Args(); !errors.Is(err, ErrNoArgs) {
		t.Errorf("Args on connect: %v", err)
	}
	if _, err := (&Packet{Type: Event, Data: []byte(`[true]`)}).EventName(); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("EventName of [true]: %v", err)
	}
	if _, err := (&Packet{Type: Event, Data: []byte(`["a",`)}).Args(); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("Args of broken JSON: %v", err)
	}
}

func TestIsReservedEvent(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if !IsReservedEvent(n) {
			t.Errorf("%s not reserved", n)
		}
	}
	for _, n := range []string{"connection", "message", "Connect", "error", ""} {
		if IsReservedEvent(n) {
			t.Errorf("%q reserved", n)
		}
	}
}

// A server re-emits received arguments, binary included, byte for byte.
func TestRawArgEcho(t *testing.T) {
	t.Parallel()
	var d Decoder
	in := decodeAll(t, &d, `52-["up",{"z":1,"a":{"_placeholder":true,"num":1}},"<&>",{"_placeholder":true,"num":0}]`,
		[]byte("first"), []byte("second"))
	args, err := in.Args()
	if err != nil {
		t.Fatal(err)
	}
	// Re-emit them in another order: placeholders are renumbered.
	out, err := NewEvent("/", "down", []any{
		RawArg{args[0], in.Attachments}, &RawArg{args[2], in.Attachments}, RawArg{args[1], in.Attachments}})
	if err != nil {
		t.Fatal(err)
	}
	want := `52-["down",{"z":1,"a":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1},"<&>"]`
	if got := out.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if len(out.Attachments) != 2 || string(out.Attachments[0]) != "second" || string(out.Attachments[1]) != "first" {
		t.Errorf("attachments %q", out.Attachments)
	}
	// Without binary: as json.RawMessage. In Marshal: base64.
	if b, err := Marshal(RawArg{JSON: json.RawMessage(`[ 1 ]`)}); err != nil || string(b) != `[1]` {
		t.Errorf("RawArg without attachments: %s %v", b, err)
	}
	if b, err := Marshal(RawArg{args[0], in.Attachments}); err != nil || string(b) != `{"z":1,"a":"c2Vjb25k"}` {
		t.Errorf("Marshal(RawArg): %s %v", b, err)
	}
	if _, err := Marshal(RawArg{json.RawMessage(`{"_placeholder":true,"num":5}`), in.Attachments}); !errors.Is(err, ErrIllegalAttachments) {
		t.Errorf("bad placeholder: %v", err)
	}
	if _, err := Marshal(RawArg{json.RawMessage(`{"_placeholder":true,`), in.Attachments}); !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("bad JSON: %v", err)
	}
}

func TestAppendTextBinaryWithoutAttachments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    Packet
		want string
	}{
		{Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["a"]`)}, `2["a"]`},
		{Packet{Type: BinaryAck, Namespace: "/x", ID: 4, HasID: true, Data: []byte(`[]`)}, `3/x,4[]`},
		{Packet{Type: BinaryAck, Namespace: "/x", ID: 4, HasID: true, Data: []byte(`[]`), Attachments: [][]byte{{}}}, `61-/x,4[]`},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}

func TestTextLen(t *testing.T) {
	t.Parallel()
	for _, p := range []*Packet{
		{Type: Connect}, {Type: Disconnect, Namespace: "/"}, {Type: Event, Namespace: "/a", Data: []byte(`["x"]`)},
		{Type: Ack, HasID: true, ID: 0, Data: []byte(`[]`)}, {Type: Ack, HasID: true, ID: 9}, {Type: Ack, HasID: true, ID: 10},
		{Type: Ack, HasID: true, ID: 1<<64 - 1, Namespace: "/n"},
		{Type: BinaryEvent, Attachments: make([][]byte, 10), HasID: true, ID: 99999, Data: []byte(`["b"]`)},
		{Type: BinaryAck, Attachments: make([][]byte, 1), Namespace: "/x", HasID: true, ID: 100},
		{Type: BinaryEvent, Data: []byte(`["no attachments"]`)},
	} {
		if got, want := p.TextLen(), len(p.AppendText(nil)); got != want {
			t.Errorf("%s: TextLen %d, want %d", p.AppendText(nil), got, want)
		}
	}
}
