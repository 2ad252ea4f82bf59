// Package leakcheck fails a test binary that leaves goroutines running after
// its tests have finished.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
//
// Goroutines that the runtime, the testing package or the standard library's
// long-lived helpers own are ignored. Goroutines that are still winding down
// are given a grace period before they count as leaked.
//
// # Concurrency
//
// Main must be called once, from TestMain, after which it exits the process.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Grace is how long Main waits for goroutines to end after the tests pass.
var Grace = 5 * time.Second

// ignored lists substrings of a goroutine's stack that mark it as not ours.
var ignored = []string{
	"testing.Main(",
	"testing.(*M).",
	"testing.(*T).Run(",
	"testing.tRunner(",
	"testing.runFuzzing(",
	"testing.(*F).",
	"runtime.goexit",
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime/pprof.",
	"created by runtime.gc",
	"runtime.ReadTrace",
	"net/http.(*persistConn)", // idle keep-alive connections of http.DefaultTransport
	"net/http.(*Transport).dialConnFor",
	"internal/testlog.",
	"leakcheck.Main(",
}

// Main runs the tests and then checks for leaked goroutines. It exits the
// process with a non-zero status when tests failed or goroutines leaked.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := Find(Grace); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutine(s) still running after the tests:\n\n%s\n",
				len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// Find waits up to grace for stray goroutines to end and returns the stacks
// of those still running.
func Find(grace time.Duration) []string {
	deadline := time.Now().Add(grace)
	for {
		leaked := strays()
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func strays() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if isOurs(g) {
			out = append(out, g)
		}
	}
	return out
}

// isOurs reports whether the goroutine stack g belongs to code under test.
func isOurs(g string) bool {
	g = strings.TrimSpace(g)
	if g == "" {
		return false
	}
	// The goroutine that takes the dump is the one running Main.
	if strings.Contains(g, "leakcheck.strays(") {
		return false
	}
	for _, s := range ignored {
		if strings.Contains(g, s) {
			return false
		}
	}
	return true
}
