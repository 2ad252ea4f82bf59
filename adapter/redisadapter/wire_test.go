package redisadapter

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/internal/leakcheck"
	"github.com/seed9706/socketio/parser"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func event(t *testing.T, name string, args ...any) *parser.Packet {
	t.Helper()
	p, err := parser.NewEvent("/", name, args)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FEATURES.md 3.3: io.to("room1").emit("hello","world",1) from node LdS2AZ.
func TestBroadcastVector(t *testing.T) {
	const want = "93a64c645332415a83a47479706502a46461746193a568656c6c6fa5776f726c6401a36e7370a12f83a5726f6f6d7391a5726f6f6d31a665786365707490a5666c61677380"
	packet, err := packetTree(event(t, "hello", "world", 1), "/")
	if err != nil {
		t.Fatal(err)
	}
	got := encodeMsgpack([]any{"LdS2AZ", packet, wireOpts(adapter.BroadcastOptions{Rooms: []string{"room1"}}, true)})
	if hex.EncodeToString(got) != want {
		t.Fatalf("got  %x\nwant %s", got, want)
	}
	v, err := decodeMsgpack(got)
	if err != nil {
		t.Fatal(err)
	}
	if j := string(toJSON(v)); j != `["LdS2AZ",{"type":2,"data":["hello","world",1],"nsp":"/"},{"rooms":["room1"],"except":[],"flags":{}}]` {
		t.Fatalf("decoded %s", j)
	}
}

// FEATURES.md 3.3: io.timeout(100).emit("withack",42,cb), request id xEIY92.
func TestBroadcastWithAckVector(t *testing.T) {
	const want = "85a3756964a64c645332415aa9726571756573744964a6784549593932a47479706507a67061636b657483a47479706502a46461746192a77769746861636b2aa36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f757464"
	packet, _ := packetTree(event(t, "withack", 42), "/")
	msg := newObject("uid", "LdS2AZ", "requestId", "xEIY92", "type", float64(reqBroadcast), "packet", packet,
		"opts", wireOpts(adapter.BroadcastOptions{Flags: adapter.Flags{Timeout: 100 * time.Millisecond}}, true))
	if got := encodeMsgpack(msg); hex.EncodeToString(got) != want {
		t.Fatalf("got  %x\nwant %s", got, want)
	}
	v, err := decodeMessage(mustHex(t, want))
	if err != nil {
		t.Fatal(err)
	}
	p, err := treePacket(obj(v).get("packet"), "/")
	if err != nil || p.String() != `2["withack",42]` {
		t.Fatalf("packet %v, %v", p, err)
	}
	if o := readOpts(obj(v).get("opts"), true); o.Flags.Timeout != 100*time.Millisecond {
		t.Fatalf("opts %+v", o)
	}
}

func TestJSONRequestVectors(t *testing.T) {
	opts := wireOpts(adapter.BroadcastOptions{Rooms: []string{"room1"}}, false)
	for _, tc := range []struct {
		got  *object
		want string
	}{
		{newObject("uid", "LdS2AZ", "type", float64(reqRemoteJoin), "opts", opts, "rooms", strList([]string{"room2"})),
			`{"uid":"LdS2AZ","type":2,"opts":{"rooms":["room1"],"except":[]},"rooms":["room2"]}`},
		{newObject("uid", "LdS2AZ", "type", float64(reqRemoteDisconnect), "opts", opts, "close", true),
			`{"uid":"LdS2AZ","type":4,"opts":{"rooms":["room1"],"except":[]},"close":true}`},
		{newObject("uid", "LdS2AZ", "type", float64(reqServerSideEmit), "data", []any{rawJSON(`"ping"`), rawJSON(`"x"`)}),
			`{"uid":"LdS2AZ","type":6,"data":["ping","x"]}`},
		{newObject("uid", "LdS2AZ", "requestId", "AKhS7V", "type", float64(reqRemoteFetch), "opts", wireOpts(adapter.BroadcastOptions{}, false)),
			`{"uid":"LdS2AZ","requestId":"AKhS7V","type":5,"opts":{"rooms":[],"except":[]}}`},
	} {
		if got := string(toJSON(tc.got)); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
		v, err := decodeMessage([]byte(tc.want))
		if err != nil || string(toJSON(v)) != tc.want {
			t.Errorf("round trip of %s: %s, %v", tc.want, toJSON(v), err)
		}
	}
}

// FEATURES.md 3.5: the emitter's broadcast to room1.
func TestEmitterVector(t *testing.T) {
	const want = "93a7656d697474657283a47479706502a46461746192a474696d65a174a36e7370a12f83a5726f6f6d7391a5726f6f6d31a5666c61677380a665786365707490"
	e := &Emitter{opts: EmitterOptions{Key: DefaultKey}, nsp: "/"}
	channel, payload, err := e.To("room1").broadcastMessage("time", []any{"t"})
	if err != nil {
		t.Fatal(err)
	}
	if channel != "socket.io#/#room1#" || hex.EncodeToString(payload) != want {
		t.Fatalf("channel %s\ngot  %x\nwant %s", channel, payload, want)
	}
}

// FEATURES.md 3.5: the emitter's requests carry no uid.
func TestEmitterRequests(t *testing.T) {
	e := NewEmitter(nil, nil)
	if got := string(e.requestMessage(reqRemoteJoin, "rooms", strList([]string{"r"}))); got != `{"type":2,"opts":{"rooms":[],"except":[]},"rooms":["r"]}` {
		t.Errorf("join: %s", got)
	}
	if got := string(e.Of("admin").In("a").Except("b").requestMessage(reqRemoteDisconnect, "close", false)); got != `{"type":4,"opts":{"rooms":["a"],"except":["b"]},"close":false}` {
		t.Errorf("disconnect: %s", got)
	}
	if c := e.Of("admin").requestChannel(); c != "socket.io-request#/admin#" {
		t.Errorf("channel %s", c)
	}
	if _, _, err := e.broadcastMessage("connect", nil); !errors.Is(err, ErrReservedEvent) {
		t.Errorf("reserved name: %v", err)
	}
	channel, payload, _ := e.Volatile().Compress(true).To("a", "b").broadcastMessage("x", nil)
	v, _ := decodeMsgpack(payload)
	if channel != "socket.io#/#" || string(toJSON(v)) != `["emitter",{"type":2,"data":["x"],"nsp":"/"},{"rooms":["a","b"],"flags":{"volatile":true,"compress":true},"except":[]}]` {
		t.Errorf("%s %s", channel, toJSON(v))
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	p := event(t, "bin", []byte{1, 2, 3}, map[string]any{"nested": []byte{4}})
	tree, err := packetTree(p, "/")
	if err != nil {
		t.Fatal(err)
	}
	enc := encodeMsgpack(tree)
	if !bytes.Contains(enc, []byte{0xc4, 0x03, 1, 2, 3}) || !bytes.Contains(enc, []byte("\xa4type\x02")) {
		t.Fatalf("binary not encoded as bin in a type 2 packet: %x", enc)
	}
	v, err := decodeMsgpack(enc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := treePacket(v, "/")
	if err != nil {
		t.Fatal(err)
	}
	if back.Type != parser.BinaryEvent || back.String() != p.String() || len(back.Attachments) != 2 ||
		!bytes.Equal(back.Attachments[0], []byte{1, 2, 3}) || !bytes.Equal(back.Attachments[1], []byte{4}) {
		t.Fatalf("back %v %v, want %v", back, back.Attachments, p)
	}
}

// Numbers as notepack.io writes them.
func TestNumberEncoding(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0, "00"}, {math.Copysign(0, -1), "00"}, {127, "7f"}, {128, "cc80"}, {255, "ccff"}, {256, "cd0100"},
		{65536, "ce00010000"}, {4294967296, "cf0000000100000000"}, {-1, "ff"}, {-32, "e0"}, {-33, "d0df"},
		{-129, "d1ff7f"}, {-32769, "d2ffff7fff"}, {-2147483649, "d3ffffffff7fffffff"}, {1.5, "cb3ff8000000000000"},
		{math.Inf(1), "cb7ff0000000000000"},
	} {
		if got := hex.EncodeToString(appendNumber(nil, tc.f)); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.f, got, tc.want)
		}
		if v, err := decodeMsgpack(mustHex(t, tc.want)); err != nil || v.(float64) != tc.f {
			t.Errorf("decode %s = %v, %v", tc.want, v, err)
		}
	}
}

// JS property order: integer keys first, ascending; duplicates keep their place.
func TestObjectKeyOrder(t *testing.T) {
	v, err := parseJSON([]byte(`{"b":1,"2":2,"a":3,"1":4,"b":5,"01":6}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(toJSON(v)); got != `{"1":4,"2":2,"b":5,"a":3,"01":6}` {
		t.Fatalf("got %s", got)
	}
	// Many integer keys in reverse order (linear-ish work, not quadratic).
	var in, want bytes.Buffer
	const n = 20000
	in.WriteString("{")
	want.WriteString("{")
	for i := range n {
		if i > 0 {
			in.WriteString(",")
			want.WriteString(",")
		}
		fmt.Fprintf(&in, `"%d":%d`, n-1-i, i)
		fmt.Fprintf(&want, `"%d":%d`, i, n-1-i)
	}
	in.WriteString("}")
	want.WriteString("}")
	v, err = parseJSON(in.Bytes(), nil)
	if err != nil || string(toJSON(v)) != want.String() {
		t.Fatalf("large object: %v", err)
	}
	if back, err := decodeMsgpack(encodeMsgpack(v)); err != nil || string(toJSON(back)) != want.String() {
		t.Fatalf("large object through msgpack: %v", err)
	}
}

func TestMsgpackExtensions(t *testing.T) {
	for _, tc := range []struct{ in, json string }{
		{"d6ff00000000", `"1970-01-01T00:00:00.000Z"`},
		{"d7ff000000000000003c", `"1970-01-01T00:01:00.000Z"`},
		{"92d40000c0", `[null,null]`},        // undefined, then nil
		{"82a161d40000a162c0", `{"b":null}`}, // undefined property left out
		{"d501abcd", `[1,{"type":"Buffer","data":[171,205]}]`},
	} {
		v, err := decodeMsgpack(mustHex(t, tc.in))
		if err != nil || string(toJSON(v)) != tc.json {
			t.Errorf("%s: %s, %v; want %s", tc.in, toJSON(v), err, tc.json)
		}
	}
}

func TestMalformedMsgpack(t *testing.T) {
	for _, in := range []string{"", "dc", "dcffff", "df00000002a161", "c4ff00", "c1", "9200", "deffff", "c7", "d9"} {
		if _, err := decodeMsgpack(mustHex(t, in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	deep := bytes.Repeat([]byte{0x91}, maxDepth+10)
	if _, err := decodeMsgpack(append(deep, 0xc0)); err == nil {
		t.Error("deep nesting accepted")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		"93a64c645332415a83a47479706502a46461746193a568656c6c6fa5776f726c6401a36e7370a12f83a5726f6f6d7391a5726f6f6d31a665786365707490a5666c61677380",
		"85a3756964a64c645332415aa9726571756573744964a6784549593932a47479706507a67061636b657483a47479706502a46461746192a77769746861636b2aa36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f757464",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Add([]byte(`{"uid":"LdS2AZ","requestId":"AKhS7V","type":5,"opts":{"rooms":[],"except":[]}}`))
	f.Add([]byte(`{"type":3,"data":{"packet":{"type":2,"data":["hello","world"]},"opts":{"rooms":["room1"],"except":[],"flags":{}}},"uid":"80a79722c14af3dc","nsp":"/"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeMessage(b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode, and its packet (if any) convert.
		enc := encodeMsgpack(v)
		if _, err := decodeMsgpack(enc); err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		_ = toJSON(v)
		if arr, ok := v.([]any); ok && len(arr) > 1 {
			if p, err := treePacket(arr[1], "/"); err == nil {
				if _, err := p.Args(); err != nil {
					t.Fatalf("packet %s: %v", p, err)
				}
			}
		}
	})
}

// FuzzHandlers feeds any payload to every message handler of both adapters
// (no Redis: what they publish stays in the queue). Nothing may panic.
func FuzzHandlers(f *testing.F) {
	for _, s := range []string{
		"93a64c645332415a83a47479706502a46461746193a568656c6c6fa5776f726c6401a36e7370a12f83a5726f6f6d7391a5726f6f6d31a665786365707490a5666c61677380",
		"85a3756964a64c645332415aa9726571756573744964a6784549593932a47479706507a67061636b657483a47479706502a46461746192a77769746861636b2aa36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f757464",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	for _, s := range []string{
		`{"uid":"x","requestId":"a","type":5,"opts":{"rooms":[],"except":[]}}`,
		`{"requestId":"j1","type":2,"sid":"abc","room":"legacy"}`,
		`{"uid":"x","type":6,"data":["ping",1],"requestId":"r"}`,
		`{"type":8,"requestId":"a","clientCount":2}`,
		`{"requestId":"a","sockets":[{"id":"s","handshake":{"headers":{"a":["b"]},"query":{"q":"1"}},"rooms":["r"],"data":{}}]}`,
		`{"type":3,"data":{"packet":{"type":2,"data":["hello","world"]},"opts":{"rooms":["room1"],"except":[],"flags":{}}},"uid":"80a79722c14af3dc","nsp":"/"}`,
		`{"type":7,"data":{"opts":{"rooms":[],"except":[]},"requestId":"q"},"uid":"u","nsp":"/"}`,
		`{"type":9,"data":{"packet":["ev"],"requestId":"q"},"uid":"u","nsp":"/"}`,
		`{"type":12,"data":{"requestId":"q","packet":1},"uid":"u","nsp":"/"}`,
	} {
		f.Add([]byte(s))
	}
	classic := newAdapter(fakeNsp{}, nil, (*Options)(nil).withDefaults())
	sharded := newSharded(fakeNsp{}, nil, (*ShardedOptions)(nil).withDefaults())
	classic.addAckRequest("a", time.Hour, func(int) {}, func(*parser.Packet) {})
	sharded.addAckRequest("q", time.Hour, func(int) {}, func(*parser.Packet) {})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = classic.onBroadcast(classic.channel, b)
		_ = classic.onRequest(b)
		_ = classic.onResponse(b)
		_ = sharded.onMessage(sharded.channel, b)
		_ = sharded.onMessage(sharded.responseChannel, b)
		for _, a := range []*core{&classic.core, &sharded.core} {
			for len(a.link.out) > 0 { // keep the queues from filling
				<-a.link.out
			}
		}
	})
}
