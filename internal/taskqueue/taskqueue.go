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
// keeps neither.
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
}

// Queue runs tasks in order. The zero Queue is not usable: call Init.
type Queue[T any] struct {
	cfg    *Config
	handle func(T) // runs a value task

	mu      sync.Mutex
	space   *sync.Cond // signalled when a task is taken, broadcast by WakeOn; made by the first wait (rare)
	tasks   []task[T]
	running bool
	idle    bool          // the runner lingers, waiting on wake
	wake    chan struct{} // capacity 1; sent to, under mu, only while idle; nil otherwise
}

// lingerer is what a lingering runner waits on; it returns to the pool
// stopped, its channels empty.
type lingerer struct {
	wake  chan struct{}
	timer *time.Timer
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
	for len(q.tasks) >= q.cfg.Max {
		if ctx.Err() != nil {
			return false
		}
		if q.space == nil {
			q.space = sync.NewCond(&q.mu)
		}
		q.space.Wait()
	}
	q.addLocked(task[T]{v: v})
	return true
}

// WakeOn wakes the PushWait calls once ctx is done, so that they give up.
func (q *Queue[T]) WakeOn(ctx context.Context) {
	context.AfterFunc(ctx, func() {
		q.mu.Lock()
		if q.space != nil { // else no PushWait waits
			q.space.Broadcast()
		}
		q.mu.Unlock()
	})
}

func (q *Queue[T]) addLocked(t task[T]) {
	q.tasks = append(q.tasks, t)
	switch {
	case q.idle:
		q.idle = false
		q.wake <- struct{}{} // never blocks: one send per idle period
	case !q.running:
		q.running = true
		go q.run()
	}
}

// Running reports whether the queue owns a goroutine (tests).
func (q *Queue[T]) Running() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running
}

func (q *Queue[T]) run() {
	q.mu.Lock()
	for {
		if len(q.tasks) == 0 && !q.lingerLocked() {
			q.running = false
			q.tasks = nil // let a burst's backing array go
			q.mu.Unlock()
			return
		}
		t := q.tasks[0]
		q.tasks[0] = task[T]{}
		if len(q.tasks) == 1 {
			q.tasks = q.tasks[:0] // keep the array: no allocation per event
		} else {
			q.tasks = q.tasks[1:]
		}
		if q.space != nil {
			q.space.Signal()
		}
		q.mu.Unlock()
		q.call(t)
		q.mu.Lock()
	}
}

// lingerLocked waits, with mu held on entry and on return, up to Linger for
// a task; it reports whether one came.
func (q *Queue[T]) lingerLocked() bool {
	l := lingerers.Get().(*lingerer)
	l.timer.Reset(Linger)
	q.wake, q.idle = l.wake, true
	q.mu.Unlock()
	select {
	case <-l.wake:
	case <-l.timer.C:
	}
	q.mu.Lock()
	if q.idle { // timed out, and no push sent a wake-up since
		q.idle = false
	} else {
		// A push came: its wake-up may still be in the channel if the
		// timer won the select; drop it so that the next user waits.
		select {
		case <-l.wake:
		default:
		}
	}
	q.wake = nil // no push sends once idle is false
	l.timer.Stop()
	lingerers.Put(l)
	return len(q.tasks) > 0
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
