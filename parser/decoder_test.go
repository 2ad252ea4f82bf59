package parser

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
)

// decodeAll feeds msgs (binary when prefixed by "\x00bin:") and returns the packets.
func decodeAll(t *testing.T, d *Decoder, text string, bins ...[]byte) *Packet {
	t.Helper()
	p, err := d.Add([]byte(text), false)
	if err != nil {
		t.Fatalf("Add(%q): %v", text, err)
	}
	for i, b := range bins {
		if p != nil {
			t.Fatalf("Add(%q): complete before attachment %d", text, i)
		}
		if p, err = d.Add(b, true); err != nil {
			t.Fatalf("attachment %d: %v", i, err)
		}
	}
	if p == nil {
		t.Fatalf("Add(%q): packet incomplete after %d attachments", text, len(bins))
	}
	return p
}

func TestDecodeGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		bins  [][]byte
		typ   Type
		nsp   string
		id    uint64
		hasID bool
		data  string
	}{
		// PROTOCOL.md B2 and FEATURES.md 1.18 (without the Engine.IO "4").
		{in: "0", typ: Connect, nsp: "/"},
		{in: `0{"token":"123"}`, typ: Connect, nsp: "/", data: `{"token":"123"}`},
		{in: `0/admin,{"sid":"abc"}`, typ: Connect, nsp: "/admin", data: `{"sid":"abc"}`},
		{in: `0/admin,{"token":"x"}`, typ: Connect, nsp: "/admin", data: `{"token":"x"}`},
		{in: "0/custom", typ: Connect, nsp: "/custom"},
		{in: "0/custom,", typ: Connect, nsp: "/custom"},
		{in: "1", typ: Disconnect, nsp: "/"},
		{in: "1/admin,", typ: Disconnect, nsp: "/admin"},
		{in: `2["foo"]`, typ: Event, nsp: "/", data: `["foo"]`},
		{in: `2["hello","world"]`, typ: Event, nsp: "/", data: `["hello","world"]`},
		{in: `2/admin,13["foo",1]`, typ: Event, nsp: "/admin", id: 13, hasID: true, data: `["foo",1]`},
		{in: `2[42,"numeric name"]`, typ: Event, nsp: "/", data: `[42,"numeric name"]`},
		{in: `312["bar"]`, typ: Ack, nsp: "/", id: 12, hasID: true, data: `["bar"]`},
		{in: `3/admin,13[]`, typ: Ack, nsp: "/admin", id: 13, hasID: true, data: `[]`},
		{in: `3/admin,13["ok"]`, typ: Ack, nsp: "/admin", id: 13, hasID: true, data: `["ok"]`},
		{in: "30", typ: Ack, nsp: "/", id: 0, hasID: true},
		{in: `4{"message":"Not authorized"}`, typ: ConnectError, nsp: "/", data: `{"message":"Not authorized"}`},
		{in: `4/random,{"message":"Invalid namespace"}`, typ: ConnectError, nsp: "/random", data: `{"message":"Invalid namespace"}`},
		{in: `4"just a string"`, typ: ConnectError, nsp: "/", data: `"just a string"`},
		{in: `51-["baz",{"_placeholder":true,"num":0}]`, bins: [][]byte{{1, 2}}, typ: BinaryEvent, nsp: "/", data: `["baz",{"_placeholder":true,"num":0}]`},
		{in: `51-["hi",1,{"_placeholder":true,"num":0}]`, bins: [][]byte{{1, 2}}, typ: BinaryEvent, nsp: "/", data: `["hi",1,{"_placeholder":true,"num":0}]`},
		{in: `61-15["bar",{"_placeholder":true,"num":0}]`, bins: [][]byte{{3}}, typ: BinaryAck, nsp: "/", id: 15, hasID: true, data: `["bar",{"_placeholder":true,"num":0}]`},
		{in: `52-/server-binary,["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, bins: [][]byte{{1, 2, 3}, {4}}, typ: BinaryEvent, nsp: "/server-binary", data: `["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`},
		{in: `510-["ten",{"_placeholder":true,"num":9}]`, bins: make([][]byte, 10), typ: BinaryEvent, nsp: "/", data: `["ten",{"_placeholder":true,"num":9}]`},
		{in: "2[\"padded\"] \t\r\n", typ: Event, nsp: "/", data: `["padded"]`},
		{in: `2["message-back",1,"2",{"3":[true]}]`, typ: Event, nsp: "/", data: `["message-back",1,"2",{"3":[true]}]`},
		// Not an attachment packet: placeholders are plain objects (JS does not reconstruct them).
		{in: `2["x",{"_placeholder":true,"num":7}]`, typ: Event, nsp: "/", data: `["x",{"_placeholder":true,"num":7}]`},
	} {
		var d Decoder
		p := decodeAll(t, &d, tc.in, tc.bins...)
		if p.Type != tc.typ || p.Namespace != tc.nsp || p.ID != tc.id || p.HasID != tc.hasID || string(p.Data) != tc.data {
			t.Errorf("%q: got {%v %q %d %v %q}, want {%v %q %d %v %q}", tc.in,
				p.Type, p.Namespace, p.ID, p.HasID, p.Data, tc.typ, tc.nsp, tc.id, tc.hasID, tc.data)
		}
		if tc.data == "" && p.Data != nil {
			t.Errorf("%q: Data = %q, want nil", tc.in, p.Data)
		}
		if len(p.Attachments) != len(tc.bins) {
			t.Errorf("%q: %d attachments, want %d", tc.in, len(p.Attachments), len(tc.bins))
		}
		if d.Pending() != 0 {
			t.Errorf("%q: decoder still pending %d", tc.in, d.Pending())
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", ErrInvalidPacketType},
		{"abc", ErrInvalidPacketType},
		{"7", ErrInvalidPacketType},
		{"9[]", ErrInvalidPacketType},
		{`2abc["a"]`, ErrInvalidPayload},
		{`2{}`, ErrInvalidPayload},
		{`2[]`, ErrInvalidPayload},
		{`2`, ErrInvalidPayload},
		{`2/chat,`, ErrInvalidPayload},
		{`2[true]`, ErrInvalidPayload},
		{`2[null]`, ErrInvalidPayload},
		{`2[{}]`, ErrInvalidPayload},
		{`2[["a"]]`, ErrInvalidPayload},
		{`2["connect"]`, ErrInvalidPayload},
		{`2["connect_error"]`, ErrInvalidPayload},
		{`2["disconnect"]`, ErrInvalidPayload},
		{`2["disconnecting"]`, ErrInvalidPayload},
		{`2["newListener"]`, ErrInvalidPayload},
		{`2["removeListener"]`, ErrInvalidPayload},
		{`2["\u0063onnect"]`, ErrInvalidPayload},
		{`2["a",]`, ErrInvalidPayload},
		{`2 ["a"]`, ErrInvalidPayload},
		{"2/x,\n[\"a\"]", ErrInvalidPayload},
		{`2["a"`, ErrInvalidPayload},
		{`2["a"]x`, ErrInvalidPayload},
		{`2["a"]["b"]`, ErrInvalidPayload},
		{`2["a",01]`, ErrInvalidPayload},
		{"2[\"a\nb\"]", ErrInvalidPayload},
		{`0[]`, ErrInvalidPayload},
		{`0"str"`, ErrInvalidPayload},
		{`0null`, ErrInvalidPayload},
		{`1{}`, ErrInvalidPayload},
		{`1/admin,[]`, ErrInvalidPayload},
		{`3{}`, ErrInvalidPayload},
		{`312"x"`, ErrInvalidPayload},
		{`4[]`, ErrInvalidPayload},
		{`4true`, ErrInvalidPayload},
		{`5["a"]`, ErrIllegalAttachments},
		{`5-["a"]`, ErrIllegalAttachments},
		{`5x-["a"]`, ErrIllegalAttachments},
		{`51["a"]`, ErrIllegalAttachments},
		{`51`, ErrIllegalAttachments},
		{`511-["a"]`, ErrTooManyAttachments},
		{`599999999999999999999999999-["a"]`, ErrTooManyAttachments},
		{`51-["a",{"_placeholder":true,"num":1}]`, ErrIllegalAttachments},
		{`51-["a",{"_placeholder":true,"num":-1}]`, ErrIllegalAttachments},
		{`51-["a",{"_placeholder":true,"num":0.5}]`, ErrIllegalAttachments},
		{`51-["a",{"_placeholder":true,"num":"0"}]`, ErrIllegalAttachments},
		{`51-["a",{"_placeholder":true}]`, ErrIllegalAttachments},
		{`51-["a",[{"deep":{"_placeholder":true,"num":3}}]]`, ErrIllegalAttachments},
		{`50-["a",{"_placeholder":true,"num":0}]`, ErrIllegalAttachments},
		{`50-["no attachments"]`, ErrIllegalAttachments},
		{`600-[]`, ErrIllegalAttachments},
		{`51-["a",{"\u005fplaceholder":true,"num":2}]`, ErrIllegalAttachments},
		{`51-`, ErrInvalidPayload},
		{`6` + "1-" + `{}`, ErrInvalidPayload},
		{`218446744073709551616["a"]`, ErrInvalidAckID},
		{`2/` + strings.Repeat("n", 1024) + `,["a"]`, ErrInvalidNamespace},
		{`2` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), ErrInvalidPayload},
	} {
		var d Decoder
		p, err := d.Add([]byte(tc.in), false)
		if !errors.Is(err, tc.want) {
			t.Errorf("%.60q: got %v, %v; want %v", tc.in, p, err, tc.want)
		}
		if p != nil {
			t.Errorf("%.60q: packet %v along with error", tc.in, p)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	t.Parallel()
	// Exactly at the limits is accepted.
	var d Decoder
	p := decodeAll(t, &d, `218446744073709551615["a"]`)
	if p.ID != 1<<64-1 {
		t.Errorf("id = %d", p.ID)
	}
	p = decodeAll(t, &d, `2/`+strings.Repeat("n", 1023)+`,["a"]`)
	if len(p.Namespace) != 1024 {
		t.Errorf("namespace length = %d", len(p.Namespace))
	}
	d = Decoder{MaxAttachments: 2, MaxNamespaceLength: 4}
	if _, err := d.Add([]byte(`53-["a"]`), false); !errors.Is(err, ErrTooManyAttachments) {
		t.Errorf("MaxAttachments 2: %v", err)
	}
	if _, err := d.Add([]byte(`2/abcd,["a"]`), false); !errors.Is(err, ErrInvalidNamespace) {
		t.Errorf("MaxNamespaceLength 4: %v", err)
	}
	decodeAll(t, &d, `52-/abc,["a"]`, []byte{1}, []byte{2})
	// A leading zero in the ack id is read as JS's Number() reads it.
	if p := decodeAll(t, &d, `2007["a"]`); p.ID != 7 || !p.HasID {
		t.Errorf("2007: id %d %v", p.ID, p.HasID)
	}
}

func TestDecodeBinarySequence(t *testing.T) {
	t.Parallel()
	var d Decoder
	if _, err := d.Add([]byte{1, 2, 3}, true); !errors.Is(err, ErrUnexpectedBinary) {
		t.Fatalf("binary first: %v", err)
	}
	p, err := d.Add([]byte(`52-["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`), false)
	if p != nil || err != nil {
		t.Fatalf("header: %v %v", p, err)
	}
	if d.Pending() != 2 {
		t.Fatalf("pending %d", d.Pending())
	}
	if p, err = d.Add([]byte{0xa}, true); p != nil || err != nil {
		t.Fatalf("first attachment: %v %v", p, err)
	}
	if _, err = d.Add([]byte(`2["b"]`), false); !errors.Is(err, ErrUnexpectedText) {
		t.Fatalf("text while pending: %v", err)
	}
	// The decoder was reset by the error and works again.
	if d.Pending() != 0 {
		t.Fatalf("pending after error: %d", d.Pending())
	}
	p = decodeAll(t, &d, `61-/x,7[{"_placeholder":true,"num":0}]`, []byte("bin"))
	if !bytes.Equal(p.Attachments[0], []byte("bin")) || p.ID != 7 || p.Namespace != "/x" {
		t.Fatalf("binary ack: %+v", p)
	}
	if _, err := d.Add([]byte{1}, true); !errors.Is(err, ErrUnexpectedBinary) {
		t.Fatalf("binary after completion: %v", err)
	}
}

// A large MaxAttachments does not let a peer make us allocate for attachments it never sends.
func TestDecodeHugeAttachmentClaim(t *testing.T) {
	d := Decoder{MaxAttachments: 1 << 40}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if p, err := d.Add([]byte(`5999999999-["a"]`), false); p != nil || err != nil {
		t.Fatalf("header: %v %v", p, err)
	}
	runtime.ReadMemStats(&after)
	if d.Pending() != 999999999 {
		t.Fatalf("pending %d", d.Pending())
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("%d bytes allocated for the header", n)
	}
	d = Decoder{MaxAttachments: math.MaxInt}
	if _, err := d.Add([]byte(`59223372036854775808-["a"]`), false); !errors.Is(err, ErrTooManyAttachments) {
		t.Errorf("count beyond int: %v", err)
	}
}
