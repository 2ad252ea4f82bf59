package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/rawclient"
)

// suiteHandlers installs the handlers of the official suite's server
// (CONTRACTS.md section 1) on srv.
func suiteHandlers(srv *Server) {
	srv.OnConnection(func(s *Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
		s.On("message", func(e *Event) { _ = s.Emit("message-back", e.Values()...) })
		s.On("message-with-ack", func(e *Event) { _ = e.Ack(e.Values()...) })
	})
	srv.Of("/custom").OnConnection(func(s *Socket) { _ = s.Emit("auth", s.Handshake().Auth) })
}

func TestConnectEmitAndAck(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	suiteHandlers(srv)
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	c.Expect(`42["auth",{}]`)

	c.Send(`42["message",1,"2",{"3":[true]}]`)
	c.Expect(`42["message-back",1,"2",{"3":[true]}]`)

	c.Send(`421["message-with-ack",1,"2",{"3":[true]}]`)
	c.Expect(`431[1,"2",{"3":[true]}]`)

	// JSON text is kept byte for byte, including what Go would escape.
	// Like JSON.parse + JSON.stringify: U+2028 comes back unescaped.
	c.Send(`42["message","<>&\u2028","é"]`)
	c.Expect("42[\"message-back\",\"<>&\u2028\",\"é\"]")
}

func TestConnectWithAuthAndCustomNamespace(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	suiteHandlers(srv)
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/custom", `{"token":"123"}`)
	c.Expect(`42/custom,["auth",{"token":"123"}]`)
	// The namespace without a trailing comma is "/custom" too.
	c2 := rawclient.Polling(t, hs.URL, "/socket.io/")
	c2.Send(`40/custom`)
	c2.Expect(`40/custom,{"sid":"*`, `42/custom,["auth",{}]`)
}

func TestBinaryEcho(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	suiteHandlers(srv)
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	c.Expect(`42["auth",{}]`)
	c.Send(`451-["message",{"_placeholder":true,"num":0}]`, rawclient.B64([]byte{1, 2, 3}))
	c.Expect(`451-["message-back",{"_placeholder":true,"num":0}]`, "bAQID")

	c.Send(`452-12["message-with-ack",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`,
		rawclient.B64([]byte{1, 2, 3}), rawclient.B64([]byte{4}))
	c.Expect(`462-12[{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, "bAQID", "bBA==")
}

func TestInvalidNamespace(t *testing.T) {
	_, hs := newTestServer(t, nil)
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Send(`40/random,`)
	c.Expect(`44/random,{"message":"Invalid namespace"}`)
	// The connection stays open: "/" still works.
	c.Connect("/", "")
}

func TestMiddlewareErrors(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	srv.Of("/forbidden").Use(func(*Socket) error {
		return &ConnectError{Message: "not authorized", Data: map[string]any{"reason": "probe"}}
	})
	srv.Of("/plain").Use(func(*Socket) error { return errors.New("nope") })
	srv.Of("/panic").Use(func(*Socket) error { panic("boom") })
	connected := false
	srv.Of("/plain").OnConnection(func(*Socket) { connected = true })
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Send(`40/forbidden,`)
	c.Expect(`44/forbidden,{"message":"not authorized","data":{"reason":"probe"}}`)
	c.Send(`40/plain,`)
	c.Expect(`44/plain,{"message":"nope"}`)
	c.Send(`40/panic,`)
	c.Expect(`44/panic,{"message":"middleware error"}`)
	c.Send(`40/panic,`) // not left half-connected: the same answer again
	c.Expect(`44/panic,{"message":"middleware error"}`)
	if connected {
		t.Fatal("connection handler ran after a middleware error")
	}
	if n := len(srv.Of("/plain").Sockets()); n != 0 {
		t.Fatalf("%d sockets in /plain after refusal", n)
	}
}

func TestMiddlewareEmitComesBeforeConnectHandler(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	nsp := srv.Of("/m")
	nsp.Use(func(s *Socket) error {
		s.SetData("set in middleware")
		return s.Emit("session", "early")
	})
	nsp.OnConnection(func(s *Socket) { _ = s.Emit("data", s.Data()) })
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Send(`40/m,`)
	// Written before the CONNECT reply: the official client buffers it and
	// delivers it before its "connect" handler.
	c.Expect(`42/m,["session","early"]`, `40/m,{"sid":"*`, `42/m,["data","set in middleware"]`)
}

func TestReservedEventNames(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	got := make(chan error, 1)
	srv.OnConnection(func(s *Socket) {
		var errs []error
		for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
			errs = append(errs, s.Emit(name), s.Broadcast().Emit(name), srv.Emit(name))
		}
		for _, err := range errs {
			if !errors.Is(err, ErrReservedEvent) {
				got <- err
				return
			}
		}
		got <- nil
	})
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	if err := <-got; err != nil {
		t.Fatalf("reserved emit: %v", err)
	}
}

func TestDisconnectReasons(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	reasons := make(chan string, 10)
	var serverSide sync.Map // nsp -> *Socket
	for _, name := range []string{"/", "/a", "/b"} {
		srv.Of(name).OnConnection(func(s *Socket) {
			serverSide.Store(name, s)
			s.OnDisconnecting(func(reason string) {
				if !slices.Contains(s.Rooms(), s.ID()) {
					reasons <- "rooms gone in disconnecting"
				}
			})
			s.OnDisconnect(func(reason string) { reasons <- name + " " + reason })
		})
	}
	sock := func(name string) *Socket { v, _ := serverSide.Load(name); return v.(*Socket) }
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	c.Connect("/a", "")
	c.Connect("/b", "")

	c.Send(`41/a,`)
	if got := <-reasons; got != "/a client namespace disconnect" {
		t.Fatalf("reason %q", got)
	}
	sock("/b").Disconnect(false)
	c.Expect(`41/b,`)
	if got := <-reasons; got != "/b server namespace disconnect" {
		t.Fatalf("reason %q", got)
	}
	// Reconnecting to a namespace left earlier works on the same connection.
	c.Connect("/a", "")
	sock("/").Disconnect(true)
	got := c.Expect("41*", "41*")
	slices.Sort(got)
	if !slices.Equal(got, []string{"41", "41/a,"}) {
		t.Fatalf("DISCONNECT packets %q", got)
	}
	var all []string
	for range 2 {
		all = append(all, <-reasons)
	}
	slices.Sort(all)
	if want := []string{"/ server namespace disconnect", "/a server namespace disconnect"}; !slices.Equal(all, want) {
		t.Fatalf("reasons %q, want %q", all, want)
	}
	c.ExpectClose() // in the response after the DISCONNECT packets, as with Node
	waitFor(t, "engine session closed", func() bool { return srv.Engine().ClientsCount() == 0 })
}

func TestReconnectRightAfterDisconnect(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	suiteHandlers(srv)
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	first := c.Connect("/custom", "")
	c.Expect(`42/custom,["auth",{}]`)
	c.Send(`41/custom,`, `40/custom,`)
	second := c.Expect(`40/custom,{"sid":"*`, `42/custom,["auth",{}]`)[0]
	if strings.Contains(second, first) {
		t.Fatal("same socket id after reconnecting")
	}
}

func TestJoinAfterDisconnectLeavesNoRoom(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	s := <-sockets
	c.Send(`41`)
	<-s.wait(sigClosed)
	s.Join("late")
	if ids, _ := srv.Of("/").Adapter().Sockets(context.Background(), []string{"late"}); len(ids) != 0 {
		t.Fatalf("room late has %v", ids)
	}
	if rooms := s.Rooms(); len(rooms) != 0 {
		t.Fatalf("closed socket still in %v", rooms)
	}
}

func TestInvalidStateClosesConnection(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	reasons := make(chan string, 1)
	srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	// An event for a namespace that was not joined.
	c.Send(`42/other,["x"]`)
	c.ExpectClose()
	if got := <-reasons; got != ReasonForcedServerClose {
		t.Fatalf("reason %q, want %q", got, ReasonForcedServerClose)
	}
	waitFor(t, "engine session closed", func() bool { return srv.Engine().ClientsCount() == 0 })
}

func TestInvalidPacketClosesConnection(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	reasons := make(chan string, 1)
	errs := make(chan error, 1)
	srv.OnConnection(func(s *Socket) {
		s.OnError(func(err error) { errs <- err })
		s.OnDisconnect(func(r string) { reasons <- r })
	})
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	c.Send(`42{}`)
	c.ExpectClose()
	if err := <-errs; err == nil {
		t.Fatal("no error reported")
	}
	if got := <-reasons; got != ReasonForcedClose {
		t.Fatalf("reason %q, want %q", got, ReasonForcedClose)
	}
}

func TestConnectTimeout(t *testing.T) {
	srv, hs := newTestServer(t, &ServerOptions{ConnectTimeout: 50 * time.Millisecond})
	rawclient.Polling(t, hs.URL, "/socket.io/").ExpectClose()
	waitFor(t, "idle connection closed", func() bool { return srv.Engine().ClientsCount() == 0 })

	// A connection that joined a namespace in time stays.
	srv, hs = newTestServer(t, &ServerOptions{ConnectTimeout: time.Second})
	rawclient.Polling(t, hs.URL, "/socket.io/").Connect("/", "")
	time.Sleep(1200 * time.Millisecond)
	if n := srv.Engine().ClientsCount(); n != 1 {
		t.Fatalf("%d clients after joining, want 1", n)
	}
}

func TestServerEmitWithAck(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	type result struct {
		answer string
		err    error
	}
	results := make(chan result, 1)
	srv.Of("/server-ack").OnConnection(func(s *Socket) {
		// Called from a handler: the ACK is resolved on the read path.
		reply, err := s.EmitWithAck(context.Background(), "question", 42)
		var answer string
		if err == nil {
			err = reply.Args(&answer)
		}
		results <- result{answer, err}
	})
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/server-ack", "")
	c.Expect(`42/server-ack,0["question",42]`)
	c.Send(`43/server-ack,0["yes"]`)
	if r := <-results; r.err != nil || r.answer != "yes" {
		t.Fatalf("EmitWithAck = %q, %v", r.answer, r.err)
	}
}

func TestSocketEmitWithAckTimeout(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	errs := make(chan error, 1)
	srv.OnConnection(func(s *Socket) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		_, err := s.EmitWithAck(ctx, "question")
		errs <- err
	})
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	if err := <-errs; !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	// A late ack is ignored.
	c.Send(`430["late"]`)
}

func TestRoomsAndBroadcast(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	sockets := make(chan *Socket, 3)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	var cs []*rawclient.Client
	var ss []*Socket
	for range 3 {
		c := rawclient.Polling(t, hs.URL, "/socket.io/")
		c.Connect("/", "")
		cs = append(cs, c)
		ss = append(ss, <-sockets)
	}
	ss[0].Join("r1", "r2")
	ss[1].Join("r1")
	if got := ss[0].Rooms(); len(got) != 3 || !slices.Contains(got, ss[0].ID()) {
		t.Fatalf("rooms %v", got)
	}

	// socket.to(room) excludes the sender.
	if err := ss[0].To("r1").Emit("m", 1); err != nil {
		t.Fatal(err)
	}
	cs[1].Expect(`42["m",1]`)
	// nsp.to(room) includes everyone in it; except filters.
	_ = srv.To("r1").Except("r2").Emit("m", 2)
	cs[1].Expect(`42["m",2]`)
	_ = srv.To("r1", "r2").Emit("m", 3) // each socket once
	cs[0].Expect(`42["m",3]`)
	cs[1].Expect(`42["m",3]`)
	_ = ss[2].Broadcast().Emit("m", 4)
	cs[0].Expect(`42["m",4]`)
	cs[1].Expect(`42["m",4]`)
	_ = srv.Emit("m", 5)
	for _, c := range cs {
		c.Expect(`42["m",5]`)
	}
	ss[1].Leave("r1")
	_ = srv.In("r1").Emit("m", 6)
	cs[0].Expect(`42["m",6]`)
	// Binary broadcast: text then attachment.
	_ = srv.To(ss[2].ID()).Emit("bin", []byte{1, 2, 3})
	cs[2].Expect(`451-["bin",{"_placeholder":true,"num":0}]`, "bAQID")
	// Nothing else arrived: each client's next packet is this marker.
	_ = srv.Emit("end")
	for _, c := range cs {
		c.Expect(`42["end"]`)
	}
}

func TestBroadcastEmitWithAck(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	sockets := make(chan *Socket, 3)
	srv.OnConnection(func(s *Socket) { s.Join("room"); sockets <- s })
	var cs []*rawclient.Client
	for range 3 {
		c := rawclient.Polling(t, hs.URL, "/socket.io/")
		c.Connect("/", "")
		<-sockets
		cs = append(cs, c)
	}
	type result struct {
		replies []*Reply
		err     error
	}
	run := func(ctx context.Context) chan result {
		ch := make(chan result, 1)
		go func() {
			r, err := srv.To("room").EmitWithAck(ctx, "request", "q")
			ch <- result{r, err}
		}()
		return ch
	}
	answers := func(rs []*Reply) []string {
		var out []string
		for _, r := range rs {
			var s string
			_ = r.Args(&s)
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	// Everyone answers: complete before the deadline; one id for all.
	ch := run(context.Background())
	for i, c := range cs {
		c.Expect(`420["request","q"]`)
		c.Send(`430["a` + string(rune('0'+i)) + `","ignored"]`)
	}
	r := <-ch
	if r.err != nil || !slices.Equal(answers(r.replies), []string{"a0", "a1", "a2"}) {
		t.Fatalf("replies %v, %v", answers(r.replies), r.err)
	}
	if raw := r.replies[0].Raw(); len(raw) != 1 {
		t.Fatalf("reply keeps %d arguments, want the first only", len(raw))
	}
	// One client is silent: timeout with the partial replies.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ch = run(ctx)
	for i, c := range cs {
		c.Expect(`421["request","q"]`)
		if i < 2 {
			c.Send(`431["b"]`)
		}
	}
	r = <-ch
	if !errors.Is(r.err, ErrTimeout) || !slices.Equal(answers(r.replies), []string{"b", "b"}) {
		t.Fatalf("replies %v, err %v", answers(r.replies), r.err)
	}
	for _, s := range srv.Of("/").Sockets() {
		s.mu.Lock()
		pending := len(s.acks)
		s.mu.Unlock()
		if pending != 0 {
			t.Fatalf("socket still expects %d acks after the timeout", pending)
		}
	}
	// No target: done at once with no replies.
	replies, err := srv.To("nobody").EmitWithAck(context.Background(), "request")
	if err != nil || len(replies) != 0 {
		t.Fatalf("empty room: %v %v", replies, err)
	}
}

func TestSelectorOperations(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	sockets := make(chan *Socket, 2)
	reasons := make(chan string, 2)
	srv.OnConnection(func(s *Socket) {
		s.SetData(map[string]any{"n": 1})
		s.OnDisconnect(func(r string) { reasons <- r })
		sockets <- s
	})
	c1, c2 := rawclient.Polling(t, hs.URL, "/socket.io/"), rawclient.Polling(t, hs.URL, "/socket.io/")
	c1.Connect("/", "")
	s1 := <-sockets
	c2.Connect("/", "")
	s2 := <-sockets
	ctx := context.Background()
	if err := srv.In(s1.ID()).SocketsJoin("x", "y"); err != nil {
		t.Fatal(err)
	}
	list, err := srv.In("x").FetchSockets(ctx)
	if err != nil || len(list) != 1 || list[0].ID != s1.ID() {
		t.Fatalf("FetchSockets(x) = %v, %v", list, err)
	}
	if rooms := list[0].Rooms; len(rooms) != 3 {
		t.Fatalf("rooms %v", rooms)
	}
	if d, _ := json.Marshal(list[0].Data); string(d) != `{"n":1}` || list[0].Handshake.URL == "" {
		t.Fatalf("data %s handshake %+v", d, list[0].Handshake)
	}
	if err := list[0].Emit("direct", "hi"); err != nil {
		t.Fatal(err)
	}
	c1.Expect(`42["direct","hi"]`)
	_ = srv.SocketsLeave("x")
	if all, _ := srv.FetchSockets(ctx); len(all) != 2 {
		t.Fatalf("FetchSockets() = %d sockets", len(all))
	}
	if list, _ := srv.In("x").FetchSockets(ctx); len(list) != 0 {
		t.Fatalf("still in x: %v", list)
	}
	if err := srv.Except("y").DisconnectSockets(false); err != nil {
		t.Fatal(err)
	}
	c2.Expect(`41`)
	if r := <-reasons; r != ReasonServerNamespaceDisconnect {
		t.Fatalf("reason %q", r)
	}
	_ = s2
}

func TestDynamicNamespaces(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	dyn := srv.OfRegexp(regexp.MustCompile(`^/dyn-[0-9]+$`))
	dyn.Use(func(s *Socket) error { return s.Emit("mw", s.Namespace().Name()) })
	dyn.OnConnection(func(s *Socket) { _ = s.Emit("welcome", s.Namespace().Name()) })
	fn := srv.OfFunc(func(name string, auth json.RawMessage) bool {
		return name == "/fn" && string(auth) == `{"ok":true}`
	})
	fn.OnConnection(func(s *Socket) { _ = s.Emit("welcome", "fn") })
	created := make(chan string, 4)
	srv.OnNewNamespace(func(n *Namespace) { created <- n.Name() })

	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Send(`40/dyn-12,`)
	c.Expect(`42/dyn-12,["mw","/dyn-12"]`, `40/dyn-12,{"sid":"*`, `42/dyn-12,["welcome","/dyn-12"]`)
	c.Send(`40/dyn-x,`)
	c.Expect(`44/dyn-x,{"message":"Invalid namespace"}`)
	c.Send(`40/fn,{"ok":false}`)
	c.Expect(`44/fn,{"message":"Invalid namespace"}`)
	c.Send(`40/fn,{"ok":true}`)
	c.Expect(`40/fn,{"sid":"*`, `42/fn,["welcome","fn"]`)
	if n := len(dyn.Children()); n != 1 {
		t.Fatalf("%d children", n)
	}
	if a, b := <-created, <-created; a != "/dyn-12" || b != "/fn" {
		t.Fatalf("new namespaces %q %q", a, b)
	}
	// Server.Of with a matching name returns the existing child.
	if srv.Of("/dyn-12") != dyn.Children()[0] {
		t.Fatal("Of did not return the child")
	}
	_ = dyn.Emit("all", 1)
	c.Expect(`42/dyn-12,["all",1]`)
}

func TestCleanupEmptyChildNamespaces(t *testing.T) {
	srv, hs := newTestServer(t, &ServerOptions{CleanupEmptyChildNamespaces: true})
	dyn := srv.OfRegexp(regexp.MustCompile(`^/d[0-9]$`))
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/d1", "")
	if len(dyn.Children()) != 1 {
		t.Fatal("no child")
	}
	c.Send(`41/d1,`)
	waitFor(t, "child removed", func() bool { return len(dyn.Children()) == 0 })
}

func TestListeners(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	var mu sync.Mutex
	var log []string
	add := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
	done := make(chan struct{})
	srv.OnConnection(func(s *Socket) {
		s.Use(func(e *Event) error {
			if e.Name() == "blocked" {
				return errors.New("blocked by middleware")
			}
			return nil
		})
		s.OnError(func(err error) { add("error:" + err.Error()) })
		s.OnAny(func(e *Event) { add("any:" + e.Name()) })
		s.OnAnyOutgoing(func(e *Event) {
			var arg string
			_ = e.Args(&arg)
			add("out:" + e.Name() + ":" + arg)
		})
		s.Once("once", func(*Event) { add("once") })
		s.On("on", func(*Event) { add("on") })
		s.On("off", func(*Event) { add("off") })
		s.Off("off")
		s.On("end", func(*Event) { _ = s.Emit("bye", "x"); close(done) })
	})
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	c.Send(`42["blocked"]`, `42["once"]`, `42["once"]`, `42["on"]`, `42["off"]`, `42["end"]`)
	<-done
	c.Expect(`42["bye","x"]`)
	want := []string{"error:blocked by middleware", "any:once", "once", "any:once", "any:on", "on", "any:off", "any:end", "out:bye:x"}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(log, want) {
		t.Fatalf("log %q\nwant %q", log, want)
	}
}

func TestHandshakeDetails(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	got := make(chan *Handshake, 1)
	reqs := make(chan *http.Request, 1)
	srv.OnConnection(func(s *Socket) {
		if len(s.ID()) != 20 || s.ID() == "" {
			t.Errorf("socket id %q", s.ID())
		}
		got <- s.Handshake()
		reqs <- s.Request()
	})
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", `{"token":"abc"}`)
	h, req := <-got, <-reqs
	if string(h.Auth) != `{"token":"abc"}` || h.Address != "127.0.0.1" || h.Secure || h.XDomain ||
		h.Query.Get("EIO") != "4" || h.Query.Get("transport") != "polling" ||
		h.URL != "/socket.io/?EIO=4&transport=polling" || h.Issued == 0 || req.URL.RequestURI() != h.URL ||
		h.Headers.Get("Host") != strings.TrimPrefix(hs.URL, "http://") ||
		!regexp.MustCompile(`^\w{3} \w{3} \d\d \d{4} \d\d:\d\d:\d\d GMT\+0000 \(Coordinated Universal Time\)$`).MatchString(h.Time) {
		t.Fatalf("handshake %+v", h)
	}
}

func TestCloseShutsDownEverything(t *testing.T) {
	srv := NewServer(nil)
	hs := newHTTPTest(t, srv)
	reasons := make(chan string, 2)
	srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	srv.Of("/b").OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	c.Connect("/b", "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if r := <-reasons; r != ReasonServerShuttingDown {
			t.Fatalf("reason %q", r)
		}
	}
	if n := srv.Engine().ClientsCount(); n != 0 {
		t.Fatalf("%d clients after Close", n)
	}
	if err := srv.Close(ctx); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

func TestOperatorWrappers(t *testing.T) {
	srv, hs := newTestServer(t, nil)
	sockets := make(chan *Socket, 2)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c1, c2 := rawclient.Polling(t, hs.URL, "/socket.io/"), rawclient.Polling(t, hs.URL, "/socket.io/")
	c1.Connect("/", "")
	s1 := <-sockets
	c2.Connect("/", "")
	s2 := <-sockets
	if s1.Transport() != "polling" {
		t.Fatalf("transport %q", s1.Transport())
	}
	ctx := context.Background()
	nsp := srv.Of("/")

	_ = nsp.SocketsJoin("all")
	_ = srv.In("all").Local().Compress(true).Emit("m", 1)
	c1.Expect(`42["m",1]`)
	c2.Expect(`42["m",1]`)
	_ = s1.Except("none").Emit("m", 2) // everyone but s1
	_ = s1.In("all").Emit("m", 3)
	c2.Expect(`42["m",2]`, `42["m",3]`)
	_ = s1.Volatile().Compress(false).Emit("m", 4) // dropped: no GET is held
	_ = s1.Compress(true).Emit("m", 5)
	c1.Expect(`42["m",5]`)

	list, err := nsp.In(s2.ID()).FetchSockets(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("FetchSockets %v %v", list, err)
	}
	r := list[0]
	_ = r.Join("vip")
	_ = srv.Local().Volatile().Compress(true).To("vip").Emit("m", 6) // volatile: dropped
	_ = srv.To("vip").Emit("m", 7)
	c2.Expect(`42["m",7]`)
	_ = r.Leave("vip")
	if ids, _ := nsp.Adapter().Sockets(ctx, []string{"vip"}); len(ids) != 0 {
		t.Fatalf("vip %v", ids)
	}

	// OffAny and OffAnyOutgoing remove the catch-all handlers.
	var mu sync.Mutex
	calls := 0
	count := func(*Event) { mu.Lock(); calls++; mu.Unlock() }
	s1.OnAny(count)
	s1.OnAnyOutgoing(count)
	s1.OffAny()
	s1.OffAnyOutgoing()
	_ = s1.Emit("m", 8)
	c1.Send(`42["x"]`)
	c1.Expect(`42["m",8]`)

	_ = r.Disconnect(false)
	c2.Expect(`41`)
	_ = nsp.DisconnectSockets(true)
	c1.Expect(`41`)
	c1.ExpectClose()
	<-s1.wait(sigClosed) // after the "x" event was dispatched
	mu.Lock()
	defer mu.Unlock()
	if calls != 0 {
		t.Fatalf("removed catch-all handlers ran %d times", calls)
	}
}

func TestCloseDoesNotWaitForeverForHandlers(t *testing.T) {
	srv := NewServer(nil)
	hs := newHTTPTest(t, srv)
	release := make(chan struct{})
	srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(string) { <-release }) })
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := srv.Close(ctx)
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v, want the deadline error", err)
	}
	if n := srv.Engine().ClientsCount(); n != 0 {
		t.Fatalf("%d clients after Close", n)
	}
}

func TestHandlersRunInArrivalOrder(t *testing.T) {
	srv, hs := newTestServer(t, &ServerOptions{MaxPendingEvents: 8})
	got := make(chan int, 500)
	srv.OnConnection(func(s *Socket) {
		s.On("n", func(e *Event) {
			var n int
			_ = e.Args(&n)
			if n%50 == 0 {
				time.Sleep(time.Millisecond) // a slow handler now and then
			}
			got <- n
		})
	})
	c := rawclient.WebSocket(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	var batch []string
	for i := range 500 {
		batch = append(batch, fmt.Sprintf(`42["n",%d]`, i))
	}
	c.Send(batch...) // more than MaxPendingEvents: reading pauses, nothing is lost
	for want := range 500 {
		if n := <-got; n != want {
			t.Fatalf("event %d handled at position %d", n, want)
		}
	}
}

// Broadcasts reach the OnAnyOutgoing handlers of a connected socket, and
// still reach its client once they are removed.
func TestAnyOutgoingSeesBroadcasts(t *testing.T) {
	srv := NewServer(nil)
	hs := newHTTPTest(t, srv)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := rawclient.WebSocket(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	s := <-sockets
	seen := make(chan string, 4)
	s.OnAnyOutgoing(func(e *Event) {
		var arg string
		_ = e.Args(&arg)
		seen <- arg
	})
	_ = srv.Emit("m", "one")
	c.Expect(`42["m","one"]`)
	if got := <-seen; got != "one" {
		t.Fatalf("OnAnyOutgoing saw %q, want one", got)
	}
	s.OffAnyOutgoing()
	_ = srv.Emit("m", "two")
	c.Expect(`42["m","two"]`)
	select {
	case got := <-seen:
		t.Fatalf("removed OnAnyOutgoing handler saw %q", got)
	default:
	}
}
