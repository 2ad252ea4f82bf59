package demo

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/interop"
)

// TestBrowser runs the pages in headless Chromium: a customer and an agent
// open a ticket, claim it, chat both ways with typing indicators and
// delivery ticks, and carry on after the server restarts. Screenshots go to
// artifacts/demo/ at the repository root (git-ignored).
func TestBrowser(t *testing.T) {
	browserScenario(t, false)
}

// TestBrowserCluster is the same with two servers on Redis: the customer on
// one, the agent on the other, both restarted.
func TestBrowserCluster(t *testing.T) {
	browserScenario(t, true)
}

func browserScenario(t *testing.T, cluster bool) {
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	chromium := interop.RequireCommand(t, "chromium")
	interop.Require(t) // npm packages: playwright-core and the client bundle
	root, err := interop.Root()
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		ClientDist: os.DirFS(filepath.Join(root, "node_modules", "socket.io-client", "dist")),
		OrderStep:  300 * time.Millisecond,
	}
	artifacts := filepath.Join(root, "artifacts", "demo")
	var nodes []*testServer
	start := func(addr string) *testServer { return startApp(t, addr, opts) }
	if cluster {
		artifacts += "-cluster"
		var redisAddr string
		redisAddr, nodes = startCluster(t, 2, opts)
		start = func(addr string) *testServer { return startNode(t, redisAddr, addr, opts) }
	} else {
		nodes = []*testServer{start("127.0.0.1:0")}
	}
	args := []string{nodes[0].url(), artifacts, testToken, chromium}
	if cluster {
		args = append(args, nodes[1].url())
	}
	p := interop.StartWith(t, interop.Options{Timeout: 4 * time.Minute, ExpectTimeout: 90 * time.Second},
		"testdata/interop/browser.mjs", args...)

	p.Await(t, "restart")
	for _, n := range nodes {
		n.stop()
	}
	if err := p.Send(map[string]string{"op": "stopped"}); err != nil {
		t.Fatal(err)
	}
	p.Await(t, "reconnecting")
	for i, n := range nodes {
		nodes[i] = start(n.addr)
	}
	if err := p.Send(map[string]string{"op": "started"}); err != nil {
		t.Fatal(err)
	}
	p.Await(t, "reconnected")
	waitResumed(t, nodes[0].app.desk, "Bob")
	if err := p.Send(map[string]string{"op": "resumed"}); err != nil {
		t.Fatal(err)
	}
	var done struct{ Screenshots []string }
	if err := p.Await(t, "done").Decode(&done); err != nil {
		t.Fatal(err)
	}
	if len(done.Screenshots) != 7 {
		t.Errorf("screenshots: %v", done.Screenshots)
	}
	for _, path := range done.Screenshots {
		if fi, err := os.Stat(path); err != nil || fi.Size() < 1000 {
			t.Errorf("screenshot %s: %v", path, err)
		}
	}
}

// TestBrowserCDNFallback: without the client bundle on the server, the
// pages load it from the CDN URL of the pinned version.
func TestBrowserCDNFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	chromium := interop.RequireCommand(t, "chromium")
	interop.Require(t)
	root, err := interop.Root()
	if err != nil {
		t.Fatal(err)
	}
	srv := startApp(t, "127.0.0.1:0", Options{}) // no ClientDist
	bundle := filepath.Join(root, "node_modules", "socket.io-client", "dist", "socket.io.min.js")
	p := interop.StartWith(t, interop.Options{ExpectTimeout: 60 * time.Second}, "testdata/interop/cdn.mjs", srv.url(), chromium, bundle)
	var done struct{ CDN []string }
	if err := p.Await(t, "done").Decode(&done); err != nil {
		t.Fatal(err)
	}
	if len(done.CDN) != 1 || done.CDN[0] != CDNClientURL {
		t.Errorf("CDN requests %q, want [%s]", done.CDN, CDNClientURL)
	}
}

// waitResumed waits until a ticket of agent has its customer online: both
// sides reconnected and joined its rooms.
func waitResumed(t *testing.T, store ticketStore, agent string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !resumed(t, store, agent); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no ticket of %s with its customer online after the restart", agent)
		}
	}
}

func resumed(t *testing.T, store ticketStore, agent string) bool {
	switch d := store.(type) {
	case *desk:
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, tk := range d.tickets {
			if tk.agent == agent && tk.online > 0 {
				return true
			}
		}
	case *redisDesk:
		keys, err := d.rdb.Keys(t.Context(), redisPrefix+"T:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			v, _ := d.rdb.HMGet(t.Context(), k, "agent", "online").Result()
			if len(v) == 2 && v[0] == agent && v[1] != nil && v[1] != "0" {
				return true
			}
		}
	}
	return false
}
