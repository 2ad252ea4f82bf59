package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/socketio"
)

// cliServer is the server the listen and emit tests talk to.
func cliServer(t *testing.T) (string, chan string) {
	t.Helper()
	seen := make(chan string, 10)
	srv := socketio.NewServer(nil)
	srv.Of("/").OnConnection(func(s *socketio.Socket) {
		s.On("ack", func(e *socketio.Event) { _ = e.Ack(e.Values()...) })
		s.On("bin", func(e *socketio.Event) { _ = e.Ack([]byte{1, 2, 3}, "x") })
		s.On("noack", func(e *socketio.Event) {})
		s.On("auth", func(e *socketio.Event) { _ = e.Ack(s.Handshake().Auth, s.Transport()) })
		s.On("record", func(e *socketio.Event) {
			var parts []string
			for _, r := range e.Raw() {
				parts = append(parts, string(r))
			}
			seen <- strings.Join(parts, " ")
		})
	})
	srv.Of("/news").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("hello", "world <&>", []byte{1, 2}, 42, map[string]any{"b": []byte{255}})
		_ = s.Emit("other", 1)
		_ = s.Emit("bye")
		s.Disconnect(false)
	})
	srv.Of("/private").Use(func(s *socketio.Socket) error {
		return &socketio.ConnectError{Message: "not authorized", Data: map[string]any{"code": 42}}
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	return ts.URL, seen
}

func runCLI(t *testing.T, cmd func(context.Context, []string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code := cmd(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestEmitAck(t *testing.T) {
	url, _ := cliServer(t)
	for _, tt := range []struct {
		args   []string
		stdout string
	}{
		{[]string{url, "ack", `"a"`, "-1", `{"k":[1,2]}`, "-ack"}, `["a",-1,{"k":[1,2]}]` + "\n"},
		{[]string{"-ack", url, "ack"}, "[]\n"},
		{[]string{url, "bin", "-ack", "-transport", "websocket"}, `["AQID","x"]` + "\n"},
		{[]string{url, "auth", "-ack", "-auth", `{"token":"s3cret"}`, "-transport", "polling"}, `[{"token":"s3cret"},"polling"]` + "\n"},
		{[]string{url, "-ack", "ack", "--", "-2"}, "[-2]\n"},
	} {
		code, stdout, stderr := runCLI(t, emit, tt.args...)
		if code != 0 || stdout != tt.stdout {
			t.Errorf("emit %q: exit %d, stdout %q, stderr %q; want %q", tt.args, code, stdout, stderr, tt.stdout)
		}
	}
}

func TestEmitErrors(t *testing.T) {
	url, _ := cliServer(t)
	code, _, stderr := runCLI(t, emit, url, "noack", "-ack", "-timeout", "200ms")
	if code != 1 || !strings.Contains(stderr, "operation has timed out") {
		t.Errorf("timeout: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, emit, url+"/private", "x")
	if code != 1 || stderr != "socketio emit: connect_error: not authorized {\"code\":42}\n" {
		t.Errorf("refused: exit %d, stderr %q", code, stderr)
	}
	for _, args := range [][]string{{url}, {url, "x", "notjson"}, {url, "x", "-transport", "carrier-pigeon"}, {url, "x", "-auth", "[1]"}} {
		if code, _, _ := runCLI(t, emit, args...); code != 2 {
			t.Errorf("emit %q: exit %d, want 2", args, code)
		}
	}
	code, _, stderr = runCLI(t, listen, url, "-transport", "carrier-pigeon")
	if code != 2 || stderr != "socketio listen: -transport: want polling, websocket or both, got \"carrier-pigeon\"\n" {
		t.Errorf("listen -transport carrier-pigeon: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCLI(t, emit, "-h"); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}

func TestEmitWithoutAck(t *testing.T) {
	url, seen := cliServer(t)
	code, stdout, stderr := runCLI(t, emit, url, "record", `"text"`, "3.5", "null")
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	select {
	case got := <-seen:
		if got != `"text" 3.5 null` {
			t.Fatalf("server got %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event did not arrive")
	}
}

func TestListen(t *testing.T) {
	url, _ := cliServer(t)
	for _, transport := range []string{"polling", "websocket", "both"} {
		code, stdout, stderr := runCLI(t, listen, url+"/news", "hello", "bye", "-transport", transport)
		want := `{"event":"hello","args":["world <&>","AQI=",42,{"b":"/w=="}]}` + "\n" + `{"event":"bye","args":[]}` + "\n"
		if code != 0 || stdout != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", transport, code, stdout, stderr)
		}
		if !strings.Contains(stderr, "disconnected: io server disconnect") {
			t.Errorf("%s: stderr %q", transport, stderr)
		}
	}
	code, stdout, _ := runCLI(t, listen, url+"/news")
	if code != 0 || strings.Count(stdout, "\n") != 3 || !strings.Contains(stdout, `{"event":"other","args":[1]}`) {
		t.Errorf("all events: exit %d, stdout %q", code, stdout)
	}
	code, _, stderr := runCLI(t, listen, url+"/private")
	if code != 1 || !strings.Contains(stderr, "connect_error: not authorized") {
		t.Errorf("refused: exit %d, stderr %q", code, stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if code := listen(ctx, []string{url}, new(bytes.Buffer), new(bytes.Buffer)); code == 0 {
		t.Error("listen with a canceled context connected")
	}
}
