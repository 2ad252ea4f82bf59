package socketio

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/rawclient"
)

// An event handler runs on the WebSocket read goroutine when no other is
// at work, but reading never waits for it: a handler waiting for an ack
// from its own client gets it, and later events, other namespaces and
// heartbeats go on meanwhile, in order.
func TestInlineHandlerWaitingOnItsOwnClient(t *testing.T) {
	srv, hs := newTestServer(t, &ServerOptions{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	release := make(chan struct{})
	srv.OnConnection(func(s *Socket) {
		s.On("ask", func(e *Event) {
			reply, err := s.EmitWithAck(context.Background(), "question")
			var answer string
			if err == nil {
				err = reply.Args(&answer)
			}
			_ = e.Ack(answer, fmt.Sprint(err))
		})
		s.On("block", func(e *Event) {
			<-release // several ping intervals
			_ = e.Ack("unblocked")
		})
		s.On("next", func(e *Event) { _ = e.Ack("next") })
	})
	srv.Of("/other").OnConnection(func(s *Socket) {
		s.On("ping-other", func(e *Event) { _ = e.Ack("pong-other") })
	})
	c := rawclient.WebSocket(t, hs.URL, "/socket.io/")
	c.Connect("/", "")

	c.Send(`421["ask"]`)
	c.Expect(`420["question"]`)
	c.Send(`430["yes"]`) // read while the "ask" handler waits for it
	c.Expect(`431["yes","<nil>"]`)

	c.Send(`422["block"]`)
	c.Send(`423["next"]`) // queued behind "block": handlers of a socket run in order
	c.Connect("/other", "")
	c.Send(`42/other,4["ping-other"]`)
	c.Expect(`43/other,4["pong-other"]`)
	time.AfterFunc(400*time.Millisecond, func() { close(release) }) // several ping intervals
	c.Expect(`432["unblocked"]`, `433["next"]`)                     // meanwhile, pings come and are answered
	if n := srv.Engine().ClientsCount(); n != 1 {
		t.Fatalf("%d clients, want 1: the session timed out while a handler waited", n)
	}
}
