package engineio

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) {
	parkAfter = 3 * time.Millisecond // park (nearly) every idle WebSocket, in every test
	leakcheck.Main(m)
}

func TestPacketGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		wire string
		p    Packet
	}{
		{"0", Packet{Type: PacketOpen}},
		{"1", Packet{Type: PacketClose}},
		{"2", Packet{Type: PacketPing}},
		{"2probe", Packet{Type: PacketPing, Data: []byte("probe")}},
		{"3probe", Packet{Type: PacketPong, Data: []byte("probe")}},
		{"4hello", Packet{Type: PacketMessage, Data: []byte("hello")}},
		{"4€", Packet{Type: PacketMessage, Data: []byte("€")}},
		{"5", Packet{Type: PacketUpgrade}},
		{"6", Packet{Type: PacketNoop}},
		{"bAQIDBA==", Packet{Type: PacketMessage, Data: []byte{1, 2, 3, 4}, Binary: true}},
		{"b", Packet{Type: PacketMessage, Data: []byte{}, Binary: true}},
	}
	for _, c := range cases {
		if got := string(AppendPacket(nil, c.p)); got != c.wire {
			t.Errorf("AppendPacket(%+v) = %q, want %q", c.p, got, c.wire)
		}
		if n := EncodedLen(c.p); n != len(c.wire) {
			t.Errorf("EncodedLen(%q) = %d", c.wire, n)
		}
		p, err := DecodePacket([]byte(c.wire))
		if err != nil {
			t.Fatalf("DecodePacket(%q): %v", c.wire, err)
		}
		if p.Type != c.p.Type || p.Binary != c.p.Binary || !bytes.Equal(p.Data, c.p.Data) {
			t.Errorf("DecodePacket(%q) = %+v, want %+v", c.wire, p, c.p)
		}
	}
}

func TestDecodePacketErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "abc", "7", "9x", "b!!!", "bAQI", "\x1e"} {
		if _, err := DecodePacket([]byte(in)); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("DecodePacket(%q) error = %v, want ErrInvalidPacket", in, err)
		}
	}
}

func TestDecodedDataIsCapped(t *testing.T) {
	t.Parallel()
	pkts, err := DecodePayload([]byte("4ab\x1e4cd"))
	if err != nil {
		t.Fatal(err)
	}
	_ = append(pkts[0].Data, 'X')
	if string(pkts[1].Data) != "cd" {
		t.Fatalf("appending to one message overwrote the next: %q", pkts[1].Data)
	}
}

func TestPayloadGolden(t *testing.T) {
	t.Parallel()
	pkts := []Packet{
		{Type: PacketMessage, Data: []byte("hello")},
		{Type: PacketPing},
		{Type: PacketMessage, Data: []byte("world")},
		{Type: PacketMessage, Data: []byte{1, 2, 3}, Binary: true},
	}
	const wire = "4hello\x1e2\x1e4world\x1ebAQID"
	if got := string(AppendPayload(nil, pkts...)); got != wire {
		t.Fatalf("AppendPayload = %q, want %q", got, wire)
	}
	if n := PayloadLen(pkts...); n != len(wire) {
		t.Fatalf("PayloadLen = %d, want %d", n, len(wire))
	}
	got, err := DecodePayload([]byte(wire))
	if err != nil || len(got) != len(pkts) {
		t.Fatalf("DecodePayload = %v, %v", got, err)
	}
	for i := range pkts {
		if got[i].Type != pkts[i].Type || got[i].Binary != pkts[i].Binary || !bytes.Equal(got[i].Data, pkts[i].Data) {
			t.Errorf("packet %d = %+v, want %+v", i, got[i], pkts[i])
		}
	}
}

func TestDecodePayloadStopsAtFirstError(t *testing.T) {
	t.Parallel()
	got, err := DecodePayload([]byte("4test1\x1eabc\x1e4test3"))
	if !errors.Is(err, ErrInvalidPacket) {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 1 || string(got[0].Data) != "test1" {
		t.Fatalf("packets before the error = %+v", got)
	}
	if _, err := DecodePayload(nil); !errors.Is(err, ErrInvalidPacket) {
		t.Fatalf("empty payload: err = %v", err)
	}
}

func FuzzDecodePacket(f *testing.F) {
	for _, s := range []string{"0", "1", "2", "2probe", "3probe", "4hello", "5", "6", "bAQIDBA==", "abc", "", "4€", "b=", "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := DecodePacket(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("error not wrapping ErrInvalidPacket: %v", err)
			}
			return
		}
		// round trip: re-encoding and decoding again yields the same packet
		q, err := DecodePacket(AppendPacket(nil, p))
		if err != nil || q.Type != p.Type || q.Binary != p.Binary || !bytes.Equal(q.Data, p.Data) {
			t.Fatalf("round trip of %q: %+v -> %+v, %v", in, p, q, err)
		}
		if !p.Binary && !bytes.Equal(AppendPacket(nil, p), in) {
			t.Fatalf("text packet %q did not re-encode identically", in)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{
		"4test1\x1e4test2\x1e4test3", "4hello\x1e2\x1e4world", "bAQIDBA==\x1e4x", "1", "6\x1e1",
		"4\x1e", "\x1e", "abc", "4a\x1eb!!", "0{\"sid\":\"x\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		pkts, err := DecodePayload(in)
		if err != nil && !errors.Is(err, ErrInvalidPacket) {
			t.Fatalf("error not wrapping ErrInvalidPacket: %v", err)
		}
		if len(pkts) > bytes.Count(in, []byte{recordSeparator})+1 {
			t.Fatalf("%d packets from %d separators", len(pkts), bytes.Count(in, []byte{recordSeparator}))
		}
		if err != nil {
			return
		}
		enc := AppendPayload(nil, pkts...)
		if len(enc) != PayloadLen(pkts...) {
			t.Fatalf("PayloadLen mismatch")
		}
		again, err := DecodePayload(enc)
		if err != nil || len(again) != len(pkts) {
			t.Fatalf("round trip of %q: %v", in, err)
		}
		for i := range pkts {
			if again[i].Type != pkts[i].Type || again[i].Binary != pkts[i].Binary || !bytes.Equal(again[i].Data, pkts[i].Data) {
				t.Fatalf("round trip packet %d: %+v -> %+v", i, pkts[i], again[i])
			}
		}
	})
}
