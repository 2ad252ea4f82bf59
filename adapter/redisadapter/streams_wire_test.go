package redisadapter

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/adapter"
)

func TestStreamNameHash(t *testing.T) {
	h := &streamsHub{opts: (&StreamsOptions{StreamCount: 3}).withDefaults()}
	// Expected values computed with the JS hashCode and %.
	for nsp, want := range map[string]string{
		"/":            "socket.io-2",
		"/chat":        "socket.io-1",
		"/chat/room":   "socket.io-0",
		"/namespace-x": "socket.io--1", // negative hash, as in JS
	} {
		if got := h.streamName(nsp); got != want {
			t.Errorf("streamName(%q) = %q, want %q", nsp, got, want)
		}
	}
	if got := (&streamsHub{opts: (&StreamsOptions{}).withDefaults()}).streamName("/chat"); got != "socket.io" {
		t.Errorf("one stream: %q", got)
	}
}

func TestSessionEncoding(t *testing.T) {
	s := &adapter.Session{SID: "sid", PID: "pid", Rooms: []string{"sid", "r"}, Data: map[string]any{"x": 1}, Offset: "5-0"}
	raw := encodeSession(s)
	// fixmap of 5: sid, pid, rooms, data, offset
	b, _ := base64.StdEncoding.DecodeString(raw)
	if b[0] != 0x85 {
		t.Fatalf("session msgpack %x", b)
	}
	got, err := decodeSession(raw)
	if err != nil || got.SID != "sid" || got.PID != "pid" || fmt.Sprint(got.Rooms) != "[sid r]" ||
		fmt.Sprintf("%s", got.Data) != `{"x":1}` || got.Offset != "5-0" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []string{"", "!!", base64.StdEncoding.EncodeToString([]byte{0x91, 0x01})} {
		if _, err := decodeSession(bad); err == nil {
			t.Errorf("session %q decoded", bad)
		}
	}
}

func TestStreamIDs(t *testing.T) {
	a, ok := parseStreamID("1700000000000-5")
	if !ok || a.String() != "1700000000000-5" || a.next() != "1700000000000-6" {
		t.Fatalf("%v %v", a, ok)
	}
	b, _ := parseStreamID("1700000000001-0")
	if !b.after(a) || a.after(b) || a.after(a) {
		t.Fatal("order")
	}
	for _, bad := range []string{"", "1", "1-", "-1", "a-1", "1-1-1", "99999999999999999999-0"} {
		if _, ok := parseStreamID(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// FuzzStreamEntry feeds stream entries to the decoder and to what a replay
// does with them: no panic, whatever Redis holds.
func FuzzStreamEntry(f *testing.F) {
	f.Add("3", `{"packet":{"type":2,"data":["hello","world"]},"opts":{"rooms":["room1"],"except":[],"flags":{}}}`)
	f.Add("3", "gqZwYWNrZXSCpHR5cGUCpGRhdGGSo2JpbsQCAQKkb3B0c4Olcm9vbXORpXJvb20xpmV4Y2VwdJClZmxhZ3OA")
	f.Add("4", `{"opts":{"rooms":[],"except":[]},"rooms":["a"]}`)
	f.Add("9", `{"packet":["hello",1]}`)
	f.Add("x", "{")
	f.Fuzz(func(t *testing.T, kind, data string) {
		e := redis.XMessage{ID: "1-0", Values: map[string]any{"uid": "u", "nsp": "/", "type": kind, "data": data}}
		_, _, _, d, err := decodeEntry(e)
		if err != nil {
			return
		}
		opts := readOpts(d.get("opts"), true)
		p, err := treePacket(d.get("packet"), "/")
		if err != nil || !adapter.Storable(p, opts) || !adapter.SessionIncludes([]string{"room1"}, opts) {
			return
		}
		adapter.AppendOffset(p, e.ID)
		if adapter.PacketOffset(p) != e.ID {
			t.Fatalf("offset of %s", p)
		}
	})
}

func FuzzSession(f *testing.F) {
	f.Add(encodeSession(&adapter.Session{SID: "s", PID: "p", Rooms: []string{"s"}, Data: map[string]any{"a": []any{1, "b"}}, Offset: "1-0"}))
	f.Add("gqNzaWShc6NwaWShcA==")
	f.Fuzz(func(t *testing.T, raw string) {
		_, _ = decodeSession(raw)
	})
}
