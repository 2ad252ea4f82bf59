// Command suiteserver is the server of the official Engine.IO and Socket.IO
// protocol test suites (CONTRACTS.md section 1):
//
//	go run ./e2e/suiteserver -addr 127.0.0.1:3000
//
// It prints a line containing "listening" once it accepts connections and
// exits cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/seed9706/socketio/e2e/suiteserver/suite"
	"github.com/seed9706/socketio/internal/serve"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		log.Fatal("suiteserver: ", err)
	}
}

// run serves the suite on addr until ctx is done.
func run(ctx context.Context, addr string, out io.Writer) error {
	return serve.Run(ctx, "suiteserver", addr, suite.New(), out)
}
