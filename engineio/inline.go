package engineio

import (
	"sync"
	"sync/atomic"
	"time"
)

// Inline dispatch: the layer above may run a message's handler on the
// WebSocket read goroutine that read it, instead of handing it to another
// goroutine (a wake-up, a goroutine switch and cache misses per message).
// The read loop must never wait for a handler long, though: a handler may
// wait for a reply only this connection can bring (an acknowledgement, a
// pong). So a handler still running after one to two lendAfter ticks is
// left alone by its connection's read loop: the lender starts another read
// loop for the connection, which reads on while the handler runs, and the
// first goroutine ends as a reader once the handler returns. Most handlers
// return well before that, which costs two short lock holds and no
// syscall; arming the fd in the poller before each handler, instead, cost
// an epoll_ctl per message (7% of an echo's CPU).

// InlineRunner is work RunInline may run on the read goroutine.
type InlineRunner interface{ RunClaimed() }

// CanRunInline reports whether RunInline would take work now; it may only
// be called from OnMessage, and RunInline then takes work in the same call.
// It is false over polling, for TLS or on a system without the poller,
// when more frames are already buffered, or when RunInline already has
// work for this message.
func (s *Session) CanRunInline() bool {
	c := s.inlineFrom // set by the read loop around OnMessage, under recvMu
	return c != nil && c.fd >= 0 && !c.noPark && c.inline == nil && c.br.Buffered() == 0
}

// RunInline has r.RunClaimed called on the WebSocket read goroutine, right
// after the Handler's OnMessage returns; should r take longer than a tick
// or two of the lender, another goroutine reads on. It may only be called
// from OnMessage; it reports false, and will not call r, when CanRunInline
// is false.
func (s *Session) RunInline(r InlineRunner) bool {
	if !s.CanRunInline() {
		return false
	}
	s.inlineFrom.inline = r
	return true
}

// runLent runs r on the read loop goroutine, watched by the lender. It
// reports whether the loop still owns the connection; if not, a new read
// loop does and the caller must end without touching it.
func (c *wsConn) runLent(r InlineRunner) bool {
	c.state.Store(readLent)
	if c.closeReq.Load() { // requestClose saw readRunning and left the close to us
		c.state.Store(readRunning)
		go r.RunClaimed()
		return true
	}
	sh := theLender.watch(c)
	r.RunClaimed()
	sh.unwatch(c)
	return c.state.CompareAndSwap(readLent, readRunning)
}

// lendAfter is the lender's tick: a handler running inline is left alone
// by its read loop after one to two ticks.
const lendAfter = time.Millisecond

// theLender watches the handlers running inline, in shards so that read
// loops on different cores seldom share a lock.
var theLender lender

type lender struct {
	shards  [8]lendShard
	tick    atomic.Uint32 // lendAfter ticks so far
	running atomic.Bool   // the tick goroutine runs
}

type lendShard struct {
	mu   sync.Mutex
	runs []inlineRun // few: only handlers running right now
	_    [64 - 8 - 24]byte
}

type inlineRun struct {
	c    *wsConn
	tick uint32 // lender.tick when it started
}

func (l *lender) watch(c *wsConn) *lendShard {
	sh := &l.shards[uint32(c.fd)%uint32(len(l.shards))]
	sh.mu.Lock()
	sh.runs = append(sh.runs, inlineRun{c: c, tick: l.tick.Load()})
	sh.mu.Unlock()
	if !l.running.Load() && l.running.CompareAndSwap(false, true) {
		go l.run()
	}
	return sh
}

// unwatch forgets c's run, unless the lender did when it woke c.
func (sh *lendShard) unwatch(c *wsConn) {
	sh.mu.Lock()
	for i := len(sh.runs) - 1; i >= 0; i-- {
		if sh.runs[i].c == c {
			last := len(sh.runs) - 1
			sh.runs[i] = sh.runs[last]
			sh.runs[last] = inlineRun{}
			sh.runs = sh.runs[:last]
			break
		}
	}
	sh.mu.Unlock()
}

// lenderIdleTicks is how many ticks without a handler running inline end
// the tick goroutine.
const lenderIdleTicks = 50

// run ticks while handlers run inline, waking (wsConn.wake: another read
// loop) the connections whose handler started before the previous tick.
func (l *lender) run() {
	t := time.NewTicker(lendAfter)
	defer t.Stop()
	var woken []*wsConn
	for idle := 0; ; {
		<-t.C
		now := l.tick.Add(1)
		busy := false
		for i := range l.shards {
			sh := &l.shards[i]
			sh.mu.Lock()
			kept := sh.runs[:0]
			for _, run := range sh.runs {
				if now-run.tick >= 2 {
					woken = append(woken, run.c)
				} else {
					kept = append(kept, run)
				}
			}
			clear(sh.runs[len(kept):])
			sh.runs = kept
			busy = busy || len(kept) > 0
			sh.mu.Unlock()
		}
		for i, c := range woken {
			c.wake()
			woken[i] = nil
		}
		woken = woken[:0]
		if busy {
			idle = 0
			continue
		}
		if idle++; idle < lenderIdleTicks {
			continue
		}
		// Stop, unless a watch that saw running still true came meanwhile
		// (it appended before it looked, so the check below sees it).
		l.running.Store(false)
		if !l.anyRun() || !l.running.CompareAndSwap(false, true) {
			return
		}
		idle = 0
	}
}

func (l *lender) anyRun() bool {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n := len(sh.runs)
		sh.mu.Unlock()
		if n > 0 {
			return true
		}
	}
	return false
}
