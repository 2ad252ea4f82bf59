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
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	chromium := interop.RequireCommand(t, "chromium")
	interop.Require(t) // npm packages: playwright-core and the client bundle
	root, err := interop.Root()
	if err != nil {
		t.Fatal(err)
	}
	artifacts := filepath.Join(root, "artifacts", "demo")
	opts := Options{
		ClientDist: os.DirFS(filepath.Join(root, "node_modules", "socket.io-client", "dist")),
		OrderStep:  300 * time.Millisecond,
	}
	srv := startApp(t, "127.0.0.1:0", opts)
	p := interop.StartWith(t, interop.Options{Timeout: 4 * time.Minute, ExpectTimeout: 90 * time.Second},
		"testdata/interop/browser.mjs", srv.url(), artifacts, testToken, chromium)

	p.Await(t, "restart")
	addr := srv.addr
	srv.stop()
	if err := p.Send(map[string]string{"op": "stopped"}); err != nil {
		t.Fatal(err)
	}
	p.Await(t, "reconnecting")
	srv = startApp(t, addr, opts)
	if err := p.Send(map[string]string{"op": "started"}); err != nil {
		t.Fatal(err)
	}
	p.Await(t, "reconnected")
	waitResumed(t, srv.app.desk.(*desk), "Bob")
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
func waitResumed(t *testing.T, d *desk, agent string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		d.mu.Lock()
		ok := false
		for _, tk := range d.tickets {
			ok = ok || tk.agent == agent && tk.online > 0
		}
		d.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ticket of %s with its customer online after the restart", agent)
		}
	}
}
