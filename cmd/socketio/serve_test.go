package main

import (
	"bytes"
	"context"
	"github.com/seed9706/socketio/internal/interop"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the serve goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServe(t *testing.T) {
	testServe(t, "-addr", "127.0.0.1:0", "-agent-token", "s3cret")
}

func TestServeRedis(t *testing.T) {
	addr := interop.StartRedis(t)
	stdout := testServe(t, "-addr", "127.0.0.1:0", "-agent-token", "s3cret", "-redis", "redis://"+addr)
	if want := "  cluster:     every instance on Redis " + addr + " is one app\n"; !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks %q", want)
	}
}

// testServe runs serve with args, checks what it prints and serves, stops
// it and returns its stdout.
func testServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	status := make(chan int, 1)
	go func() { status <- serve(ctx, args, &stdout, &stderr) }()

	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)\n`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no listening line; stdout %q stderr %q", stdout.String(), stderr.String())
		}
	}
	for _, want := range []string{
		"  customers:   " + base + "/\n",
		"  agents:      " + base + "/agent#token=s3cret\n",
		"  orders:      " + base + "/orders\n",
		"  agent token: s3cret\n",
		"  client:      ",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, path := range []string{"/", "/agent", "/orders"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte("<!doctype html>")) {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
	resp, err := http.Get(base + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.HasPrefix(body, []byte(`0{"sid":"`)) {
		t.Errorf("handshake: %q", body)
	}
	http.DefaultClient.CloseIdleConnections()

	cancel()
	select {
	case got := <-status:
		if got != 0 || !strings.HasSuffix(stdout.String(), "socketio serve: stopped\n") {
			t.Errorf("exit %d, stdout %q, stderr %q", got, stdout.String(), stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	return stdout.String()
}

func TestServeFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"-redis", "redis://127.0.0.1:1"}, 1, "socketio serve: -redis: redis://127.0.0.1:1: dial tcp 127.0.0.1:1"},
		{[]string{"-redis", "http://x"}, 1, "socketio serve: -redis: redis: invalid URL scheme: http"},
		{[]string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"extra"}, 2, `socketio serve: unexpected argument "extra"`},
		{[]string{"-client-dist", t.TempDir()}, 1, "socketio serve: -client-dist: "},
		{[]string{"-addr", "256.0.0.1:0", "-agent-token", "x"}, 1, "socketio serve: listen tcp"},
		{[]string{"-h"}, 0, "usage: socketio serve [flags]"},
	} {
		var stdout, stderr syncBuffer
		if got := serve(t.Context(), tc.args, &stdout, &stderr); got != tc.status || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("serve %q: status %d, stderr %q; want %d and %q", tc.args, got, stderr.String(), tc.status, tc.stderr)
		}
	}
}
