package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/client"
	"github.com/seed9706/socketio/internal/leakcheck"
	"github.com/seed9706/socketio/internal/rawclient"
	"github.com/seed9706/socketio/socketio"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// startChat serves the chat until the test ends.
func startChat(t *testing.T) *httptest.Server {
	srv := socketio.NewServer(nil)
	ts := httptest.NewServer(newHandler(srv))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	return ts
}

func TestChat(t *testing.T) {
	ts := startChat(t)
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

// TestChatPageAndLeave: the page is served, and with our client, a sender
// does not get its own messages back and the others learn that it left.
func TestChatPageAndLeave(t *testing.T) {
	ts := startChat(t)
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(string(body), "socket.io.min.js") {
		t.Fatalf("page: %s %.100q", resp.Header.Get("Content-Type"), body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	connect := func() (*client.Socket, chan string) {
		s, err := client.Connect(ctx, ts.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Manager().Close)
		lines := make(chan string, 10)
		s.On("chat", func(e *client.Event) {
			var line string
			_ = e.Args(&line)
			lines <- line
		})
		return s, lines
	}
	bob, _ := connect()
	bobName := "guest-" + bob.ID()[:4]
	alice, aliceLines := connect()
	if _, err := alice.EmitWithAck(ctx, "chat", "hello"); err != nil {
		t.Fatal(err)
	}
	bob.Disconnect()
	// Alice's first line: her own message did not come back to her.
	select {
	case got := <-aliceLines:
		if got != bobName+" left" {
			t.Fatalf("alice got %q, want %q", got, bobName+" left")
		}
	case <-ctx.Done():
		t.Fatal("no left notice")
	}
}
