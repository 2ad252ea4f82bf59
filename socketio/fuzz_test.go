package socketio

import (
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/engineio"
)

// FuzzConnInput feeds arbitrary Engine.IO messages to a connection: the
// server must never panic, and once the connection closes no socket may
// stay behind. Messages are separated by \x1e; a leading "b" marks binary.
func FuzzConnInput(f *testing.F) {
	for _, seed := range []string{
		"40",
		`40{"token":"123"}` + "\x1e" + `42["message",1,"2",{"3":[true]}]`,
		"40\x1e" + `421["message-with-ack",1]` + "\x1e430[]",
		"40/custom,\x1e41/custom,\x1e" + `42["message","x"]`,
		"40\x1e" + `451-["message",{"_placeholder":true,"num":0}]` + "\x1eb\x01\x02\x03",
		"40\x1e" + `452-7["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]` + "\x1eb\x01\x1eb\x02",
		"40/random,", "4abc", "42{}", `42abc["x"]`, "41", "40\x1e40", "40\x1e44{}", "b\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		srv := NewServer(nil)
		suiteHandlers(srv)
		srv.Of("/custom").OnConnection(func(s *Socket) {
			s.On("message", func(e *Event) { _ = s.Broadcast().Emit("message", e.Values()...) })
		})
		c := newConn(srv, &sinkSession{})
		for _, m := range strings.Split(input, "\x1e") {
			data, binary := strings.CutPrefix(m, "b")
			c.onMessage(engineio.Message{Data: []byte(data), Binary: binary})
		}
		c.onClose(ReasonTransportClose)
		deadline := time.Now().Add(5 * time.Second)
		for _, n := range srv.namespaces() {
			for len(n.Sockets()) > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%d sockets left in %s after close", len(n.Sockets()), n.Name())
				}
				time.Sleep(time.Millisecond)
			}
		}
	})
}
