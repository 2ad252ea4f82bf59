package redisadapter_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/adapter/redisadapter"
	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/internal/rawclient"
)

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// restartRedis stops the server at addr (SHUTDOWN NOSAVE) if one runs,
// calls whileDown, then starts a new one on the same port.
func restartRedis(t *testing.T, addr string, whileDown func()) {
	t.Helper()
	rdb := newClient(t, addr)
	_ = rdb.Do(context.Background(), "SHUTDOWN", "NOSAVE").Err() // the connection drops: no reply
	waitFor(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	whileDown()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(interop.RequireCommand(t, "redis-server"), "--bind", "127.0.0.1", "--port", port,
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitFor(t, func() bool { return rdb.Ping(context.Background()).Err() == nil })
}

// TestRedisRestart stops Redis under a mixed cluster: local delivery goes
// on, errors are logged, and once Redis is back every node resubscribes
// and broadcasts cross nodes again.
func TestRedisRestart(t *testing.T) { testRedisRestart(t, "classic") }

func TestRedisRestartSharded(t *testing.T) { testRedisRestart(t, "sharded") }

func testRedisRestart(t *testing.T, mode string) {
	addr := interop.StartRedis(t)
	n := startNode(t, addr, mode)
	rdb := newClient(t, addr)
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	factory := redisadapter.New(rdb, &redisadapter.Options{RequestsTimeout: 2 * time.Second, Logger: logger})
	if mode == "sharded" {
		factory = redisadapter.NewSharded(rdb, &redisadapter.ShardedOptions{RequestsTimeout: 2 * time.Second, Logger: logger})
	}
	g1, g2 := startGoNode(t, "g1", factory), startGoNode(t, "g2", factory)
	n1 := n.server("n1")
	n.client("c1", g1.url)
	n.client("c2", g2.url)
	n.client("c3", n1)
	for _, c := range []string{"c1", "c2", "c3"} {
		n.join(c, "room")
	}

	_ = g1.srv.Emit("before")
	for _, c := range []string{"c1", "c2", "c3"} {
		n.event(c, "before")
	}

	restartRedis(t, addr, func() {
		if err := g1.srv.Emit("down"); err != nil {
			t.Fatalf("Emit while Redis is down: %v", err)
		}
		n.event("c1", "down") // local delivery does not need Redis
		waitFor(t, func() bool { return strings.Contains(logs.String(), "subscription lost") })
	})

	// Every node resubscribes: a broadcast from each reaches the others.
	waitFor(t, func() bool {
		c, err := g1.srv.Of("/").Adapter().ServerCount(context.Background())
		return err == nil && c == 3
	})
	_ = g1.srv.Emit("after-go")
	n.do(map[string]any{"op": "srv", "server": "n1", "do": "emit", "event": "after-node"})
	// A single room has its own channel in sharded mode: resubscribed too.
	_ = g2.srv.To("room").Emit("after-room")
	for _, c := range []string{"c1", "c2", "c3"} {
		n.event(c, "after-go")
		n.event(c, "after-node")
		n.event(c, "after-room")
	}
	if !strings.Contains(logs.String(), "resubscribed") {
		t.Fatalf("no resubscription logged:\n%s", logs)
	}
}

// A node that starts while Redis is down serves its local clients, drops
// what it cannot publish (bounded queue), and joins the cluster once Redis
// comes up.
func TestStartWhileRedisDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rdb := newClient(t, addr)
	logs := &lockedBuffer{}
	factory := redisadapter.New(rdb, &redisadapter.Options{RequestsTimeout: 500 * time.Millisecond, PublishQueueSize: 1,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	g := startGoNode(t, "g", factory)
	c := rawclient.WebSocket(t, g.url, "/socket.io/")
	c.Connect("/", "")

	var full bool
	for i := 0; i < 100 && !full; i++ {
		err := g.srv.Emit("local", i)
		c.Expect(`42["local",` + strconv.Itoa(i) + `]`) // delivered locally whatever Redis does
		full = errors.Is(err, redisadapter.ErrPublishQueueFull)
	}
	if !full {
		t.Fatal("the publish queue never filled while Redis was down")
	}
	if !strings.Contains(logs.String(), "subscribe failed") {
		t.Fatalf("no subscription error logged:\n%s", logs)
	}

	restartRedis(t, addr, func() {}) // starts it
	waitFor(t, func() bool {
		n, err := g.srv.Of("/").Adapter().ServerCount(context.Background())
		return err == nil && n == 1
	})
	// A broadcast published by another client now reaches the node.
	em := redisadapter.NewEmitter(rdb, nil)
	waitFor(t, func() bool { return em.Emit(context.Background(), "hello") == nil })
	c.Expect(`42["hello"]`)
}
