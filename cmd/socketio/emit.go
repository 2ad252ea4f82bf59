package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/seed9706/socketio/client"
)

func init() {
	commands["emit"] = func(ctx context.Context, args []string) int {
		return emit(ctx, args, os.Stdout, os.Stderr)
	}
}

// emit connects to the namespace of URL, emits EVENT once with the JSON
// arguments and, with -ack, prints the acknowledgement as a JSON array.
func emit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("emit", flag.ContinueOnError)
	fl.SetOutput(stderr)
	ack := fl.Bool("ack", false, "wait for the acknowledgement and print its arguments as a JSON array")
	timeout := fl.Duration("timeout", 5*time.Second, "bound for connecting and for the acknowledgement")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: socketio emit URL EVENT [JSON-ARG...] [flags]\n\n"+
			"Connects to the namespace of URL (its path) and emits EVENT once with the given JSON arguments.\n"+
			"With -ack, prints the acknowledgement arguments as a JSON array (exit 1 on timeout).\n\nflags:")
		fl.PrintDefaults()
	}
	pos, opts, code, ok := parseClientCommand(fl, args, 2)
	if !ok {
		return code
	}
	url, event := pos[0], pos[1]
	values := make([]any, 0, len(pos)-2)
	for _, a := range pos[2:] {
		if !json.Valid([]byte(a)) {
			fmt.Fprintf(stderr, "socketio emit: argument %s is not JSON (quote strings: '\"text\"')\n", a)
			return 2
		}
		values = append(values, json.RawMessage(a))
	}
	opts.Timeout = *timeout

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	s, err := client.Connect(ctx, url, opts)
	if err != nil {
		printConnectError(stderr, "emit", err)
		return 1
	}
	defer s.Manager().Close()

	if !*ack {
		if err := s.Emit(event, values...); err != nil {
			fmt.Fprintln(stderr, "socketio emit:", err)
			return 1
		}
		return 0 // Close flushes the packet before leaving
	}
	r, err := s.EmitWithAck(ctx, event, values...)
	if err != nil {
		fmt.Fprintln(stderr, "socketio emit:", err)
		return 1
	}
	out, err := jsonArgs(r.Values())
	if err != nil {
		fmt.Fprintln(stderr, "socketio emit:", err)
		return 1
	}
	b, _ := marshalNoEscape(out)
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}
