package main

import (
	"testing"

	"github.com/seed9706/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestRunUnknownCommand(t *testing.T) {
	if got := run([]string{"no-such-command"}); got != 2 {
		t.Fatalf("run(no-such-command) = %d, want 2", got)
	}
	if got := run(nil); got != 2 {
		t.Fatalf("run() = %d, want 2", got)
	}
	if got := run([]string{"help"}); got != 0 {
		t.Fatalf("run(help) = %d, want 0", got)
	}
}
