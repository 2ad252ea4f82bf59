package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/interop"
)

// nodeServer starts the official socket.io 4.8 server of the client's
// interop tests and returns its URL.
func nodeServer(t *testing.T) (*interop.Process, string) {
	t.Helper()
	p := interop.Start(t, "../../client/testdata/interop/server.mjs", "0", "{}")
	var ready struct{ Port int }
	if err := p.Expect(t, "listening").Decode(&ready); err != nil {
		t.Fatal(err)
	}
	return p, fmt.Sprintf("http://127.0.0.1:%d/", ready.Port)
}

func TestEmitAgainstNodeServer(t *testing.T) {
	_, url := nodeServer(t)
	for _, transport := range []string{"polling", "websocket", "both"} {
		code, stdout, stderr := runCLI(t, emit, url, "ack", `"hi"`, "42", `{"a":[1,true]}`, "-ack", "-transport", transport)
		if want := `["hi",42,{"a":[1,true]}]` + "\n"; code != 0 || stdout != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", transport, code, stdout, stderr, want)
		}
		code, stdout, stderr = runCLI(t, emit, url, "noack", "-ack", "-timeout", "300ms", "-transport", transport)
		if code != 1 || stdout != "" || stderr == "" {
			t.Errorf("%s: unanswered ack: exit %d, stdout %q, stderr %q; want exit 1 and an error", transport, code, stdout, stderr)
		}
	}
}

func TestListenAgainstNodeServer(t *testing.T) {
	p, url := nodeServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, w := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- listen(ctx, []string{url, "news"}, w, io.Discard)
		w.Close()
	}()
	p.Await(t, "connection")
	if err := p.Send(map[string]any{"op": "broadcast", "event": "other", "args": []any{1}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(map[string]any{"op": "broadcast", "event": "news", "args": []any{"x <&>", 1.5, nil}}); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"event":"news","args":["x <&>",1.5,null]}` + "\n"; line != want {
		t.Fatalf("listen printed %q, want %q (only the events asked for)", line, want)
	}
	cancel()
	go io.Copy(io.Discard, out) // let listen finish writing
	if code := <-done; code != 0 {
		t.Fatalf("listen exit %d after its context ended", code)
	}
}
