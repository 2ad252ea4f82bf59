package engineio

import (
	"sync"
	"time"
)

// heartbeats holds the heartbeat deadlines of a server's sessions: a
// min-heap behind one runtime timer, set for the earliest deadline, instead
// of a timer per session (about 120 bytes each). Deadlines are exact; a
// due session's onHeartbeat runs on the timer's goroutine, outside mu.
//
// Lock order: Session.mu before heartbeats.mu (set and stop are called
// with Session.mu held); onHeartbeat is called with neither held.
type heartbeats struct {
	mu    sync.Mutex
	base  time.Time     // deadlines are durations since base (monotonic)
	heap  []*Session    // by hbWhen; Session.hbPos is the position + 1
	timer *time.Timer   // fires at armed; nil until the first deadline
	armed time.Duration // when timer fires; 0: stopped
}

func newHeartbeats() *heartbeats { return &heartbeats{base: time.Now()} }

// set makes s due after d, replacing its previous deadline.
func (h *heartbeats) set(s *Session, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	when := max(time.Since(h.base)+d, 1) // never 0: it means stopped
	s.hbWhen = when
	if s.hbPos == 0 {
		h.heap = append(h.heap, s)
		s.hbPos = int32(len(h.heap))
		h.up(len(h.heap) - 1)
	} else {
		h.fix(int(s.hbPos) - 1)
	}
	h.armLocked()
}

// stop forgets s's deadline.
func (h *heartbeats) stop(s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.hbPos > 0 {
		h.removeAt(int(s.hbPos) - 1)
	}
	if len(h.heap) == 0 && h.armed != 0 {
		h.timer.Stop()
		h.armed = 0
	}
	// Otherwise the timer stays armed: firing early finds nothing due and re-arms.
}

// armLocked sets the timer for the earliest deadline unless it already
// fires by then.
func (h *heartbeats) armLocked() {
	if len(h.heap) == 0 {
		return
	}
	first := h.heap[0].hbWhen
	if h.armed != 0 && h.armed <= first {
		return
	}
	h.armed = first
	d := first - time.Since(h.base)
	if h.timer == nil {
		h.timer = time.AfterFunc(d, h.fire)
	} else {
		h.timer.Reset(d)
	}
}

// fire runs the heartbeat of every session now due, then re-arms.
func (h *heartbeats) fire() {
	var due []*Session
	h.mu.Lock()
	now := time.Since(h.base)
	for len(h.heap) > 0 && h.heap[0].hbWhen <= now {
		due = append(due, h.heap[0])
		h.removeAt(0)
	}
	h.armed = 0
	h.armLocked()
	h.mu.Unlock()
	for _, s := range due {
		s.onHeartbeat() // looks at the session's state: a stale call only re-arms
	}
}

func (h *heartbeats) less(i, j int) bool { return h.heap[i].hbWhen < h.heap[j].hbWhen }

func (h *heartbeats) swap(i, j int) {
	h.heap[i], h.heap[j] = h.heap[j], h.heap[i]
	h.heap[i].hbPos, h.heap[j].hbPos = int32(i+1), int32(j+1)
}

func (h *heartbeats) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

// down moves i down and reports whether it moved.
func (h *heartbeats) down(i int) bool {
	start, n := i, len(h.heap)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h.less(r, c) {
			c = r
		}
		if !h.less(c, i) {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > start
}

func (h *heartbeats) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h *heartbeats) removeAt(i int) {
	last := len(h.heap) - 1
	s := h.heap[i]
	if i != last {
		h.swap(i, last)
	}
	h.heap[last] = nil
	h.heap = h.heap[:last]
	if i != last {
		h.fix(i)
	}
	s.hbPos = 0
	if len(h.heap) == 0 && cap(h.heap) > 1024 {
		h.heap = nil // a burst of sessions is gone: let its array go
	}
}
