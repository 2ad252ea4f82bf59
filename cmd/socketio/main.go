// Command socketio is the Socket.IO toolbox: serve (the demo app), and the
// debugging and load-testing subcommands.
//
//	socketio serve [-addr 127.0.0.1:3000] [-agent-token TOKEN]
//	socketio <command> -h
//
// # Concurrency
//
// A subcommand runs on the main goroutine until it is done or its context
// ends (SIGINT or SIGTERM). serve's HTTP server, and the client of emit and
// listen, run their own goroutines (see packages socketio and client);
// listen prints from the client's callback goroutine, one event at a time.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// commands maps a subcommand name to its entry point, which gets the
// arguments after the name and returns the exit status; ctx ends on SIGINT
// or SIGTERM. Each subcommand's file registers itself from init().
var commands = map[string]func(ctx context.Context, args []string) int{}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "socketio: unknown command %q\n", args[0])
		usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd(ctx, args[1:])
}

func usage() {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(os.Stderr, "usage: socketio <command> [flags]")
	fmt.Fprintln(os.Stderr, "commands:")
	for _, name := range names {
		fmt.Fprintln(os.Stderr, "  "+name)
	}
	fmt.Fprintln(os.Stderr, `run "socketio <command> -h" for the flags of a command`)
}
