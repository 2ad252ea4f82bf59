package redisadapter

import (
	"testing"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

// The two halves of a broadcast between nodes: encoding what a node
// publishes and decoding what the others receive.
func BenchmarkBroadcastEncode(b *testing.B) {
	p, _ := parser.NewEvent("/", "chat", []any{map[string]any{"user": "alice", "text": "hello, world", "ts": 1700000000000}})
	opts := wireOpts(adapter.BroadcastOptions{Rooms: []string{"room1"}}, true)
	b.ReportAllocs()
	for b.Loop() {
		packet, err := packetTree(p, "/")
		if err != nil {
			b.Fatal(err)
		}
		_ = encodeMsgpack([]any{"LdS2AZ", packet, opts})
	}
}

func BenchmarkBroadcastDecode(b *testing.B) {
	p, _ := parser.NewEvent("/", "chat", []any{map[string]any{"user": "alice", "text": "hello, world", "ts": 1700000000000}})
	packet, _ := packetTree(p, "/")
	msg := encodeMsgpack([]any{"LdS2AZ", packet, wireOpts(adapter.BroadcastOptions{Rooms: []string{"room1"}}, true)})
	b.ReportAllocs()
	for b.Loop() {
		v, err := decodeMsgpack(msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := treePacket(v.([]any)[1], "/"); err != nil {
			b.Fatal(err)
		}
	}
}
