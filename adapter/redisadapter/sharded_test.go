package redisadapter

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

type fakeNsp struct{}

func (fakeNsp) Name() string                                            { return "/" }
func (fakeNsp) Prepare(p *parser.Packet) (adapter.Prepared, error)      { return nil, nil }
func (fakeNsp) NextAckID() uint64                                       { return 0 }
func (fakeNsp) ServerSideEmit([]json.RawMessage, func(json.RawMessage)) {}

// published returns the next message the adapter queued for Redis.
func published(t *testing.T, l *link) outMessage {
	t.Helper()
	select {
	case m := <-l.out:
		return m
	case <-time.After(time.Second):
		t.Fatal("nothing published")
		return outMessage{}
	}
}

// FEATURES.md 3.4 vectors and channel rules.
func TestShardedWire(t *testing.T) {
	a := newSharded(fakeNsp{}, nil, (*ShardedOptions)(nil).withDefaults())
	a.uid = "80a79722c14af3dc"

	if err := a.publish(msgBroadcast, mustTree(t, a, event(t, "hello", "world"), []string{"room1"}), []string{"room1"}); err != nil {
		t.Fatal(err)
	}
	m := published(t, a.link)
	const want = `{"type":3,"data":{"packet":{"type":2,"data":["hello","world"]},"opts":{"rooms":["room1"],"except":[],"flags":{}}},"uid":"80a79722c14af3dc","nsp":"/"}`
	if m.channel != "socket.io#/#room1#" || string(m.payload) != want {
		t.Fatalf("%s %s", m.channel, m.payload)
	}

	id := strings.Repeat("x", 20) // looks like a socket id: main channel
	_ = a.publish(msgBroadcast, mustTree(t, a, event(t, "hello"), []string{id}), []string{id})
	if m := published(t, a.link); m.channel != "socket.io#/#" {
		t.Fatalf("broadcast to a socket id went to %s", m.channel)
	}

	_ = a.publish(msgBroadcast, mustTree(t, a, event(t, "bin", []byte{1, 2}), nil), nil)
	if m := published(t, a.link); !strings.HasPrefix(hex.EncodeToString(m.payload), "84a47479706503a46461746182a67061636b657482") {
		t.Fatalf("binary broadcast %x", m.payload)
	}

	_ = a.publish(msgSocketsJoin, newObject("opts", wireOpts(adapter.BroadcastOptions{Rooms: []string{"room1"}}, true),
		"rooms", strList([]string{"room2"})), nil)
	if m := published(t, a.link); m.channel != "socket.io#/#" ||
		string(m.payload) != `{"type":4,"data":{"opts":{"rooms":["room1"],"except":[],"flags":{}},"rooms":["room2"]},"uid":"80a79722c14af3dc","nsp":"/"}` {
		t.Fatalf("%s %s", m.channel, m.payload)
	}

	a.publishResponse("abc", msgBroadcastAck, newObject("requestId", "r1", "packet", []any{"ping"}))
	if m := published(t, a.link); m.channel != "socket.io#/#abc#" ||
		string(m.payload) != `{"type":12,"data":{"requestId":"r1","packet":["ping"]},"uid":"80a79722c14af3dc","nsp":"/"}` {
		t.Fatalf("%s %s", m.channel, m.payload)
	}

	a.opts.SubscriptionMode = Static
	_ = a.publish(msgBroadcast, mustTree(t, a, event(t, "hello"), []string{"room1"}), []string{"room1"})
	if m := published(t, a.link); m.channel != "socket.io#/#" {
		t.Fatalf("static mode used %s", m.channel)
	}
}

func mustTree(t *testing.T, a *ShardedAdapter, p *parser.Packet, rooms []string) *object {
	t.Helper()
	packet, err := packetTree(p, "")
	if err != nil {
		t.Fatal(err)
	}
	return newObject("packet", packet, "opts", wireOpts(adapter.BroadcastOptions{Rooms: rooms}, true))
}
