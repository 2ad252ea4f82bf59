package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/internal/rawclient"
	"github.com/seed9706/socketio/socketio"
)

// differentialServer has the handlers of testdata/interop/server.mjs.
func differentialServer(t *testing.T) string {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
		s.On("message", func(e *socketio.Event) { _ = s.Emit("message-back", e.Values()...) })
		s.On("message-with-ack", func(e *socketio.Event) { _ = e.Ack(e.Values()...) })
		s.On("join", func(e *socketio.Event) {
			var room string
			_ = e.Args(&room)
			s.Join(room)
		})
		s.On("to", func(e *socketio.Event) {
			var room string
			_ = e.Args(&room)
			_ = srv.To(room).Emit("news", e.Values()[1:]...)
		})
		s.On("bye", func(*socketio.Event) { s.Disconnect(false) })
	})
	srv.Of("/custom").OnConnection(func(s *socketio.Socket) { _ = s.Emit("auth", s.Handshake().Auth) })
	srv.Of("/forbidden").Use(func(*socketio.Socket) error {
		// A struct keeps the key order (a Go map's keys come out sorted).
		return &socketio.ConnectError{Message: "not authorized", Data: struct {
			Reason string `json:"reason"`
			N      int    `json:"n"`
		}{"probe", 1}}
	})
	srv.Of("/plain").Use(func(*socketio.Socket) error { return errors.New("nope") })
	early := srv.Of("/early")
	early.Use(func(s *socketio.Socket) error { return s.Emit("session", "early") })
	early.OnConnection(func(s *socketio.Socket) { _ = s.Emit("hello", s.Namespace().Name()) })
	srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`)).OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", s.Namespace().Name())
	})
	srv.Of("/server-ack").OnConnection(func(s *socketio.Socket) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reply, err := s.EmitWithAck(ctx, "question", 42, map[string]any{"nested": []any{true, nil}})
		if err == nil {
			_ = s.Emit("answer", reply.Values()[0])
		}
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	return hs.URL
}

// step sends packets, then reads n packets (closed: until the server
// closes the connection).
type step struct {
	send []string
	n    int
}

const closed = -1

var (
	sidPattern   = regexp.MustCompile(`"sid":"[A-Za-z0-9_-]{20}"`)
	ackIDPattern = regexp.MustCompile(`^4[25](?:\d+-)?(?:/[^,]*,)?(\d+)\[`)
)

// runScenario plays steps on a new session and returns what came back,
// socket ids replaced by "X". "{id}" in a packet to send is replaced by the
// ack id of the last event received that asked for one.
func runScenario(t *testing.T, base, transport string, steps []step) []string {
	var c *rawclient.Client
	if transport == "websocket" {
		c = rawclient.WebSocket(t, base, "/socket.io/")
	} else {
		c = rawclient.Polling(t, base, "/socket.io/")
	}
	var got []string
	ackID := ""
	for _, st := range steps {
		send := slices.Clone(st.send)
		for i := range send {
			send[i] = strings.ReplaceAll(send[i], "{id}", ackID)
		}
		c.Send(send...)
		if st.n == closed {
			c.ExpectClose()
			got = append(got, "(closed)")
			continue
		}
		for range st.n {
			p := c.Next()
			if m := ackIDPattern.FindStringSubmatch(p); m != nil {
				ackID = m[1]
				p = m[0][:len(m[0])-len(m[1])-1] + "{id}" + p[len(m[0])-1:]
			}
			got = append(got, sidPattern.ReplaceAllString(p, `"sid":"X"`))
		}
	}
	return got
}

// The same packets sent to the official server and to ours get the same
// packets back, byte for byte.
func TestDifferentialAgainstOfficialServer(t *testing.T) {
	node := interop.Start(t, "testdata/interop/server.mjs")
	var listening struct{ Port int }
	if err := node.Expect(t, "listening").Decode(&listening); err != nil {
		t.Fatal(err)
	}
	nodeURL := fmt.Sprintf("http://127.0.0.1:%d", listening.Port)
	goURL := differentialServer(t)
	bin := func(b ...byte) string { return rawclient.B64(b) }

	scenarios := map[string][]step{
		"connect and echo": {
			{[]string{"40"}, 2},
			{[]string{`42["message",1,"2",{"3":[true]},"<>&\u2028é\u0001",null]`}, 1},
			// JSON as JSON.stringify writes it (what official clients send)
			// comes back byte for byte; other spellings of numbers and
			// integer-key orders are kept as sent, not rewritten as JS would.
			{[]string{`42["message",1e+21,0.1,0,100,5e-7,1.2345678901234568e+29,-1.5,1e-7]`}, 1},
			{[]string{`42["message",{"2":4,"10":3,"b":1,"a":2,"-1":5,"01":6}]`}, 1},
			{[]string{`42["message" , { "a" : [ 1 , 2 ] } ]`}, 1},
			{[]string{`4212["message-with-ack",[],{},"\"\\/"]`}, 1},
			{[]string{`42["message-with-ack"]`, `42["message"]`}, 1},
		},
		"binary": {
			{[]string{"40"}, 2},
			{[]string{`452-["message",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]`, bin(1, 2, 3), bin(4)}, 3},
			{[]string{`451-7["message-with-ack",{"_placeholder":true,"num":0},"t"]`, bin(0xff)}, 2},
		},
		"auth": {
			{[]string{`40{"token":"123","n":[1,2]}`}, 2},
		},
		"custom namespace": {
			{[]string{`40/custom,{"a":1}`}, 2},
		},
		"refusals": {
			{[]string{`40/random,`}, 1},
			{[]string{`40/forbidden,`}, 1},
			{[]string{`40/plain,`}, 1},
		},
		// Several CONNECTs in one read are answered in order. (Node answers
		// an unknown namespace, and runs middlewares, at once but connects
		// on the next tick, so those would jump ahead there; we keep the
		// arrival order.)
		"connects answered in order": {
			{[]string{"40", `40/forbidden,`, `40/custom,`}, 5},
		},
		"middleware emit": {
			{[]string{`40/early,`}, 3},
		},
		"dynamic namespace": {
			{[]string{`40/dyn-12,`}, 2},
			{[]string{`40/dyn-x,`}, 1},
		},
		"server ack": {
			{[]string{`40/server-ack,`}, 2},
			{[]string{`43/server-ack,{id}["yes",2]`}, 1},
		},
		"rooms": {
			{[]string{"40"}, 2},
			{[]string{`42["join","r"]`, `42["to","r",1,{"k":"v"}]`}, 1},
			{[]string{`42["to","nobody",1]`, `42["to","r",2]`}, 1},
			{[]string{`452-["to","r",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}]]`, bin(1), bin(2)}, 3},
		},
		"binary ack from the client": {
			{[]string{`40/server-ack,`}, 2},
			{[]string{`461-/server-ack,{id}[{"_placeholder":true,"num":0},2]`, bin(9, 8)}, 2},
		},
		"unknown ack id is ignored": {
			{[]string{"40"}, 2},
			{[]string{`4399["late"]`, `42["message",1]`}, 1},
		},
		"event for a namespace not joined": {
			{[]string{"40"}, 2},
			{[]string{`42/custom,["message"]`}, closed},
		},
		"second CONNECT to a joined namespace": {
			{[]string{"40"}, 2},
			{[]string{"40"}, closed},
		},
		"DISCONNECT of a namespace not joined": {
			{[]string{"40"}, 2},
			{[]string{"41/custom,"}, closed},
		},
		"reserved event name": {
			{[]string{"40"}, 2},
			{[]string{`42["disconnect"]`}, closed},
		},
		"invalid packets": {
			{[]string{"40"}, 2},
			{[]string{`42{}`}, closed},
		},
		"server disconnect": {
			{[]string{"40", `40/custom,`}, 4},
			{[]string{`42["bye"]`}, 1},
			{[]string{`42/custom,["x"]`, `40`}, 2},
		},
	}
	for name, steps := range scenarios {
		for _, transport := range []string{"websocket", "polling"} {
			t.Run(name+"/"+transport, func(t *testing.T) {
				want := runScenario(t, nodeURL, transport, steps)
				got := runScenario(t, goURL, transport, steps)
				if !slices.Equal(got, want) {
					t.Fatalf("packets differ\ngo:   %q\nnode: %q", got, want)
				}
			})
		}
	}
}
