package socketio

import (
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/engineio"
)

// FuzzConnInput feeds arbitrary Engine.IO message payloads (Socket.IO
// packets) to a connection: the server must never panic, and once the
// connection closes no socket may stay behind. Messages are separated by
// \x1e; a leading "b" marks a binary one.
func FuzzConnInput(f *testing.F) {
	for _, seed := range []string{
		"0",
		`0{"token":"123"}` + "\x1e" + `2["message",1,"2",{"3":[true]}]`,
		"0\x1e" + `21["message-with-ack",1]` + "\x1e30[]",
		"0/custom,\x1e1/custom,\x1e" + `2["message","x"]`,
		"0\x1e" + `51-["message",{"_placeholder":true,"num":0}]` + "\x1eb\x01\x02\x03",
		"0\x1e" + `52-7["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]` + "\x1eb\x01\x1eb\x02",
		"0/random,", "abc", "2{}", `2abc["x"]`, "1", "0\x1e0", "0\x1e4{}", "b\x00",
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

// FuzzRecoveryInput is FuzzConnInput on a server with connection state
// recovery, after a first client left a session behind: "$PID" in the input
// is that session's private id, so restores succeed, fail and race.
func FuzzRecoveryInput(f *testing.F) {
	for _, seed := range []string{
		`0{"pid":"$PID","offset":"1"}`,
		`0{"pid":"$PID"}` + "\x1e" + `2["message","x"]`,
		`0{"pid":"$PID","offset":"zz"}`,
		`0{"pid":"$PID","offset":1}`,
		`0{"pid":1,"offset":"1"}`,
		`0{"pid":"$PID","offset":"1"}` + "\x1e" + `0/custom,{"pid":"$PID"}` + "\x1e1",
		`0{"pid":"$PID","offset":"0"}` + "\x1e0",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		srv := NewServer(&ServerOptions{ConnectionStateRecovery: &ConnectionStateRecovery{}})
		suiteHandlers(srv)
		srv.Of("/custom")
		first := newConn(srv, &sinkSession{})
		first.onMessage(engineio.Message{Data: []byte("0")})
		// waitSockets waits until "/" has want sockets and the others none.
		waitSockets := func(want int) {
			deadline := time.Now().Add(5 * time.Second)
			for _, n := range srv.namespaces() {
				w := 0
				if n.Name() == "/" {
					w = want
				}
				for len(n.Sockets()) != w {
					if time.Now().After(deadline) {
						t.Fatalf("%d sockets in %s, want %d", len(n.Sockets()), n.Name(), w)
					}
					time.Sleep(time.Millisecond)
				}
			}
		}
		waitSockets(1)
		pid := srv.Of("/").Sockets()[0].privateID()
		_ = srv.Emit("e", 1)
		first.onClose(ReasonTransportClose)
		waitSockets(0)

		c := newConn(srv, &sinkSession{})
		for _, m := range strings.Split(strings.ReplaceAll(input, "$PID", pid), "\x1e") {
			data, binary := strings.CutPrefix(m, "b")
			c.onMessage(engineio.Message{Data: []byte(data), Binary: binary})
		}
		c.onClose(ReasonTransportClose)
		waitSockets(0)
	})
}
