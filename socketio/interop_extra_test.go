package socketio_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/seed9706/socketio/socketio"
)

// The official client over each transport mode; final is the transport it
// ends on.
var interopModes = []struct {
	name       string
	transports []string
	upgrade    bool
	final      string
}{
	{"websocket", []string{"websocket"}, false, "websocket"},
	{"polling", []string{"polling"}, false, "polling"},
	{"upgrade", []string{"polling", "websocket"}, true, "websocket"},
}

// startServer serves srv on ln (127.0.0.1:0 when nil) until the test ends.
func startServer(t *testing.T, srv *socketio.Server, ln net.Listener) *httptest.Server {
	hs := httptest.NewUnstartedServer(srv)
	if ln != nil {
		hs.Listener.Close()
		hs.Listener = ln
	}
	hs.Start()
	t.Cleanup(func() { stopServer(srv, hs) })
	return hs
}

// stopServer closes srv and its HTTP server; it may be called again.
func stopServer(srv *socketio.Server, hs *httptest.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Close(ctx)
	hs.CloseClientConnections()
	hs.Close()
}

// openWith opens socket name on "/" with the "openWith" op (extra io()
// options, long arguments digested) and waits until it connected and, when
// it should end on websocket, upgraded.
func openWith(c *jsClient, name, final string, opts map[string]any) jsLine {
	c.t.Helper()
	c.send(map[string]any{"op": "openWith", "name": name, "nsp": "/", "forceNew": true, "opts": opts})
	l := c.wait("connect", name, nil)
	if final == "websocket" && l.Transport != "websocket" {
		c.wait("upgrade", name, nil)
	}
	return l
}

// waitNumbers reads count events ev of socket name and fails unless their
// single argument is from, from+1, ... in that order.
func waitNumbers(c *jsClient, name, ev string, from, count int) {
	c.t.Helper()
	for i := from; i < from+count; i++ {
		var args []int
		l := c.waitEvent(name, ev)
		if err := json.Unmarshal(l.Args, &args); err != nil || len(args) != 1 || args[0] != i {
			c.t.Fatalf("client: %s event %d has args %s, want [%d] (%v)", ev, i-from, l.Args, i, err)
		}
	}
}

// Thousands of events keep their order and arrive exactly once: client ->
// server (echoed back), and server broadcasts -> client.
func TestInteropOrderingOfficialClient(t *testing.T) {
	const total = 3000
	modes := append(slices.Clone(interopModes), interopModes[2])
	modes[3].name, modes[3].final = "while-upgrading", "" // emit from the connect on, through the upgrade
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			// The queue holds every echo or broadcast at once: the test
			// is about order, not about the slow-client bound (JS has none).
			srv := socketio.NewServer(&socketio.ServerOptions{MaxQueuePackets: 2 * total})
			srv.OnConnection(func(s *socketio.Socket) {
				var got []int // only touched by s's handlers, which run in turn
				s.On("seq", func(e *socketio.Event) {
					var n int
					_ = e.Args(&n)
					got = append(got, n)
					_ = s.Emit("seq", n)
				})
				s.On("received", func(e *socketio.Event) { _ = e.Ack(got) })
			})
			hs := startServer(t, srv, nil)
			c := startJSClient(t, hs.URL, mode.transports, mode.upgrade)
			first := openWith(c, "a", mode.final, nil)

			c.send(map[string]any{"op": "emitMany", "name": "a", "event": "seq", "from": 1, "count": total})
			waitNumbers(c, "a", "seq", 1, total)
			for i := 1; i <= total; i++ {
				if err := srv.Emit("cast", i); err != nil {
					t.Fatalf("broadcast %d: %v", i, err)
				}
			}
			waitNumbers(c, "a", "cast", 1, total)

			// The ack follows every seq and cast event on the wire: none
			// came twice, and the server saw each seq once, in order.
			c.send(map[string]any{"op": "emitWithAck", "name": "a", "event": "received", "seq": 1})
			var server []int
			if err := json.Unmarshal(c.wait("ack", "a", nil).Reply, &server); err != nil {
				t.Fatal(err)
			}
			checkSequence(t, server, total)
			// (The upgrade may also have finished before the socket
			// connected.)
			if mode.final == "" && first.Transport != "websocket" {
				c.wait("upgrade", "a", nil)
			}
			for _, l := range c.backlog {
				if l.Event == "event" {
					t.Fatalf("unexpected event %s %s", l.Ev, l.Args)
				}
			}
		})
	}
}

// digestArg is a long argument as "openWith" sockets report it.
type digestArg struct {
	Digest struct {
		Kind   string `json:"kind"`
		Len    int    `json:"len"`
		SHA256 string `json:"sha256"`
	} `json:"$digest"`
}

// bigPayload mirrors client.mjs: character i is 'a'+i%26, byte i is i%251.
func bigPayload(kind string, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		if kind == "string" {
			b[i] = byte('a' + i%26)
		} else {
			b[i] = byte(i % 251)
		}
	}
	return b
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// checkDigest fails unless raw is the digest of want.
func checkDigest(t *testing.T, what string, raw json.RawMessage, kind string, want []byte) {
	t.Helper()
	var d digestArg
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %s: %v", what, raw, err)
	}
	if d.Digest.Kind != kind || d.Digest.Len != len(want) || d.Digest.SHA256 != sha256Hex(want) {
		t.Fatalf("%s: %+v, want %s of %d bytes, sha256 %s", what, d.Digest, kind, len(want), sha256Hex(want))
	}
}

// Payloads just under MaxHTTPBufferSize (default 1e6) round-trip intact; one
// over it disconnects the client with the reason the official server gives
// (websocket: closed with 1009, "transport close"; polling: the POST gets
// 413, "transport error").
func TestInteropLargePayloadsOfficialClient(t *testing.T) {
	const limit = 1_000_000
	for _, mode := range interopModes {
		t.Run(mode.name, func(t *testing.T) {
			srv := socketio.NewServer(nil)
			type received struct {
				kind string
				data []byte
			}
			bigs := make(chan received, 4)
			disconnects := make(chan string, 4)
			srv.OnConnection(func(s *socketio.Socket) {
				s.OnDisconnect(func(reason string) { disconnects <- reason })
				s.On("big", func(e *socketio.Event) {
					var v any
					if err := e.Args(&v); err != nil {
						t.Errorf("big: %v", err)
						return
					}
					switch v := v.(type) {
					case string:
						bigs <- received{"string", []byte(v)}
					case []byte:
						bigs <- received{"binary", v}
					default:
						t.Errorf("big: argument of type %T", v)
					}
					_ = s.Emit("big", e.Values()...)
				})
			})
			hs := startServer(t, srv, nil)
			c := startJSClient(t, hs.URL, mode.transports, mode.upgrade)
			openWith(c, "a", mode.final, nil)

			// A text packet is 42["big","..."]: 12 bytes around the string.
			// Over polling, binary travels in base64 ("b" + 4/3 of it),
			// after the placeholder packet and a separator.
			sizes := map[string]int{"string": limit - 12, "binary": limit}
			// The reasons Node's server and client give for a packet over
			// the limit.
			overClient, overServer := "transport close", "transport error"
			if mode.final == "polling" {
				sizes["binary"] = (limit - 64) / 4 * 3
				// The client closes after its 413 and sends a close packet.
				overClient, overServer = "transport error", "transport close"
			}
			for _, kind := range []string{"string", "binary"} {
				want := bigPayload(kind, sizes[kind])
				c.send(map[string]any{"op": "emitBig", "name": "a", "event": "big", "kind": kind, "size": len(want)})
				checkDigest(t, "client payload", c.wait("emittedBig", "a", nil).Data, kind, want)
				var got received
				select {
				case got = <-bigs:
				case <-time.After(10 * time.Second):
					t.Fatalf("the server did not receive the %s of %d bytes", kind, len(want))
				}
				if got.kind != kind || len(got.data) != len(want) || sha256Hex(got.data) != sha256Hex(want) {
					t.Fatalf("server got a %s of %d bytes (sha256 %s), want a %s of %d bytes", got.kind, len(got.data), sha256Hex(got.data), kind, len(want))
				}
				var echo []json.RawMessage
				if err := json.Unmarshal(c.waitEvent("a", "big").Args, &echo); err != nil || len(echo) != 1 {
					t.Fatalf("echo: %v", err)
				}
				checkDigest(t, "echo", echo[0], kind, want)
			}

			for _, kind := range []string{"string", "binary"} {
				name := "over-" + kind
				openWith(c, name, mode.final, nil)
				size := limit + 1
				if kind == "binary" && mode.final == "polling" {
					size = limit / 4 * 3 // over the limit once in base64
				}
				c.send(map[string]any{"op": "emitBig", "name": name, "event": "big", "kind": kind, "size": size})
				if l := c.wait("disconnect", name, nil); l.Reason != overClient {
					t.Fatalf("%s over the limit: client reason %q, want %q", kind, l.Reason, overClient)
				}
				select {
				case reason := <-disconnects:
					if reason != overServer {
						t.Fatalf("%s over the limit: server reason %q, want %q", kind, reason, overServer)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%s over the limit: the server did not disconnect the socket", kind)
				}
			}
			select {
			case got := <-bigs:
				t.Fatalf("the server accepted a %s of %d bytes", got.kind, len(got.data))
			default:
			}
		})
	}
}

// The server restarts on the same address: the official client reconnects
// by itself, gets a new socket id, and the events it emitted while offline
// (buffered by the client) reach the new server in order.
func TestInteropReconnectAfterRestartOfficialClient(t *testing.T) {
	for _, mode := range interopModes {
		t.Run(mode.name, func(t *testing.T) {
			newServer := func() (*socketio.Server, chan int) {
				srv := socketio.NewServer(nil)
				got := make(chan int, 16)
				srv.OnConnection(func(s *socketio.Socket) {
					s.On("offline", func(e *socketio.Event) {
						var n int
						_ = e.Args(&n)
						got <- n
					})
				})
				return srv, got
			}
			srv1, _ := newServer()
			hs1 := startServer(t, srv1, nil)
			addr := hs1.Listener.Addr().String()
			c := startJSClient(t, hs1.URL, mode.transports, mode.upgrade)
			opts := map[string]any{"reconnection": true, "reconnectionDelay": 100, "reconnectionDelayMax": 200, "randomizationFactor": 0}
			first := openWith(c, "a", mode.final, opts)

			stopServer(srv1, hs1)
			// Over polling, a client with no GET held at that moment gets
			// an HTTP error (or a refused connection) instead of the close
			// packet.
			if l := c.wait("disconnect", "a", nil); l.Reason != "transport close" &&
				(mode.final != "polling" || l.Reason != "transport error") {
				t.Fatalf("after the restart: client reason %q", l.Reason)
			}
			const offline = 5
			c.send(map[string]any{"op": "emitMany", "name": "a", "event": "offline", "from": 1, "count": offline})
			c.wait("emittedMany", "a", nil)
			c.wait("reconnect_attempt", "a", nil)

			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("listen again on %s: %v", addr, err)
			}
			srv2, got := newServer()
			startServer(t, srv2, ln)
			c.wait("reconnect", "a", nil)
			second := c.wait("connect", "a", nil)
			if second.ID == "" || second.ID == first.ID {
				t.Fatalf("socket id after reconnecting %q, before %q", second.ID, first.ID)
			}
			list, err := srv2.FetchSockets(context.Background())
			if err != nil || len(list) != 1 || list[0].ID != second.ID {
				t.Fatalf("new server's sockets %+v, client id %q, %v", list, second.ID, err)
			}
			for i := 1; i <= offline; i++ {
				select {
				case n := <-got:
					if n != i {
						t.Fatalf("buffered event %d is %d", i, n)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("buffered event %d did not arrive", i)
				}
			}
		})
	}
}
