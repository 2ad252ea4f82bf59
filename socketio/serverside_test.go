package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/adapter"
)

func TestServerSideEmitSingleServer(t *testing.T) {
	srv := NewServer(nil)
	if err := srv.Of("/").ServerSideEmit("hello", 1); !errors.Is(err, adapter.ErrServerSideEmitUnsupported) {
		t.Fatalf("err %v", err)
	}
	for _, name := range []string{"connect", "connection", "new_namespace"} {
		if err := srv.Of("/").ServerSideEmit(name); !errors.Is(err, ErrReservedEvent) {
			t.Fatalf("%s: err %v", name, err)
		}
	}
}

// loopAdapter is a two-server "cluster" in one process: its server-side
// emits reach the peer namespace through the adapter.Namespace interface,
// as a Redis adapter's would.
type loopAdapter struct {
	adapter.Adapter
	peer *adapter.Namespace
}

func (l *loopAdapter) ServerSideEmit(_ context.Context, args []json.RawMessage, ack func([]json.RawMessage, error)) error {
	var reply func(json.RawMessage)
	if ack != nil {
		reply = func(r json.RawMessage) { ack([]json.RawMessage{r}, nil) }
	}
	(*l.peer).ServerSideEmit(args, reply)
	return nil
}

func TestServerSideEmitThroughAClusterAdapter(t *testing.T) {
	var nspA, nspB adapter.Namespace
	srvA := NewServer(&ServerOptions{Adapter: func(n adapter.Namespace) adapter.Adapter {
		nspA = n
		return &loopAdapter{Adapter: adapter.NewInMemory(n), peer: &nspB}
	}})
	srvB := NewServer(&ServerOptions{Adapter: func(n adapter.Namespace) adapter.Adapter {
		nspB = n
		return &loopAdapter{Adapter: adapter.NewInMemory(n), peer: &nspA}
	}})
	got := make(chan string, 1)
	srvB.OnServerSideEmit(func(event string, args []json.RawMessage, ack func(any)) {
		var parts []string
		for _, a := range args {
			parts = append(parts, string(a))
		}
		got <- event + " [" + strings.Join(parts, ",") + "]"
		ack(map[string]any{"from": "B"})
		ack("ignored: second call")
	})
	if err := srvA.ServerSideEmit("ping", 1, "two"); err != nil {
		t.Fatal(err)
	}
	if g := <-got; g != `ping [1,"two"]` {
		t.Fatalf("B got %q", g)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	replies, err := srvA.ServerSideEmitWithAck(ctx, "ask")
	<-got
	if err != nil || len(replies) != 1 || string(replies[0]) != `{"from":"B"}` {
		t.Fatalf("replies %s, %v", replies, err)
	}
}
