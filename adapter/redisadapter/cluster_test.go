package redisadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/adapter/redisadapter"
	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/socketio"
)

// line is one line printed by testdata/interop/cluster.mjs.
type line struct {
	Event   string          `json:"event"`
	Name    string          `json:"name"`
	Server  string          `json:"server"`
	URL     string          `json:"url"`
	ID      string          `json:"id"`
	Ev      string          `json:"ev"`
	Args    json.RawMessage `json:"args"`
	Reason  string          `json:"reason"`
	Seq     int64           `json:"seq"`
	Error   string          `json:"error"`
	Replies json.RawMessage `json:"replies"`
	Sockets []struct {
		ID      string          `json:"id"`
		Rooms   []string        `json:"rooms"`
		Data    json.RawMessage `json:"data"`
		EIO     string          `json:"eio"`
		Host    string          `json:"host"`
		Address string          `json:"address"`
		Issued  int64           `json:"issued"`
	} `json:"sockets"`
	Count int             `json:"count"`
	Reply json.RawMessage `json:"reply"`
}

// node drives cluster.mjs: Node.js servers, JS clients and the JS emitter.
// Lines are matched out of order, since they interleave.
type node struct {
	t       *testing.T
	p       *interop.Process
	backlog []line
	seq     atomic.Int64
}

func startNode(t *testing.T, redisAddr, mode string) *node {
	p := interop.Start(t, "testdata/interop/cluster.mjs", "redis://"+redisAddr, mode)
	n := &node{t: t, p: p}
	t.Cleanup(func() { _ = p.Send(map[string]any{"op": "exit"}) })
	return n
}

func (n *node) send(cmd map[string]any) int64 {
	n.t.Helper()
	seq := n.seq.Add(1)
	cmd["seq"] = seq
	if err := n.p.Send(cmd); err != nil {
		n.t.Fatalf("send %v: %v", cmd, err)
	}
	return seq
}

func (n *node) wait(what string, match func(line) bool) line {
	n.t.Helper()
	for i, l := range n.backlog {
		if match(l) {
			n.backlog = slices.Delete(n.backlog, i, i+1)
			return l
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		raw, err := n.p.Next(ctx)
		if err != nil {
			n.t.Fatalf("waiting for %s: %v (backlog %+v)", what, err, n.backlog)
		}
		var l line
		if err := raw.Decode(&l); err != nil {
			n.t.Fatal(err)
		}
		if l.Event == "error" {
			n.t.Fatalf("cluster.mjs failed: %s", raw)
		}
		if match(l) {
			return l
		}
		n.backlog = append(n.backlog, l)
	}
}

// do runs a command and waits for its "done" line.
func (n *node) do(cmd map[string]any) line {
	n.t.Helper()
	seq := n.send(cmd)
	return n.wait(fmt.Sprintf("done %v", cmd), func(l line) bool { return l.Event == "done" && l.Seq == seq })
}

// event waits for client name to receive ev.
func (n *node) event(name, ev string) line {
	n.t.Helper()
	return n.wait(name+" gets "+ev, func(l line) bool { return l.Event == "event" && l.Name == name && l.Ev == ev })
}

// noEvent checks that no client got ev (after the events that were awaited).
func (n *node) noEvent(ev string, names ...string) {
	n.t.Helper()
	time.Sleep(200 * time.Millisecond)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		raw, err := n.p.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		var l line
		_ = raw.Decode(&l)
		n.backlog = append(n.backlog, l)
	}
	for _, l := range n.backlog {
		if l.Event == "event" && l.Ev == ev && slices.Contains(names, l.Name) {
			n.t.Fatalf("%s got %s: %s", l.Name, ev, l.Args)
		}
	}
}

func (n *node) client(name, url string) string {
	n.t.Helper()
	return n.clientOf(name, url, "/")
}

func (n *node) clientOf(name, url, nsp string) string {
	n.t.Helper()
	n.send(map[string]any{"op": "client", "name": name, "url": url, "nsp": nsp})
	return n.wait("connect "+name, func(l line) bool { return l.Event == "connect" && l.Name == name }).ID
}

func (n *node) join(name, room string) {
	n.t.Helper()
	seq := n.send(map[string]any{"op": "cemit", "name": name, "event": "join", "args": []any{room}})
	l := n.wait("join ack", func(l line) bool { return l.Event == "cack" && l.Seq == seq })
	if l.Error != "" {
		n.t.Fatalf("join %s %s: %s", name, room, l.Error)
	}
}

func (n *node) server(name string) string {
	n.t.Helper()
	n.send(map[string]any{"op": "server", "name": name})
	return n.wait("server "+name, func(l line) bool { return l.Event == "server" && l.Name == name }).URL
}

// goNode is a Go server in the cluster.
type goNode struct {
	name       string
	srv        *socketio.Server
	url        string
	serverSide chan string
}

func startGoNode(t *testing.T, name string, factory adapter.Factory) *goNode {
	g := &goNode{name: name, serverSide: make(chan string, 16)}
	g.srv = socketio.NewServer(&socketio.ServerOptions{Adapter: factory})
	g.srv.OnConnection(func(s *socketio.Socket) {
		s.SetData(map[string]string{"node": name})
		s.On("join", func(e *socketio.Event) {
			var room string
			_ = e.Args(&room)
			s.Join(room)
			_ = e.Ack(room)
		})
	})
	g.srv.Of("/").OnServerSideEmit(func(event string, args []json.RawMessage, ack func(any)) {
		parts := []string{event}
		for _, a := range args {
			parts = append(parts, string(a))
		}
		g.serverSide <- strings.Join(parts, " ")
		ack("go-" + name)
	})
	hs := httptest.NewServer(g.srv)
	g.url = hs.URL
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.srv.Close(ctx)
		hs.Close()
	})
	return g
}

func newClient(t *testing.T, addr string) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func jsonEqual(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %s: %v", what, got, err)
	}
	_ = json.Unmarshal([]byte(want), &w)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("%s = %s, want %s", what, got, want)
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func sortedReplies(t *testing.T, raw []json.RawMessage) string {
	t.Helper()
	var out []string
	for _, r := range raw {
		out = append(out, string(r))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// TestClassicMixedCluster runs two Go nodes and one Node.js node on one
// Redis, with official JS clients on each, and checks every cluster
// operation in both directions, and both emitters.
func TestClassicMixedCluster(t *testing.T) { testMixedCluster(t, "classic") }

// TestShardedMixedCluster is the same with the sharded adapters (the
// emitters do not support them, in JS either).
func TestShardedMixedCluster(t *testing.T) { testMixedCluster(t, "sharded") }

func testMixedCluster(t *testing.T, mode string) {
	addr := interop.StartRedis(t)
	n := startNode(t, addr, mode)
	rdb := newClient(t, addr)
	factory := redisadapter.New(rdb, &redisadapter.Options{RequestsTimeout: 3 * time.Second})
	if mode == "sharded" {
		factory = redisadapter.NewSharded(rdb, &redisadapter.ShardedOptions{RequestsTimeout: 3 * time.Second})
	}
	g1, g2 := startGoNode(t, "g1", factory), startGoNode(t, "g2", factory)
	n1 := n.server("n1")

	c1, c2, c3 := n.client("c1", g1.url), n.client("c2", g2.url), n.client("c3", n1)
	n.join("c1", "r1")
	n.join("c2", "r2")
	n.join("c3", "r1")
	for _, id := range []string{c1, c2, c3} {
		if len(id) != 20 {
			t.Fatalf("socket id %q is not 20 characters", id)
		}
	}

	t.Run("ServerCount", func(t *testing.T) {
		if c, err := g1.srv.Of("/").Adapter().ServerCount(ctxTimeout(t, time.Second)); err != nil || c != 3 {
			t.Fatalf("Go ServerCount = %d, %v", c, err)
		}
		if l := n.do(map[string]any{"op": "srv", "server": "n1", "do": "serverCount"}); l.Count != 3 {
			t.Fatalf("Node serverCount = %d", l.Count)
		}
	})

	t.Run("BroadcastFromGo", func(t *testing.T) {
		if err := g1.srv.To("r1").Emit("b1", "x", []byte{1, 2}, map[string]any{"n": 1.5}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"c1", "c3"} {
			jsonEqual(t, c+" b1", n.event(c, "b1").Args, `["x",{"$bin":"AQI="},{"n":1.5}]`)
		}
		if err := g2.srv.Of("/").Except("r1").Emit("b2", 7); err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, "c2 b2", n.event("c2", "b2").Args, `[7]`)
		if err := g2.srv.Of("/").Volatile().Emit("b3"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"c1", "c2", "c3"} {
			n.event(c, "b3")
		}
		if err := g1.srv.Of("/").Local().Emit("b4"); err != nil {
			t.Fatal(err)
		}
		n.event("c1", "b4")
		n.noEvent("b1", "c2")
		n.noEvent("b2", "c1", "c3")
		n.noEvent("b4", "c2", "c3")
	})

	t.Run("BroadcastFromNode", func(t *testing.T) {
		n.do(map[string]any{"op": "srv", "server": "n1", "do": "emit", "rooms": []string{"r1", "r2"}, "except": []string{"r2"},
			"event": "n1", "args": []any{map[string]any{"$bin": "AwQ="}, "s"}})
		for _, c := range []string{"c1", "c3"} {
			jsonEqual(t, c+" n1", n.event(c, "n1").Args, `[{"$bin":"AwQ="},"s"]`)
		}
		n.do(map[string]any{"op": "srv", "server": "n1", "do": "emit", "rooms": []string{c2}, "event": "direct"})
		n.event("c2", "direct")
		// A single room: the room's own channel (sharded, dynamic mode).
		n.do(map[string]any{"op": "srv", "server": "n1", "do": "emit", "rooms": []string{"r2"}, "event": "single"})
		n.event("c2", "single")
		n.noEvent("single", "c1", "c3")
		n.noEvent("n1", "c2")
		n.noEvent("direct", "c1", "c3")
	})

	t.Run("FetchSockets", func(t *testing.T) {
		list, err := g1.srv.Of("/").FetchSockets(ctxTimeout(t, 5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range list {
			rooms := slices.Clone(s.Rooms)
			slices.Sort(rooms)
			data, _ := json.Marshal(s.Data)
			got[s.ID] = strings.Join(rooms, ",") + " " + string(data)
			if s.Handshake == nil || s.Handshake.Query.Get("EIO") != "4" {
				t.Fatalf("socket %s handshake %+v", s.ID, s.Handshake)
			}
		}
		want := map[string]string{
			c1: sortedJoin(c1, "r1") + ` {"node":"g1"}`,
			c2: sortedJoin(c2, "r2") + ` {"node":"g2"}`,
			c3: sortedJoin(c3, "r1") + ` {"node":"n1"}`,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Go FetchSockets = %v, want %v", got, want)
		}
		l := n.do(map[string]any{"op": "srv", "server": "n1", "do": "fetchSockets", "rooms": []string{"r1"}})
		if len(l.Sockets) != 2 {
			t.Fatalf("Node fetchSockets(r1) = %+v", l.Sockets)
		}
		for _, s := range l.Sockets {
			if s.ID == c1 {
				jsonEqual(t, "c1 data", s.Data, `{"node":"g1"}`)
				if s.EIO != "4" || s.Host != strings.TrimPrefix(g1.url, "http://") || s.Address != "127.0.0.1" ||
					s.Issued < time.Now().Add(-time.Minute).UnixMilli() ||
					!slices.Equal(s.Rooms, []string{c1, "r1"}) && !slices.Equal(s.Rooms, []string{"r1", c1}) {
					t.Fatalf("c1 as seen from Node: %+v", s)
				}
			} else if s.ID != c3 {
				t.Fatalf("unexpected socket %+v", s)
			}
		}
	})

	t.Run("RemoteSocketOps", func(t *testing.T) {
		list, err := g1.srv.Of("/").In(c3).FetchSockets(ctxTimeout(t, 5*time.Second))
		if err != nil || len(list) != 1 {
			t.Fatalf("fetch c3: %v, %v", list, err)
		}
		rs := list[0]
		if err := rs.Emit("hi", "from-go"); err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, "c3 hi", n.event("c3", "hi").Args, `["from-go"]`)
		if err := rs.Join("joined-by-go"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			l := n.do(map[string]any{"op": "srv", "server": "n1", "do": "fetchSockets", "rooms": []string{"joined-by-go"}})
			return len(l.Sockets) == 1 && l.Sockets[0].ID == c3
		})
		if err := rs.Leave("joined-by-go"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			l := n.do(map[string]any{"op": "srv", "server": "n1", "do": "fetchSockets", "rooms": []string{"joined-by-go"}})
			return len(l.Sockets) == 0
		})
		// From Node to a socket of a Go node.
		n.do(map[string]any{"op": "srv", "server": "n1", "do": "remote", "id": c2, "action": "join", "room": "joined-by-node"})
		waitFor(t, func() bool {
			ids, _ := g2.srv.Of("/").Adapter().Sockets(context.Background(), []string{"joined-by-node"})
			return slices.Equal(ids, []string{c2})
		})
		n.do(map[string]any{"op": "srv", "server": "n1", "do": "remote", "id": c2, "action": "emit", "event": "hey"})
		n.event("c2", "hey")
	})

	t.Run("SocketsJoinLeave", func(t *testing.T) {
		if err := g1.srv.Of("/").In("r1").SocketsJoin("r1b"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			l := n.do(map[string]any{"op": "srv", "server": "n1", "do": "fetchSockets", "rooms": []string{"r1b"}})
			return len(l.Sockets) == 2
		})
		n.do(map[string]any{"op": "srv", "server": "n1", "do": "socketsJoin", "rooms": []string{"r2"}, "room": "r2b"})
		waitFor(t, func() bool {
			ids, _ := g2.srv.Of("/").Adapter().Sockets(context.Background(), []string{"r2b"})
			return slices.Equal(ids, []string{c2})
		})
		n.do(map[string]any{"op": "srv", "server": "n1", "do": "socketsLeave", "room": "r1b"})
		waitFor(t, func() bool {
			ids, _ := g1.srv.Of("/").Adapter().Sockets(context.Background(), []string{"r1b"})
			return len(ids) == 0
		})
	})

	t.Run("ServerSideEmit", func(t *testing.T) {
		replies, err := g1.srv.Of("/").ServerSideEmitWithAck(ctxTimeout(t, 5*time.Second), "hello", 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := sortedReplies(t, replies); got != `"go-g2","node-n1"` {
			t.Fatalf("replies %s", got)
		}
		if got := <-g2.serverSide; got != "hello 1" {
			t.Fatalf("g2 got %q", got)
		}
		if l := n.wait("n1 serverSide", func(l line) bool { return l.Event == "serverSide" }); string(l.Args) != `[1]` {
			t.Fatalf("n1 got %s", l.Args)
		}
		l := n.do(map[string]any{"op": "srv", "server": "n1", "do": "serverSideEmit", "ack": true, "args": []any{"a"}})
		if l.Error != "" {
			t.Fatal(l.Error)
		}
		var got []string
		_ = json.Unmarshal(l.Replies, &got)
		slices.Sort(got)
		if !slices.Equal(got, []string{"go-g1", "go-g2"}) {
			t.Fatalf("Node got replies %s", l.Replies)
		}
		for _, g := range []*goNode{g1, g2} {
			if got := <-g.serverSide; got != `hello "a"` {
				t.Fatalf("%s got %q", g.name, got)
			}
		}
		if err := g2.srv.Of("/").ServerSideEmit("hello", "noack"); err != nil {
			t.Fatal(err)
		}
		if got := <-g1.serverSide; got != `hello "noack"` {
			t.Fatalf("g1 got %q", got)
		}
		n.wait("n1 serverSide noack", func(l line) bool { return l.Event == "serverSide" && string(l.Args) == `["noack"]` })
	})

	t.Run("BroadcastWithAck", func(t *testing.T) {
		replies, err := g1.srv.Of("/").EmitWithAck(ctxTimeout(t, 3*time.Second), "ask", 1)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range replies {
			var v struct{ From string }
			if err := r.Args(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v.From)
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"c1", "c2", "c3"}) {
			t.Fatalf("Go EmitWithAck replies %v", got)
		}
		l := n.do(map[string]any{"op": "srv", "server": "n1", "do": "emitWithAck", "event": "ask2", "timeout": 3000})
		if l.Error != "" {
			t.Fatal(l.Error)
		}
		jsonEqual(t, "Node emitWithAck count", json.RawMessage(fmt.Sprint(strings.Count(string(l.Replies), "from"))), "3")

		// Binary acknowledgements cross nodes as msgpack bin, both ways.
		replies, err = g2.srv.Of("/").EmitWithAck(ctxTimeout(t, 3*time.Second), "askbin")
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, r := range replies {
			var b []byte
			if err := r.Args(&b); err != nil {
				t.Fatal(err)
			}
			got = append(got, string(b))
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"c1", "c2", "c3"}) {
			t.Fatalf("binary replies %q", got)
		}
		l = n.do(map[string]any{"op": "srv", "server": "n1", "do": "emitWithAck", "event": "askbin", "timeout": 3000})
		var bins []struct {
			Bin string `json:"$bin"`
		}
		if err := json.Unmarshal(l.Replies, &bins); err != nil || len(bins) != 3 || l.Error != "" {
			t.Fatalf("Node binary replies %s %s %v", l.Replies, l.Error, err)
		}
		for _, b := range bins {
			if b.Bin == "" {
				t.Fatalf("Node binary replies %s", l.Replies)
			}
		}
	})

	t.Run("Emitters", func(t *testing.T) {
		if mode == "sharded" {
			t.Skip("the redis emitters publish the classic format only")
		}
		// The official emitter reaches clients of Go nodes.
		n.do(map[string]any{"op": "emitter", "do": "emit", "rooms": []string{"r2"}, "event": "e1", "args": []any{"v", map[string]any{"$bin": "BQ=="}}})
		jsonEqual(t, "c2 e1", n.event("c2", "e1").Args, `["v",{"$bin":"BQ=="}]`)
		n.do(map[string]any{"op": "emitter", "do": "serverSideEmit", "args": []any{"em"}})
		if got := <-g1.serverSide; got != `hello "em"` {
			t.Fatalf("g1 got %q", got)
		}
		<-g2.serverSide
		// Our emitter reaches clients of Node and Go nodes.
		em := redisadapter.NewEmitter(rdb, nil)
		if err := em.To("r1").Emit(ctxTimeout(t, time.Second), "e2", []byte{9}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"c1", "c3"} {
			jsonEqual(t, c+" e2", n.event(c, "e2").Args, `[{"$bin":"CQ=="}]`)
		}
		if err := em.In(c3).SocketsJoin(ctxTimeout(t, time.Second), "by-emitter"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			l := n.do(map[string]any{"op": "srv", "server": "n1", "do": "fetchSockets", "rooms": []string{"by-emitter"}})
			return len(l.Sockets) == 1
		})
		if err := em.In(c2).DisconnectSockets(ctxTimeout(t, time.Second), true); err != nil {
			t.Fatal(err)
		}
		n.wait("c2 disconnect", func(l line) bool { return l.Event == "disconnect" && l.Name == "c2" })
		if err := em.Emit(ctxTimeout(t, time.Second), "disconnect"); err == nil {
			t.Fatal("reserved event name accepted")
		}
	})

	t.Run("OtherNamespace", func(t *testing.T) {
		g1.srv.Of("/chat")
		g2.srv.Of("/chat")
		n.clientOf("c4", g2.url, "/chat")
		n.clientOf("c5", n1, "/chat")
		if err := g1.srv.Of("/chat").Emit("chat1", "x"); err != nil {
			t.Fatal(err)
		}
		n.event("c4", "chat1")
		n.event("c5", "chat1")
		n.do(map[string]any{"op": "srv", "server": "n1", "do": "emit", "nsp": "/chat", "event": "chat2"})
		n.event("c4", "chat2")
		n.event("c5", "chat2")
		n.noEvent("chat1", "c1", "c2", "c3")
		n.noEvent("chat2", "c1", "c2", "c3")
		if mode == "classic" {
			if err := redisadapter.NewEmitter(rdb, nil).Of("chat").Emit(ctxTimeout(t, time.Second), "chat3"); err != nil {
				t.Fatal(err)
			}
			n.event("c4", "chat3")
			n.event("c5", "chat3")
		}
	})

	t.Run("DisconnectRemote", func(t *testing.T) {
		list, err := g1.srv.Of("/").In(c3).FetchSockets(ctxTimeout(t, 5*time.Second))
		if err != nil || len(list) != 1 {
			t.Fatalf("fetch c3: %v, %v", list, err)
		}
		if err := list[0].Disconnect(true); err != nil { // a RemoteSocket of the Node.js node
			t.Fatal(err)
		}
		n.wait("c3 disconnect", func(l line) bool { return l.Event == "disconnect" && l.Name == "c3" })
		n.do(map[string]any{"op": "srv", "server": "n1", "do": "disconnectSockets", "rooms": []string{c1}})
		n.wait("c1 disconnect", func(l line) bool { return l.Event == "disconnect" && l.Name == "c1" })
	})
}

func sortedJoin(ids ...string) string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return strings.Join(s, ",")
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
