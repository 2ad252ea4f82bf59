package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"slices"
	"sync/atomic"

	"github.com/seed9706/socketio/client"
)

func init() {
	commands["listen"] = func(ctx context.Context, args []string) int {
		return listen(ctx, args, os.Stdout, os.Stderr)
	}
}

// listen connects to the namespace of URL and prints every received event
// (or only the named ones) as one JSON line, until ctx is done or the
// server disconnects the socket.
func listen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("listen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: socketio listen URL [EVENT...] [flags]\n\n"+
			"Connects to the namespace of URL (its path) and prints each received event as one JSON line\n"+
			`{"event":name,"args":[...]}, binary arguments as base64 strings.`+"\n\nflags:")
		fl.PrintDefaults()
	}
	pos, opts, code, ok := parseClientCommand(fl, args, 1)
	if !ok {
		return code
	}
	url, only := pos[0], pos[1:]

	u, err := neturl.Parse(url)
	if err != nil {
		fmt.Fprintln(stderr, "socketio listen:", err)
		return 2
	}
	m, err := client.NewManager(url, &opts.ManagerOptions)
	if err != nil {
		fmt.Fprintln(stderr, "socketio listen:", err)
		return 2
	}
	defer m.Close()
	s := m.Socket(u.Path, &opts.SocketOptions)

	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	done := make(chan int, 1)
	s.OnAny(func(e *client.Event) {
		if len(only) > 0 && !slices.Contains(only, e.Name()) {
			return
		}
		out, err := jsonArgs(e.Values())
		if err != nil {
			fmt.Fprintf(stderr, "socketio listen: event %q: %v\n", e.Name(), err)
			return
		}
		_ = enc.Encode(struct {
			Event string            `json:"event"`
			Args  []json.RawMessage `json:"args"`
		}{e.Name(), out})
	})
	s.OnConnect(func() { fmt.Fprintln(stderr, "socketio listen: connected, id", s.ID()) })
	var started atomic.Bool // ConnectWait returned: a later refusal ends listen
	finish := func(code int) {
		select {
		case done <- code:
		default:
		}
	}
	s.OnDisconnect(func(reason string) {
		fmt.Fprintln(stderr, "socketio listen: disconnected:", reason)
		if reason == client.ReasonIOServerDisconnect {
			finish(0)
		}
	})
	s.OnConnectError(func(err error) {
		var ce *client.ConnectError
		if errors.As(err, &ce) && started.Load() {
			printConnectError(stderr, "listen", err)
			finish(1)
		}
	})
	if err := s.ConnectWait(ctx); err != nil {
		printConnectError(stderr, "listen", err)
		return 1
	}
	started.Store(true)
	select {
	case <-ctx.Done():
		return 0
	case code := <-done:
		return code
	}
}
