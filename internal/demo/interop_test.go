package demo

import (
	"github.com/redis/go-redis/v9"
	"strings"
	"testing"
	"time"
)

// These tests drive the three namespaces with the official socket.io-client
// and compare what it receives with golden strings: they keep the event sets
// of CONTRACTS.md section 3 exact.

func agentAuth(name string, tickets ...string) map[string]any {
	if tickets == nil {
		tickets = []string{}
	}
	return map[string]any{"token": testToken, "name": name, "tickets": tickets}
}

func expect(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func TestSupportAndAgentsProtocol(t *testing.T) {
	srv := startApp(t, "127.0.0.1:0", Options{})
	supportFlow(t, srv.url(), srv.url(), srv.url())
}

// TestClusterProtocol: the same with -redis, the customer on one server and
// the agents on two others.
func TestClusterProtocol(t *testing.T) {
	_, nodes := startCluster(t, 3, Options{})
	supportFlow(t, nodes[0].url(), nodes[1].url(), nodes[2].url())
}

// supportFlow runs a support conversation: Ann (a customer) on annURL, Bob
// and Eve (agents) on bobURL and eveURL.
func supportFlow(t *testing.T, annURL, bobURL, eveURL string) {
	c := startPeers(t, annURL)
	c.connectTo(bobURL, "bob", "/agents", agentAuth("Bob"), false)
	expect(t, "bob queue on connection", c.event("bob", "queue"), `[[]]`)
	c.connectTo(eveURL, "eve", "/agents", agentAuth("Eve"), false)
	expect(t, "eve queue on connection", c.event("eve", "queue"), `[[]]`)
	if l := c.connect("ann", "/support", nil, false); l.Event != "connect" {
		t.Fatalf("customer: %+v", l)
	}

	// Bad requests get a clear error.
	expect(t, "message before a ticket", c.emit("ann", "message:send", map[string]any{"text": "hi"}), `[{"error":"open a ticket first"}]`)
	expect(t, "empty name", c.emit("ann", "ticket:open", map[string]any{"name": "  "}), `[{"error":"name must be 1 to 40 characters"}]`)

	tid := ticketOf(t, c.emit("ann", "ticket:open", map[string]any{"name": " Ann "}))
	ids := map[string]string{tid: "T1"}
	wantQueue := `[[{"ticketId":"T1","name":"Ann","openedAt":0,"online":true}]]`
	expect(t, "bob queue", normalize(c.event("bob", "queue"), ids), wantQueue)
	expect(t, "eve queue", normalize(c.event("eve", "queue"), ids), wantQueue)

	expect(t, "customer message ack", normalize(c.emit("ann", "message:send", map[string]any{"text": "My parcel is late"}), ids), `[{"id":"ID","ts":0}]`)

	expect(t, "claim", normalize(c.emit("bob", "ticket:claim", map[string]any{"ticketId": tid}), ids),
		`[{"ok":true,"ticket":{"ticketId":"T1","name":"Ann","openedAt":0,"agent":"Bob","online":true,"messages":[`+
			`{"id":"ID","ticketId":"T1","from":"customer","name":"Ann","text":"My parcel is late","ts":0}]}}]`)
	expect(t, "assigned", normalize(c.event("ann", "ticket:assigned"), ids), `[{"ticketId":"T1","agent":"Bob"}]`)
	expect(t, "bob queue after claim", c.event("bob", "queue"), `[[]]`)
	expect(t, "eve queue after claim", c.event("eve", "queue"), `[[]]`)
	expect(t, "second claim", c.emit("eve", "ticket:claim", map[string]any{"ticketId": tid}), `[{"ok":false,"error":"already claimed by Bob"}]`)
	expect(t, "unknown ticket", c.emit("eve", "ticket:claim", map[string]any{"ticketId": "nope"}), `[{"ok":false,"error":"ticket not found"}]`)
	expect(t, "eve posting to bob's ticket", c.emit("eve", "message:send", map[string]any{"ticketId": tid, "text": "hi"}), `[{"error":"this ticket is not assigned to you"}]`)

	expect(t, "agent message ack", normalize(c.emit("bob", "message:send", map[string]any{"ticketId": tid, "text": "Let me check"}), ids), `[{"id":"ID","ts":0}]`)
	expect(t, "customer gets it", normalize(c.event("ann", "message"), ids),
		`[{"id":"ID","ticketId":"T1","from":"agent","name":"Bob","text":"Let me check","ts":0}]`)
	c.emit("ann", "message:send", map[string]any{"text": "Thanks"})
	expect(t, "agent gets it", normalize(c.event("bob", "message"), ids),
		`[{"id":"ID","ticketId":"T1","from":"customer","name":"Ann","text":"Thanks","ts":0}]`)

	c.send(map[string]any{"op": "emit", "name": "ann", "ev": "typing", "args": []any{true}})
	expect(t, "agent sees typing", normalize(c.event("bob", "typing"), ids), `[{"from":"customer","name":"Ann","typing":true,"ticketId":"T1"}]`)
	c.send(map[string]any{"op": "emit", "name": "bob", "ev": "typing", "args": []any{map[string]any{"ticketId": tid, "typing": true}}})
	expect(t, "customer sees typing", normalize(c.event("ann", "typing"), ids), `[{"from":"agent","name":"Bob","typing":true,"ticketId":"T1"}]`)

	// Presence: the customer leaves, the agent is told.
	c.send(map[string]any{"op": "close", "name": "ann"})
	expect(t, "presence", normalize(c.event("bob", "presence"), ids), `[{"ticketId":"T1","online":false}]`)

	expect(t, "close", c.emit("bob", "ticket:close", map[string]any{"ticketId": tid}), `[{"ok":true}]`)

	// Eve was in no ticket room: she got only queues.
	for _, l := range c.unmatched("eve") {
		if l.Event == "event" && l.Ev != "queue" {
			t.Errorf("eve got %s %s", l.Ev, l.Args)
		}
	}
	// The sender never gets its own message or typing back.
	for _, name := range []string{"ann", "bob"} {
		for _, l := range c.unmatched(name) {
			if l.Event == "event" {
				t.Errorf("%s got an extra %s %s", name, l.Ev, l.Args)
			}
		}
	}
}

func TestAgentsRejectWrongToken(t *testing.T) {
	srv := startApp(t, "127.0.0.1:0", Options{})
	c := startPeers(t, srv.url())
	for name, auth := range map[string]any{
		"wrong":   map[string]any{"token": "guess", "name": "Mallory"},
		"missing": nil,
		"number":  map[string]any{"token": 42},
	} {
		l := c.connect(name, "/agents", auth, false)
		if l.Event != "connect_error" || l.Message != "unauthorized" || string(l.Data) != "null" {
			t.Errorf("%s: %+v (data %s), want connect_error unauthorized", name, l, l.Data)
		}
	}
	if l := c.connect("right", "/agents", agentAuth("Bob"), false); l.Event != "connect" {
		t.Errorf("right token: %+v", l)
	}
}

// TestOrdersCluster: two clients on two servers follow the same order and
// see the same moves, once each.
func TestOrdersCluster(t *testing.T) {
	_, nodes := startCluster(t, 2, Options{OrderStep: 100 * time.Millisecond})
	c := startPeers(t, nodes[0].url())
	c.connect("o1", "/orders", nil, false)
	c.connectTo(nodes[1].url(), "o2", "/orders", nil, false)
	first := c.emit("o1", "order:track", map[string]any{"orderId": "B-7"})
	if second := c.emit("o2", "order:track", map[string]any{"orderId": "B-7"}); second != first && !strings.Contains(second, `"status":"packed"`) {
		t.Errorf("second server: %s, first %s", second, first)
	}
	for _, status := range []string{"packed", "shipped", "delivered"} {
		a, b := c.event("o1", "order:status"), c.event("o2", "order:status")
		if a != b || !strings.Contains(a, `"status":"`+status+`"`) {
			t.Errorf("%s: %s on one server, %s on the other", status, a, b)
		}
	}
	for _, name := range []string{"o1", "o2"} {
		for _, l := range c.unmatched(name) {
			t.Errorf("%s got an extra %s", name, l)
		}
	}
}

func TestOrdersProtocol(t *testing.T) {
	srv := startApp(t, "127.0.0.1:0", Options{OrderStep: 50 * time.Millisecond})
	c := startPeers(t, srv.url())
	c.connect("o", "/orders", nil, false)
	expect(t, "bad id", c.emit("o", "order:track", map[string]any{"orderId": "../x"}), `[{"error":"orderId must be 1 to 32 letters, digits or dashes"}]`)
	expect(t, "track", normalize(c.emit("o", "order:track", map[string]any{"orderId": "A-1001"}), nil), `[{"orderId":"A-1001","status":"placed","at":0}]`)
	for _, status := range []string{"packed", "shipped", "delivered"} {
		expect(t, status, normalize(c.event("o", "order:status"), nil), `[{"orderId":"A-1001","status":"`+status+`","at":0}]`)
	}
	expect(t, "track again", normalize(c.emit("o", "order:track", map[string]any{"orderId": "A-1001"}), nil), `[{"orderId":"A-1001","status":"delivered","at":0}]`)
}

// TestResumeAfterRestart restarts the server on the same address: the
// clients reconnect by themselves, and the ticket carries on.
func TestResumeAfterRestart(t *testing.T) {
	srv := startApp(t, "127.0.0.1:0", Options{})
	c := startPeers(t, srv.url())
	c.connect("ann", "/support", nil, true)
	c.connect("bob", "/agents", agentAuth("Bob"), true)
	c.event("bob", "queue")
	tid := ticketOf(t, c.emit("ann", "ticket:open", map[string]any{"name": "Ann"}))
	ids := map[string]string{tid: "T1"}
	c.event("bob", "queue")
	expect(t, "claim ok", c.emit("bob", "ticket:claim", map[string]any{"ticketId": tid})[:12], `[{"ok":true,`)
	c.event("ann", "ticket:assigned")
	// What the pages keep for the next handshake.
	c.send(map[string]any{"op": "auth", "name": "ann", "auth": map[string]any{"ticketId": tid, "name": "Ann"}})
	c.send(map[string]any{"op": "auth", "name": "bob", "auth": agentAuth("Bob", tid)})

	addr := srv.addr
	srv.stop()
	c.awaitAny("ann", "disconnect")
	c.awaitAny("bob", "disconnect")
	startApp(t, addr, Options{})
	c.awaitAny("ann", "connect")
	c.awaitAny("bob", "connect")

	// Whoever reconnects first, the agent ends up with the ticket in its
	// room and the customer is told who helps.
	// (the customer's name is known only if the customer was first).
	st := normalize(c.event("bob", "ticket:state"), ids)
	if !strings.HasPrefix(st, `[{"ticketId":"T1","name":"`) || !strings.Contains(st, `"agent":"Bob"`) {
		t.Errorf("agent resumes: %s", st)
	}
	if st := normalize(c.event("ann", "ticket:state"), ids); !strings.Contains(st, `"agent":"Bob"`) {
		expect(t, "assigned again", normalize(c.event("ann", "ticket:assigned"), ids), `[{"ticketId":"T1","agent":"Bob"}]`)
	}

	c.emit("ann", "message:send", map[string]any{"text": "Still there?"})
	expect(t, "agent gets it after restart", normalize(c.event("bob", "message"), ids),
		`[{"id":"ID","ticketId":"T1","from":"customer","name":"Ann","text":"Still there?","ts":0}]`)
	c.emit("bob", "message:send", map[string]any{"ticketId": tid, "text": "Yes"})
	expect(t, "customer gets it after restart", normalize(c.event("ann", "message"), ids),
		`[{"id":"ID","ticketId":"T1","from":"agent","name":"Bob","text":"Yes","ts":0}]`)
}

// TestBadPayloads: whatever a client sends, it gets a clear error, and the
// server keeps serving.
func TestBadPayloads(t *testing.T) {
	srv := startApp(t, "127.0.0.1:0", Options{})
	c := startPeers(t, srv.url())
	c.connect("ann", "/support", map[string]any{"ticketId": "not-an-id", "name": 42}, false)
	c.connect("bob", "/agents", map[string]any{"token": testToken, "name": strings.Repeat("B", 41), "tickets": []any{"x", 1, nil}}, false)
	c.connect("o", "/orders", nil, false)
	long := strings.Repeat("x", 2001)
	for _, tc := range []struct {
		name, ev string
		args     []any
		want     string
	}{
		{"ann", "ticket:open", []any{"Ann"}, `[{"error":"bad request: `},
		{"ann", "ticket:open", []any{map[string]any{"name": []any{1}}}, `[{"error":"bad request: `},
		{"ann", "ticket:open", nil, `[{"error":"name must be 1 to 40 characters"}]`},
		{"ann", "ticket:open", []any{map[string]any{"name": strings.Repeat("é", 41)}}, `[{"error":"name must be 1 to 40 characters"}]`},
		{"ann", "message:send", []any{map[string]any{"text": "hi"}}, `[{"error":"open a ticket first"}]`},
		{"bob", "ticket:claim", []any{nil}, `[{"ok":false,"error":"ticket not found"}]`},
		{"bob", "ticket:claim", []any{true}, `[{"ok":false,"error":"bad request: `},
		{"bob", "message:send", []any{map[string]any{"ticketId": "x", "text": long}}, `[{"error":"text must be 1 to 2000 characters"}]`},
		{"bob", "message:send", []any{map[string]any{"ticketId": "x", "text": "hi"}}, `[{"error":"ticket not found"}]`},
		{"bob", "ticket:close", []any{map[string]any{"ticketId": "x"}}, `[{"ok":false,"error":"ticket not found"}]`},
		{"o", "order:track", []any{map[string]any{"orderId": 7}}, `[{"error":"bad request: `},
		{"o", "order:track", []any{map[string]any{"orderId": ""}}, `[{"error":"orderId must be 1 to 32 letters, digits or dashes"}]`},
	} {
		if got := c.emit(tc.name, tc.ev, tc.args...); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s %s %v: %s, want %s...", tc.name, tc.ev, tc.args, got, tc.want)
		}
	}
	// The bad auth was ignored: Ann is a new customer, Bob is "Agent".
	tid := ticketOf(t, c.emit("ann", "ticket:open", map[string]any{"name": "Ann"}))
	c.event("bob", "queue")
	if got := c.emit("bob", "ticket:claim", map[string]any{"ticketId": tid}); !strings.Contains(got, `"agent":"Agent"`) {
		t.Errorf("claim: %s", got)
	}
}

// TestRedisDown: with -redis and Redis unreachable, clients get a clear
// error instead of a hang or a crash.
func TestRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	srv := startApp(t, "127.0.0.1:0", Options{Redis: rdb})
	c := startPeers(t, srv.url())
	c.connect("ann", "/support", nil, false)
	c.connect("bob", "/agents", agentAuth("Bob"), false)
	expect(t, "queue", c.event("bob", "queue"), `[[]]`)
	c.connect("o", "/orders", nil, false)
	want := `[{"error":"the service is unavailable, try again"}]`
	expect(t, "ticket:open", c.emit("ann", "ticket:open", map[string]any{"name": "Ann"}), want)
	expect(t, "order:track", c.emit("o", "order:track", map[string]any{"orderId": "A1"}), want)
	expect(t, "ticket:claim", c.emit("bob", "ticket:claim", map[string]any{"ticketId": newID()}), `[{"ok":false,"error":"the service is unavailable, try again"}]`)
}
