package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/redis/go-redis/v9"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

const testToken = "test-token"

// testServer is the app on a real listener, so that it can be stopped and
// started again on the same address like a restarted process.
type testServer struct {
	t    *testing.T
	addr string
	app  *App
	hs   *http.Server
	done chan struct{}
}

func startApp(t *testing.T, addr string, opts Options) *testServer {
	t.Helper()
	if opts.AgentToken == "" {
		opts.AgentToken = testToken
	}
	app, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ { // the previous server's port may take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, addr: ln.Addr().String(), app: app, hs: &http.Server{Handler: app}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.hs.Serve(ln)
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) url() string { return "http://" + s.addr }

// stop closes the app, then the listener and every connection.
func (s *testServer) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.app.Close(ctx); err != nil {
		s.t.Errorf("app.Close: %v", err)
	}
	_ = s.hs.Close()
	<-s.done
}

// line is one line of testdata/interop/client.mjs.
type line struct {
	Event   string          `json:"event"`
	Name    string          `json:"name"`
	ID      string          `json:"id"`
	Ev      string          `json:"ev"`
	Ref     string          `json:"ref"`
	Reason  string          `json:"reason"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	Args    json.RawMessage `json:"args"`
}

func (l line) String() string {
	return fmt.Sprintf("%s %s %s%s%s", l.Name, l.Event, l.Ev, l.Args, l.Message)
}

// peers drives several official clients in one Node.js process.
type peers struct {
	t       *testing.T
	p       *interop.Process
	pending []line
	refs    atomic.Int64
}

func startPeers(t *testing.T, url string) *peers {
	t.Helper()
	return &peers{t: t, p: interop.Start(t, "testdata/interop/client.mjs", url)}
}

func (c *peers) send(cmd map[string]any) {
	c.t.Helper()
	if err := c.p.Send(cmd); err != nil {
		c.t.Fatal(err)
	}
}

// connect opens a socket and waits for its connect or connect_error line.
func (c *peers) connect(name, nsp string, auth any, reconnect bool) line {
	c.t.Helper()
	return c.connectTo("", name, nsp, auth, reconnect)
}

// connectTo is connect to the server at url ("" = the peers' own).
func (c *peers) connectTo(url, name, nsp string, auth any, reconnect bool) line {
	c.t.Helper()
	c.send(map[string]any{"op": "connect", "name": name, "nsp": nsp, "auth": auth, "reconnect": reconnect, "url": url})
	return c.awaitAny(name, "connect", "connect_error")
}

// emit sends an event with an ack callback and returns the ack arguments.
func (c *peers) emit(name, ev string, args ...any) string {
	c.t.Helper()
	ref := fmt.Sprint(c.refs.Add(1))
	if args == nil {
		args = []any{}
	}
	c.send(map[string]any{"op": "emit", "name": name, "ev": ev, "args": args, "ref": ref})
	return string(c.await(name, "ack", func(l line) bool { return l.Ref == ref }).Args)
}

// event waits for event ev on socket name and returns its arguments.
func (c *peers) event(name, ev string) string {
	c.t.Helper()
	return string(c.await(name, "event", func(l line) bool { return l.Ev == ev }).Args)
}

func (c *peers) awaitAny(name string, events ...string) line {
	c.t.Helper()
	return c.await(name, "", func(l line) bool {
		for _, e := range events {
			if l.Event == e {
				return true
			}
		}
		return false
	})
}

// await returns the first line (kept or new) of socket name with the given
// event ("" = any) that match accepts; other lines are kept for later.
func (c *peers) await(name, event string, match func(line) bool) line {
	c.t.Helper()
	ok := func(l line) bool { return l.Name == name && (event == "" || l.Event == event) && match(l) }
	for i, l := range c.pending {
		if ok(l) {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return l
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		raw, err := c.p.Next(ctx)
		if err != nil {
			c.t.Fatalf("waiting for %s %s: %v (unmatched: %v)", name, event, err, c.pending)
		}
		if raw.Event == "error" {
			c.t.Fatalf("client script: %s", raw)
		}
		var l line
		if err := raw.Decode(&l); err != nil {
			c.t.Fatal(err)
		}
		if ok(l) {
			return l
		}
		c.pending = append(c.pending, l)
	}
}

// unmatched returns the kept lines of socket name.
func (c *peers) unmatched(name string) []line {
	var out []line
	for _, l := range c.pending {
		if l.Name == name {
			out = append(out, l)
		}
	}
	return out
}

var (
	idPattern   = regexp.MustCompile(`"id":"[A-Za-z0-9_-]{22}"`)
	timePattern = regexp.MustCompile(`"(ts|at|openedAt)":\d{13}`)
)

// normalize makes golden strings of received JSON: message ids become
// "ID", timestamps 0, and each given ticket id its name.
func normalize(raw string, names map[string]string) string {
	raw = idPattern.ReplaceAllString(raw, `"id":"ID"`)
	raw = timePattern.ReplaceAllString(raw, `"$1":0`)
	for id, name := range names {
		raw = strings.ReplaceAll(raw, id, name)
	}
	return raw
}

// ticketOf decodes the ticketId of a ticket:open ack.
func ticketOf(t *testing.T, ack string) string {
	t.Helper()
	var a []struct {
		TicketID string `json:"ticketId"`
	}
	if err := json.Unmarshal([]byte(ack), &a); err != nil || len(a) != 1 || !validID(a[0].TicketID) {
		t.Fatalf("ticket:open ack %s: %v", ack, err)
	}
	return a[0].TicketID
}

// startCluster starts n apps sharing a fresh redis-server, whose address
// it returns too.
func startCluster(t *testing.T, n int, opts Options) (string, []*testServer) {
	t.Helper()
	redisAddr := interop.StartRedis(t)
	var nodes []*testServer
	for range n {
		nodes = append(nodes, startNode(t, redisAddr, "127.0.0.1:0", opts))
	}
	return redisAddr, nodes
}

// startNode starts an app of the cluster on redisAddr.
func startNode(t *testing.T, redisAddr, addr string, opts Options) *testServer {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { _ = rdb.Close() })
	opts.Redis = rdb
	return startApp(t, addr, opts)
}
