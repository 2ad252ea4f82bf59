// Package taskqueue runs the callbacks of one Socket.IO socket (server) or
// manager (client) one at a time, in order, on a goroutine that exists only
// while there is work: an idle queue owns no goroutine.
//
// # Concurrency
//
// Push and PushWait may be called from any goroutine; PushWait must not be
// called from a task of the same queue (it could wait for itself). Tasks run
// on the queue's runner goroutine, never under the queue's lock. The runner
// lingers Linger after its last task so that a burst, or the next event of a
// request/reply loop, reuses it instead of starting a goroutine and growing
// its stack again for each event. The linger's timer and wake-up channel
// are taken from a process-wide pool for the linger only: an idle queue
// keeps neither. Claim lets a caller (a WebSocket read loop) become the
// runner of a queue with none at work, taking over from a lingering one,
// and run it on its own goroutine with RunClaimed, which does not linger.
package taskqueue

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Linger is how long an idle runner waits for the next task before it exits.
const Linger = 5 * time.Millisecond

// task is a value for the queue's handler, or, when fn is set, a function
// (internal tasks). Values carry no closure: no allocation per event.
type task[T any] struct {
	v  T
	fn func()
}

// Config is what the queues of one owner share (a server's sockets): the
// PushWait bound (max tasks pending), and the logger and message with
// which a task's panic is logged. It must not change once in use.
type Config struct {
	Max      int
	Log      *slog.Logger
	PanicMsg string
	// Optional: called by a runner, on its goroutine and outside the
	// queue's lock, when it starts on tasks after being idle (OnBusy) and
	// once it has run every task queued (OnIdle): calls alternate, busy
	// first.
	OnBusy, OnIdle func()
}

// Queue runs tasks in order. The zero Queue is not usable: call Init.
type Queue[T any] struct {
	cfg    *Config
	handle func(T) // runs a value task

	mu        sync.Mutex
	tasks     []task[T]
	running   bool
	idle      bool      // the runner lingers, waiting on lingering.wake
	waiters   uint16    // PushWait calls waiting on the queue's spaceCond
	lingering *lingerer // the lingering runner's, while idle; nil otherwise
}

// spaceConds holds the condition variable, on the queue's mu, of each queue
// with PushWait calls waiting (rare: a peer flooding a busy socket), so
// that the other queues do not carry one. It is signalled when a task is
// taken and broadcast by WakeOn.
var spaceConds sync.Map // *Queue[T] -> *sync.Cond

func (q *Queue[T]) spaceCond() *sync.Cond {
	if c, ok := spaceConds.Load(q); ok {
		return c.(*sync.Cond)
	}
	c, _ := spaceConds.LoadOrStore(q, sync.NewCond(&q.mu))
	return c.(*sync.Cond)
}

// lingerer is what a lingering runner waits on; it returns to the pool
// stopped, its channels empty.
type lingerer struct {
	wake   chan struct{}
	timer  *time.Timer
	stolen bool // guarded by the queue's mu: Claim took the runner role meanwhile
}

var lingerers = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop() // Reset before each use; since Go 1.23 a stopped timer delivers nothing stale
	return &lingerer{wake: make(chan struct{}, 1), timer: t}
}}

// Init sets the shared configuration and the handler of value tasks.
func (q *Queue[T]) Init(cfg *Config, handle func(T)) {
	q.cfg, q.handle = cfg, handle
}

// Push queues fn whatever the queue length (internal tasks: connect, close),
// so it never blocks, even when called from a running task.
func (q *Queue[T]) Push(fn func()) {
	q.mu.Lock()
	q.addLocked(task[T]{fn: fn})
	q.mu.Unlock()
}

// PushWait queues v for the handler, first waiting while max tasks are
// pending, so that a flooding peer slows down the reader instead of growing
// memory. It gives up, and reports false, once ctx is done (see WakeOn).
func (q *Queue[T]) PushWait(ctx context.Context, v T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.tasks) >= q.cfg.Max {
		cond := q.spaceCond()
		q.waiters++
		for len(q.tasks) >= q.cfg.Max && ctx.Err() == nil {
			cond.Wait()
		}
		if q.waiters--; q.waiters == 0 {
			spaceConds.Delete(q)
		}
		if len(q.tasks) >= q.cfg.Max {
			return false // ctx is done
		}
	}
	q.addLocked(task[T]{v: v})
	return true
}

// WakeOn wakes the PushWait calls once ctx is done, so that they give up.
func (q *Queue[T]) WakeOn(ctx context.Context) {
	context.AfterFunc(ctx, func() {
		q.mu.Lock()
		if q.waiters > 0 {
			q.spaceCond().Broadcast()
		}
		q.mu.Unlock()
	})
}

func (q *Queue[T]) addLocked(t task[T]) {
	q.tasks = append(q.tasks, t)
	switch {
	case q.idle:
		q.idle = false
		q.lingering.wake <- struct{}{} // never blocks: one send per idle period
	case !q.running:
		q.running = true
		go q.run()
	}
}

// Claim queues v and makes the caller the runner when the queue has none
// at work (none, or one lingering, which then exits): the caller must then
// call RunClaimed, on a goroutine of its choice, which runs v and whatever
// is queued meanwhile. It reports false, queueing nothing, when a runner is
// at work: use PushWait.
func (q *Queue[T]) Claim(v T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.idle: // the lingering runner exits when woken, leaving the role to the caller
		q.lingering.stolen = true
		q.lingering.wake <- struct{}{} // never blocks: one send per idle period
		q.idle, q.lingering = false, nil
	case q.running:
		return false
	}
	q.running = true
	q.tasks = append(q.tasks, task[T]{v: v})
	return true
}

// RunClaimed runs the queue after a successful Claim, on the caller's
// goroutine, until it is empty; it does not linger.
func (q *Queue[T]) RunClaimed() { q.runTasks(false) }

// Running reports whether the queue owns a goroutine (tests).
func (q *Queue[T]) Running() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running
}

func (q *Queue[T]) run() { q.runTasks(true) }

// runTasks is the runner: it runs tasks until none is left (after
// lingering for one when linger is set).
func (q *Queue[T]) runTasks(linger bool) {
	q.mu.Lock()
	busy := false
	for {
		if len(q.tasks) == 0 && busy {
			busy = false
			q.mu.Unlock()
			q.cfg.OnIdle()
			q.mu.Lock()
			continue
		}
		if len(q.tasks) > 0 && !busy && q.cfg.OnBusy != nil {
			busy = true
			q.mu.Unlock()
			q.cfg.OnBusy()
			q.mu.Lock()
		}
		if len(q.tasks) == 0 {
			got := lingerTimeout
			if linger {
				got = q.lingerLocked()
			}
			if got != lingerTask {
				if got == lingerTimeout { // else the claimer is the runner now
					q.running = false
					q.tasks = nil // let a burst's backing array go
				}
				q.mu.Unlock()
				return
			}
		}
		t := q.tasks[0]
		q.tasks[0] = task[T]{}
		if len(q.tasks) == 1 {
			q.tasks = q.tasks[:0] // keep the array: no allocation per event
		} else {
			q.tasks = q.tasks[1:]
		}
		if q.waiters > 0 {
			q.spaceCond().Signal()
		}
		q.mu.Unlock()
		q.call(t)
		q.mu.Lock()
	}
}

// What a lingering runner got.
const (
	lingerTask    = iota // a task to run
	lingerTimeout        // nothing: exit
	lingerStolen         // a Claim: exit, the claimer runs the queue
)

// lingerLocked waits, with mu held on entry and on return, up to Linger for
// a task.
func (q *Queue[T]) lingerLocked() int {
	l := lingerers.Get().(*lingerer)
	l.timer.Reset(Linger)
	q.idle, q.lingering = true, l
	q.mu.Unlock()
	select {
	case <-l.wake:
	case <-l.timer.C:
	}
	q.mu.Lock()
	got := lingerTask
	switch {
	case l.stolen: // the queue's fields are the claimer's now
		l.stolen = false
		got = lingerStolen
	case q.idle: // timed out, and no push sent a wake-up since
		got = lingerTimeout
		q.idle = false
	}
	if got != lingerStolen {
		q.lingering = nil // no push sends once idle is false
	}
	// A wake-up may still be in the channel if the timer won the select;
	// drop it so that the next user waits.
	select {
	case <-l.wake:
	default:
	}
	l.timer.Stop()
	lingerers.Put(l)
	return got
}

// call runs a task; a panic in user code is logged, not fatal, like net/http.
func (q *Queue[T]) call(t task[T]) {
	defer func() {
		if r := recover(); r != nil {
			q.cfg.Log.Error(q.cfg.PanicMsg, "panic", r)
		}
	}()
	if t.fn != nil {
		t.fn()
	} else {
		q.handle(t.v)
	}
}
