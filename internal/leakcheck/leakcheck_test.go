package leakcheck

import (
	"testing"
	"time"
)

func TestFindReportsAndForgetsGoroutines(t *testing.T) {
	stop := make(chan struct{})
	go func() { <-stop }()
	if got := Find(50 * time.Millisecond); len(got) != 1 {
		t.Fatalf("Find with one blocked goroutine = %d stacks, want 1:\n%v", len(got), got)
	}
	close(stop)
	if got := Find(2 * time.Second); len(got) != 0 {
		t.Fatalf("Find after the goroutine ended = %v, want none", got)
	}
}

func TestMain(m *testing.M) { Main(m) }
