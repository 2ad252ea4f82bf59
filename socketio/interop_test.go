package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/socketio"
)

// jsLine is one line printed by testdata/interop/client.mjs.
type jsLine struct {
	Event     string          `json:"event"`
	Name      string          `json:"name"`
	ID        string          `json:"id"`
	Transport string          `json:"transport"`
	Reason    string          `json:"reason"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	Ev        string          `json:"ev"`
	Args      json.RawMessage `json:"args"`
	WithAck   bool            `json:"withAck"`
	Seq       int             `json:"seq"`
	Reply     json.RawMessage `json:"reply"`
}

// jsClient drives the official socket.io-client. Lines are matched out of
// order: lines of concurrent sockets interleave.
type jsClient struct {
	t       *testing.T
	p       *interop.Process
	backlog []jsLine
}

func startJSClient(t *testing.T, url string, transports []string, upgrade bool) *jsClient {
	tj, _ := json.Marshal(transports)
	up := "false"
	if upgrade {
		up = "true"
	}
	p := interop.Start(t, "testdata/interop/client.mjs", url, string(tj), up)
	t.Cleanup(func() { _ = p.Send(map[string]any{"op": "exit"}) })
	return &jsClient{t: t, p: p}
}

func (c *jsClient) send(cmd map[string]any) {
	c.t.Helper()
	if err := c.p.Send(cmd); err != nil {
		c.t.Fatalf("send %v: %v", cmd, err)
	}
}

// wait returns the first line (backlog first) of type event from socket
// name that satisfies match (nil = any).
func (c *jsClient) wait(event, name string, match func(jsLine) bool) jsLine {
	c.t.Helper()
	ok := func(l jsLine) bool { return l.Event == event && l.Name == name && (match == nil || match(l)) }
	for i, l := range c.backlog {
		if ok(l) {
			c.backlog = slices.Delete(c.backlog, i, i+1)
			return l
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		raw, err := c.p.Next(ctx)
		if err != nil {
			c.t.Fatalf("waiting for %s of %s: %v (backlog %+v)", event, name, err, c.backlog)
		}
		var l jsLine
		if err := raw.Decode(&l); err != nil {
			c.t.Fatal(err)
		}
		if l.Event == "error" {
			c.t.Fatalf("client script failed: %s", raw)
		}
		if ok(l) {
			return l
		}
		c.backlog = append(c.backlog, l)
	}
}

// answer sets the client's reply to the server's acks of event ev.
func (c *jsClient) answer(name, ev string, args any) {
	c.t.Helper()
	c.send(map[string]any{"op": "answer", "name": name, "event": ev, "args": args})
	c.wait("answered", name, func(l jsLine) bool { return l.Ev == ev })
}

func (c *jsClient) waitEvent(name, ev string) jsLine {
	c.t.Helper()
	return c.wait("event", name, func(l jsLine) bool { return l.Ev == ev })
}

func jsonEqual(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %s: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("%s = %s, want %s", what, got, want)
	}
}

// interopServer is the server the interop tests run against.
func interopServer(t *testing.T) (*socketio.Server, string, chan string) {
	srv := socketio.NewServer(nil)
	disconnects := make(chan string, 16)
	srv.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(reason string) { disconnects <- s.ID() + " " + reason })
		s.On("echo", func(e *socketio.Event) {
			if e.HasAck() {
				_ = e.Ack(e.Values()...)
				return
			}
			_ = s.Emit("echo", e.Values()...)
		})
		s.On("join", func(e *socketio.Event) {
			var room string
			_ = e.Args(&room)
			s.Join(room)
			_ = e.Ack(room)
		})
		s.On("ask", func(e *socketio.Event) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			reply, err := s.EmitWithAck(ctx, "question", e.Values()...)
			if err != nil {
				_ = s.Emit("answer", err.Error())
				return
			}
			_ = s.Emit("answer", reply.Values()...)
		})
		s.On("bye", func(*socketio.Event) { s.Disconnect(false) })
		s.On("bye-all", func(*socketio.Event) { s.Disconnect(true) })
	})
	private := srv.Of("/private")
	private.Use(func(s *socketio.Socket) error {
		var auth struct{ Token string }
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		if auth.Token != "secret" {
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
		}
		return s.Emit("session", "early")
	})
	private.OnConnection(func(s *socketio.Socket) { _ = s.Emit("welcome", s.ID()) })
	dyn := srv.OfRegexp(regexp.MustCompile(`^/dyn-[0-9]+$`))
	dyn.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", s.Namespace().Name())
		s.On("bye-all", func(*socketio.Event) { s.Disconnect(true) })
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	return srv, hs.URL, disconnects
}

func TestInteropOfficialClient(t *testing.T) {
	modes := []struct {
		name       string
		transports []string
		upgrade    bool
		final      string
	}{
		{"websocket", []string{"websocket"}, false, "websocket"},
		{"polling", []string{"polling"}, false, "polling"},
		{"upgrade", []string{"polling", "websocket"}, true, "websocket"},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv, url, disconnects := interopServer(t)
			c := startJSClient(t, url, mode.transports, mode.upgrade)
			polls := slices.Contains(mode.transports, "polling")
			testClientFeatures(t, srv, c, mode.final, polls, disconnects)
		})
	}
}

// testClientFeatures runs every feature against client c; final is the
// transport it should end on, polls whether it starts on polling.
func testClientFeatures(t *testing.T, srv *socketio.Server, c *jsClient, final string, polls bool, disconnects chan string) {
	ctx := context.Background()

	// Connect; the socket id is the server's, not the engine's sid.
	c.send(map[string]any{"op": "open", "name": "a", "nsp": "/", "auth": map[string]any{"user": "ann"}})
	a := c.wait("connect", "a", nil)
	list, err := srv.FetchSockets(ctx)
	if err != nil || len(list) != 1 || list[0].ID != a.ID || string(list[0].Handshake.Auth) != `{"user":"ann"}` {
		t.Fatalf("server sockets %+v (client id %q), %v", list, a.ID, err)
	}

	// Events and acks, text and binary, both ways.
	args := `["hello",1,{"a":[true,null]},{"$bin":"AQID"},{"nested":{"$bin":"BA=="}}]`
	c.send(map[string]any{"op": "emit", "name": "a", "event": "echo", "args": json.RawMessage(args)})
	jsonEqual(t, "echo", c.waitEvent("a", "echo").Args, args)
	c.send(map[string]any{"op": "emitWithAck", "name": "a", "event": "echo", "seq": 1, "args": json.RawMessage(`[{"$bin":"/w=="},2]`)})
	jsonEqual(t, "ack", c.wait("ack", "a", nil).Reply, `{"$bin":"/w=="}`)
	c.answer("a", "question", json.RawMessage(`["forty-two",{"$bin":"Kg=="}]`))
	c.send(map[string]any{"op": "emit", "name": "a", "event": "ask", "args": json.RawMessage(`["q?"]`)})
	q := c.waitEvent("a", "question")
	if !q.WithAck {
		t.Fatal("question sent without an ack id")
	}
	jsonEqual(t, "question args", q.Args, `["q?"]`)
	jsonEqual(t, "answer", c.waitEvent("a", "answer").Args, `["forty-two",{"$bin":"Kg=="}]`)

	// A second connection; rooms and broadcasts.
	c.send(map[string]any{"op": "open", "name": "b", "nsp": "/", "forceNew": true})
	b := c.wait("connect", "b", nil)
	c.send(map[string]any{"op": "emitWithAck", "name": "b", "event": "join", "seq": 2, "args": []any{"room"}})
	jsonEqual(t, "join ack", c.wait("ack", "b", nil).Reply, `"room"`)
	if err := srv.To("room").Emit("news", "for room"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Except("room").Emit("news", "not for room"); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "b news", c.waitEvent("b", "news").Args, `["for room"]`)
	jsonEqual(t, "a news", c.waitEvent("a", "news").Args, `["not for room"]`)

	// Broadcast with acks collects the first argument of each client.
	c.answer("a", "poll", []any{"from a", "extra"})
	c.answer("b", "poll", []any{"from b"})
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	replies, err := srv.EmitWithAck(actx, "poll", 1)
	cancel()
	if err != nil || len(replies) != 2 {
		t.Fatalf("EmitWithAck: %d replies, %v", len(replies), err)
	}
	var got []string
	for _, r := range replies {
		var s string
		_ = r.Args(&s)
		got = append(got, s)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"from a", "from b"}) {
		t.Fatalf("replies %q", got)
	}

	// A client that does not answer: the partial replies and a timeout.
	c.answer("a", "slow", []any{"quick"})
	actx, cancel = context.WithTimeout(ctx, 1500*time.Millisecond)
	replies, err = srv.EmitWithAck(actx, "slow")
	cancel()
	if !errors.Is(err, socketio.ErrTimeout) || len(replies) != 1 {
		t.Fatalf("EmitWithAck with a silent client: %d replies, %v", len(replies), err)
	}
	c.waitEvent("b", "slow")

	// Middleware refusal with data, middleware emit before connect,
	// unknown and dynamic namespaces.
	// (Refused sockets get their own connection: the client reuses a socket
	// object per namespace and manager.)
	c.send(map[string]any{"op": "open", "name": "p1", "nsp": "/private", "auth": map[string]any{"token": "wrong"}, "forceNew": true})
	ce := c.wait("connect_error", "p1", nil)
	if ce.Message != "unauthorized" {
		t.Fatalf("connect_error %+v", ce)
	}
	jsonEqual(t, "connect_error data", ce.Data, `{"code":401}`)
	c.send(map[string]any{"op": "open", "name": "p2", "nsp": "/private", "auth": map[string]any{"token": "secret"}})
	c.wait("connect", "p2", nil)
	// The client delivered the middleware's event before "connect".
	jsonEqual(t, "session", c.waitEvent("p2", "session").Args, `["early"]`)
	c.waitEvent("p2", "welcome")
	c.send(map[string]any{"op": "open", "name": "x", "nsp": "/nope", "forceNew": true})
	if l := c.wait("connect_error", "x", nil); l.Message != "Invalid namespace" {
		t.Fatalf("connect_error %+v", l)
	}
	c.send(map[string]any{"op": "open", "name": "d", "nsp": "/dyn-7"})
	c.wait("connect", "d", nil)
	jsonEqual(t, "dyn welcome", c.waitEvent("d", "welcome").Args, `["/dyn-7"]`)

	// Transport in use.
	if final == "websocket" && a.Transport != "websocket" {
		c.wait("upgrade", "a", nil)
	}
	c.send(map[string]any{"op": "transport", "name": "a"})
	if l := c.wait("transport", "a", nil); l.Transport != final {
		t.Fatalf("transport %q, want %q", l.Transport, final)
	}

	// Disconnects both ways, with the JS reasons.
	c.send(map[string]any{"op": "emit", "name": "a", "event": "bye"})
	if l := c.wait("disconnect", "a", nil); l.Reason != "io server disconnect" {
		t.Fatalf("client reason %q", l.Reason)
	}
	if got := <-disconnects; got != a.ID+" server namespace disconnect" {
		t.Fatalf("server side %q", got)
	}
	c.send(map[string]any{"op": "disconnect", "name": "b"})
	if got := <-disconnects; got != b.ID+" client namespace disconnect" {
		t.Fatalf("server side %q", got)
	}

	// Disconnect(true) disconnects every namespace of the connection, then
	// closes it.
	c.send(map[string]any{"op": "emit", "name": "d", "event": "bye-all"})
	for _, name := range []string{"d", "p2"} {
		// Over polling too: the DISCONNECT packets come in one response,
		// the close packet in the next, as with Node.
		if l := c.wait("disconnect", name, nil); l.Reason != "io server disconnect" {
			t.Fatalf("%s: reason %q", name, l.Reason)
		}
	}

	// Close: the client sees its transport close.
	c.send(map[string]any{"op": "open", "name": "e", "nsp": "/", "forceNew": true})
	c.wait("connect", "e", nil)
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := srv.Close(sctx); err != nil {
		t.Fatal(err)
	}
	// A polling client (e may not have upgraded yet) whose GET was not held
	// at that moment gets an HTTP error for its next one instead of the
	// close packet.
	if l := c.wait("disconnect", "e", nil); l.Reason != "transport close" &&
		(!polls || l.Reason != "transport error") {
		t.Fatalf("after Close: %q", l.Reason)
	}
}
