package redisadapter_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/adapter/redisadapter"
	"github.com/seed9706/socketio/client"
	"github.com/seed9706/socketio/internal/faultproxy"
	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/socketio"
)

// streamsNode is a Go server with the Redis Streams adapter and connection
// state recovery; "join" joins a room (acknowledged).
type streamsNode struct {
	srv  *socketio.Server
	addr string // host:port
}

func startStreamsNode(t *testing.T, redisAddr string) *streamsNode {
	rdb := newClient(t, redisAddr)
	srv := socketio.NewServer(&socketio.ServerOptions{
		Adapter:                 redisadapter.NewStreams(rdb, nil),
		ConnectionStateRecovery: &socketio.ConnectionStateRecovery{},
		PingInterval:            300 * time.Millisecond,
		PingTimeout:             400 * time.Millisecond,
	})
	srv.OnConnection(func(s *socketio.Socket) {
		if !s.Recovered() {
			s.SetData(map[string]string{"first": "go"})
		}
		s.On("join", func(e *socketio.Event) {
			var room string
			_ = e.Args(&room)
			s.Join(room)
			_ = e.Ack(room)
		})
		s.On("data", func(e *socketio.Event) { _ = e.Ack(s.Data()) })
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	return &streamsNode{srv: srv, addr: hs.Listener.Addr().String()}
}

// recordingClient is a Go client that records the "n" events it receives and
// its connections.
type recordingClient struct {
	s         *client.Socket
	mu        sync.Mutex
	got       []int
	ids       []string
	recovered []bool
}

func startRecordingClient(t *testing.T, ctx context.Context, url string) *recordingClient {
	m, err := client.NewManager(url, &client.ManagerOptions{
		Transports:           []string{"websocket"},
		ReconnectionDelay:    100 * time.Millisecond,
		ReconnectionDelayMax: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	c := &recordingClient{s: m.Socket("/", nil)}
	c.s.OnConnect(func() {
		c.mu.Lock()
		c.ids = append(c.ids, c.s.ID())
		c.recovered = append(c.recovered, c.s.Recovered())
		c.mu.Unlock()
	})
	c.s.On("n", func(e *client.Event) {
		var n int
		var offset string
		if err := e.Args(&n, &offset); err != nil || offset == "" {
			t.Errorf("event %s: %v", e.Raw(), err)
		}
		c.mu.Lock()
		c.got = append(c.got, n)
		c.mu.Unlock()
	})
	if err := c.s.ConnectWait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.EmitWithAck(ctx, "join", "feed"); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *recordingClient) wait(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			c.mu.Lock()
			defer c.mu.Unlock()
			t.Fatalf("timed out: got %d events, connections %v", len(c.got), c.ids)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// check fails unless the client got 1..total once each in order and was
// recovered on its second connection with the same id.
func (c *recordingClient) check(t *testing.T, total int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ids) != 2 || c.ids[1] != c.ids[0] || c.recovered[0] || !c.recovered[1] {
		t.Fatalf("connections %v, recovered %v", c.ids, c.recovered)
	}
	if len(c.got) != total {
		t.Fatalf("got %d events, want %d: %v", len(c.got), total, c.got)
	}
	for i, n := range c.got {
		if n != i+1 {
			t.Fatalf("event %d is %d: %v", i, n, c.got)
		}
	}
}

// feedFrom calls emit(1..total), one every interval, until the test ends.
func feedFrom(t *testing.T, total int, interval time.Duration, emit func(n int)) {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= total; i++ {
			emit(i)
			select {
			case <-stop:
				return
			case <-time.After(interval):
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// A client on node A loses its connection while node B broadcasts to its
// room; it comes back on node B (the load balancer moved it) and is
// recovered there: same id, data, every event once and in order.
// A silenced connection is noticed by both sides at about the same time
// (the ping timeout); the client's reconnection delay lets node A store the
// session first.
func TestStreamsRecoveryAcrossGoNodes(t *testing.T) {
	for _, fault := range []string{"cut", "blackhole"} {
		t.Run(fault, func(t *testing.T) {
			redisAddr := interop.StartRedis(t)
			a, b := startStreamsNode(t, redisAddr), startStreamsNode(t, redisAddr)
			proxy := faultproxy.Start(t, a.addr)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := startRecordingClient(t, ctx, proxy.URL())

			const total = 300
			feedFrom(t, total, 4*time.Millisecond, func(n int) { _ = b.srv.To("feed").Emit("n", n) })
			c.wait(t, ctx, func() bool { return len(c.got) >= 30 })
			proxy.Retarget(b.addr)
			if fault == "cut" {
				proxy.Cut()
			} else {
				proxy.Blackhole()
			}
			c.wait(t, ctx, func() bool { return len(c.got) >= total && len(c.ids) >= 2 })
			c.check(t, total)
			reply, err := c.s.EmitWithAck(ctx, "data")
			if err != nil || string(reply.Raw()[0]) != `{"first":"go"}` {
				t.Fatalf("data after recovery on another node: %v %v", reply, err)
			}
			if len(b.srv.Of("/").Sockets()) != 1 || len(a.srv.Of("/").Sockets()) != 0 {
				t.Fatal("the socket is not on node B")
			}
		})
	}
}

// The stream entries and the stored session are those of the JS adapter.
func TestStreamsWire(t *testing.T) {
	redisAddr := interop.StartRedis(t)
	n := startStreamsNode(t, redisAddr)
	rdb := newClient(t, redisAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = n.srv.To("room1").Emit("hello", "world")
	_ = n.srv.To("room1").Emit("bin", []byte{1, 2})
	entries, err := rdb.XRange(ctx, "socket.io", "-", "+").Result()
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %v %v", entries, err)
	}
	e := entries[0].Values
	if e["nsp"] != "/" || e["type"] != "3" || len(e["uid"].(string)) != 16 ||
		e["data"] != `{"packet":{"type":2,"data":["hello","world"]},"opts":{"rooms":["room1"],"except":[],"flags":{}}}` {
		t.Fatalf("entry %v", e)
	}
	if d := entries[1].Values["data"].(string); d[0] == '{' {
		t.Fatalf("binary entry is not base64 msgpack: %s", d)
	}
	raw, _ := json.Marshal(entries[1].Values)
	t.Logf("binary entry %s", raw)
}

// nodeStreams is a Node.js node (testdata/interop/streams.mjs).
type nodeStreams struct {
	p    *interop.Process
	addr string
}

func startNodeStreams(t *testing.T, redisAddr string) *nodeStreams {
	p := interop.Start(t, "testdata/interop/streams.mjs", "redis://"+redisAddr)
	t.Cleanup(func() { _ = p.Send(map[string]any{"op": "exit"}) })
	var l struct {
		URL string `json:"url"`
	}
	if err := p.Expect(t, "server").Decode(&l); err != nil {
		t.Fatal(err)
	}
	return &nodeStreams{p: p, addr: l.URL[len("http://"):]}
}

// awaitRecovered waits for the Node node's connection line of a recovered socket.
func (n *nodeStreams) awaitRecovered(t *testing.T, id string) {
	t.Helper()
	var l struct {
		ID        string `json:"id"`
		Recovered bool   `json:"recovered"`
	}
	if err := n.p.Await(t, "connection").Decode(&l); err != nil || l.ID != id || !l.Recovered {
		t.Fatalf("connection on the Node.js node: %+v %v", l, err)
	}
}

// A client moves between a Go node and a Node.js node of one Redis Streams
// cluster and is recovered on the other, both ways: events sent while it
// was away are replayed, then live events go on, once each and in order.
func TestStreamsRecoveryGoAndNode(t *testing.T) {
	for _, firstOnGo := range []bool{true, false} {
		name := map[bool]string{true: "go-to-node", false: "node-to-go"}[firstOnGo]
		t.Run(name, func(t *testing.T) {
			redisAddr := interop.StartRedis(t)
			goNode, node := startStreamsNode(t, redisAddr), startNodeStreams(t, redisAddr)
			from, to := goNode.addr, node.addr
			if !firstOnGo {
				from, to = to, from
			}
			// Events come from the first node in both cases: the Go node
			// (XADD by Go, read by Node.js) or the Node.js node.
			emit := func(first, last int) {
				for n := first; n <= last; n++ {
					if firstOnGo {
						_ = goNode.srv.To("feed").Emit("n", n)
					} else {
						_ = node.p.Send(map[string]any{"op": "emit", "room": "feed", "n": n})
					}
				}
			}
			proxy := faultproxy.Start(t, from)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := startRecordingClient(t, ctx, proxy.URL())
			if !firstOnGo {
				node.p.Await(t, "connection")
			}
			emit(1, 30)
			c.wait(t, ctx, func() bool { return len(c.got) == 30 })
			proxy.Retarget(to)
			proxy.Cut()
			emit(31, 60) // while the client is away
			c.wait(t, ctx, func() bool { return len(c.ids) == 2 })
			if firstOnGo {
				node.awaitRecovered(t, c.ids[0])
			}
			c.wait(t, ctx, func() bool { return len(c.got) == 60 })
			emit(61, 90) // to the recovered socket
			c.wait(t, ctx, func() bool { return len(c.got) >= 90 })
			c.check(t, 90)
			want := map[bool]string{true: `{"first":"go"}`, false: `{"first":"node"}`}[firstOnGo]
			if reply, err := c.s.EmitWithAck(ctx, "data"); err != nil || string(reply.Raw()[0]) != want {
				t.Fatalf("data after recovery: %v %v, want %s", reply, err, want)
			}
		})
	}
}

// The official client, connected to a Go node, is cut off and lands on a
// Node.js node of the same Redis Streams cluster, which recovers it.
func TestStreamsRecoveryOfficialClient(t *testing.T) {
	redisAddr := interop.StartRedis(t)
	goNode, node := startStreamsNode(t, redisAddr), startNodeStreams(t, redisAddr)
	proxy := faultproxy.Start(t, goNode.addr)
	p := interop.Start(t, "../../socketio/testdata/interop/recovery.mjs", proxy.URL(), `["websocket"]`)
	t.Cleanup(func() { _ = p.Send(map[string]any{"op": "exit"}) })
	var first struct {
		ID string `json:"id"`
	}
	if err := p.Expect(t, "connect").Decode(&first); err != nil {
		t.Fatal(err)
	}
	_ = p.Send(map[string]any{"op": "join", "room": "feed"})
	p.Expect(t, "joined")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []int
	next := func() (event string, n int) {
		t.Helper()
		line, err := p.Next(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		var l struct {
			Event     string `json:"event"`
			N         int    `json:"n"`
			ID        string `json:"id"`
			Recovered bool   `json:"recovered"`
		}
		_ = line.Decode(&l)
		switch l.Event {
		case "n":
			got = append(got, l.N)
		case "connect":
			if l.ID != first.ID || !l.Recovered {
				t.Fatalf("reconnected as %+v, want recovered %s", l, first.ID)
			}
		}
		return l.Event, l.N
	}
	for n := 1; n <= 10; n++ {
		_ = goNode.srv.To("feed").Emit("n", n)
	}
	for len(got) < 10 {
		next()
	}
	proxy.Retarget(node.addr)
	proxy.Cut()
	for n := 11; n <= 20; n++ {
		_ = goNode.srv.To("feed").Emit("n", n)
	}
	for ev, _ := next(); ev != "connect"; ev, _ = next() {
	}
	for n := 21; n <= 30; n++ {
		_ = goNode.srv.To("feed").Emit("n", n)
	}
	for len(got) < 30 {
		next()
	}
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("events %v", got)
		}
	}
}
