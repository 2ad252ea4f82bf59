package main

import (
	"context"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/leakcheck"
	"github.com/seed9706/socketio/internal/rawclient"
	"github.com/seed9706/socketio/socketio"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestChat(t *testing.T) {
	srv := socketio.NewServer(nil)
	ts := httptest.NewServer(newHandler(srv))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	ann := rawclient.Polling(t, ts.URL, "/socket.io/")
	ann.Connect("/", "")
	bob := rawclient.WebSocket(t, ts.URL, "/socket.io/")
	bob.Connect("/", "")
	joined := ann.Next()
	if !regexp.MustCompile(`^42\["chat","guest-[\w-]{4} joined"\]$`).MatchString(joined) {
		t.Fatalf("join notice %q", joined)
	}
	bob.Send(`421["chat","hi"]`)
	bob.Expect(`431["delivered"]`)
	if got := ann.Next(); !regexp.MustCompile(`^42\["chat","guest-[\w-]{4}: hi"\]$`).MatchString(got) {
		t.Fatalf("message %q", got)
	}
	bob.Send(`422["chat","  "]`) // blank: neither sent nor acknowledged
	bob.Send(`421["chat","bye"]`)
	bob.Expect(`431["delivered"]`)
}
