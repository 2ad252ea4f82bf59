package engineio

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// check verifies the heap order and every session's position.
func (h *heartbeats) check(t *testing.T) {
	t.Helper()
	for i, s := range h.heap {
		if int(s.hbPos) != i+1 {
			t.Fatalf("session at %d has position %d", i, s.hbPos)
		}
		if p := (i - 1) / 2; i > 0 && h.heap[p].hbWhen > s.hbWhen {
			t.Fatalf("heap order broken at %d", i)
		}
	}
}

// Sets, resets and stops in random order keep the heap ordered, each
// session in it at most once, and the earliest deadline first.
func TestHeartbeatsHeap(t *testing.T) {
	h := newHeartbeats()
	rng := rand.New(rand.NewPCG(5, 6))
	sessions := make([]*Session, 40)
	for i := range sessions {
		sessions[i] = &Session{state: stateClosed}
	}
	in := map[*Session]bool{}
	for range 5000 {
		s := sessions[rng.IntN(len(sessions))]
		if rng.IntN(3) == 0 {
			h.stop(s)
			delete(in, s)
		} else {
			h.set(s, time.Hour+time.Duration(rng.IntN(1000))*time.Second)
			in[s] = true
		}
		h.mu.Lock()
		h.check(t)
		if len(h.heap) != len(in) {
			t.Fatalf("heap has %d sessions, want %d", len(h.heap), len(in))
		}
		for _, s := range h.heap {
			if s.hbWhen < h.heap[0].hbWhen || !in[s] {
				t.Fatal("wrong earliest deadline or a stopped session")
			}
		}
		h.mu.Unlock()
	}
	for _, s := range sessions {
		h.stop(s)
	}
	if len(h.heap) != 0 || h.armed != 0 {
		t.Fatalf("%d sessions left, armed %v", len(h.heap), h.armed)
	}
}

// Concurrent sets and stops with short deadlines: every deadline fires
// (a closed session's heartbeat does not re-arm), and the heap empties.
func TestHeartbeatsConcurrent(t *testing.T) {
	h := newHeartbeats()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 200 {
				s := &Session{state: stateClosed}
				s.mu.Lock() // as the session does: set and stop under Session.mu
				h.set(s, time.Duration(rng.IntN(3000))*time.Microsecond)
				if rng.IntN(4) == 0 {
					h.stop(s)
				}
				s.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		n := len(h.heap)
		h.check(t)
		h.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deadlines never fired", n)
		}
		time.Sleep(time.Millisecond)
	}
}
