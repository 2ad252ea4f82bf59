package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/client"
	"github.com/seed9706/socketio/internal/leakcheck"
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
		ts.Close()
	})

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
	expect := func(lines chan string, want string) {
		t.Helper()
		select {
		case got := <-lines:
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("no %q", want)
		}
	}

	bob, bobLines := connect()
	bobName := "guest-" + bob.ID()[:4]
	alice, aliceLines := connect()
	aliceName := "guest-" + alice.ID()[:4]
	expect(bobLines, aliceName+" joined")

	reply, err := alice.EmitWithAck(ctx, "chat", "hello")
	var ack string
	if err != nil || reply.Args(&ack) != nil || ack != "delivered" {
		t.Fatalf("ack %q, %v", ack, err)
	}
	expect(bobLines, aliceName+": hello")

	// A blank message is ignored: no broadcast, no acknowledgement.
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if _, err := alice.EmitWithAck(short, "chat", "  "); !errors.Is(err, client.ErrTimeout) {
		t.Fatalf("blank message: %v, want no acknowledgement", err)
	}

	// Alice's first line: her own messages do not come back to her.
	bob.Disconnect()
	expect(aliceLines, bobName+" left")
}
