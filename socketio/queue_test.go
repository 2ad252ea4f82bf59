package socketio

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/parser"
)

// TestTaskQueueOrderAcrossLinger pushes tasks in bursts separated by pauses
// shorter than, around and longer than lingerTime: every task runs once, in
// order, and the runner exits once idle.
func TestTaskQueueOrderAcrossLinger(t *testing.T) {
	var (
		mu  sync.Mutex
		got []int
	)
	var q taskQueue
	q.init(4, slog.New(slog.DiscardHandler), func(p *parser.Packet) {
		mu.Lock()
		got = append(got, int(p.ID))
		mu.Unlock()
	})
	pauses := []time.Duration{0, lingerTime / 2, lingerTime, 2 * lingerTime, 0, lingerTime - time.Millisecond}
	n := 0
	for _, pause := range pauses {
		time.Sleep(pause)
		for range 3 {
			q.pushEvent(&parser.Packet{ID: uint64(n)})
			n++
		}
		q.push(func() {
			mu.Lock()
			got = append(got, -1)
			mu.Unlock()
		})
	}
	waitFor(t, "the runner to exit", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return !q.running
	})
	want := 0
	for i, v := range got {
		if (i+1)%4 == 0 {
			if v != -1 {
				t.Fatalf("task %d = %d, want the internal task (-1); got %v", i, v, got)
			}
			continue
		}
		if v != want {
			t.Fatalf("task %d = %d, want %d; got %v", i, v, want, got)
		}
		want++
	}
	if len(got) != 4*len(pauses) {
		t.Fatalf("ran %d tasks, want %d", len(got), 4*len(pauses))
	}
}
