package socketio

import (
	"log/slog"
	"sync"
	"time"

	"github.com/seed9706/socketio/parser"
)

// lingerTime is how long an idle runner waits for the next task before it
// exits. Reusing the runner for a burst, or for the next event of a client
// in a request/reply loop, saves starting a goroutine and growing its stack
// again for each event.
const lingerTime = 5 * time.Millisecond

// task is an event packet to dispatch, or, when fn is set, an internal task
// (connect, close). Events carry no closure: one allocation less per event.
type task struct {
	pkt *parser.Packet
	fn  func()
}

// taskQueue runs tasks one at a time, in order, on a goroutine that exists
// only while tasks are pending (and lingerTime after): an idle socket owns no
// goroutine.
type taskQueue struct {
	log      *slog.Logger
	max      int                  // bound for wait pushes
	dispatch func(*parser.Packet) // runs an event task

	mu      sync.Mutex
	space   sync.Cond // signalled when a task is taken
	tasks   []task
	running bool
	idle    bool          // the runner lingers, waiting on wake
	wake    chan struct{} // capacity 1; sent to, under mu, only while idle
	timer   *time.Timer   // the runner's linger timer
}

func (q *taskQueue) init(max int, log *slog.Logger, dispatch func(*parser.Packet)) {
	q.max, q.log, q.dispatch = max, log, dispatch
	q.space.L = &q.mu
}

// push queues fn whatever the queue length (internal tasks: connect,
// close), so it never blocks, even when called from a running task.
func (q *taskQueue) push(fn func()) {
	q.mu.Lock()
	q.addLocked(task{fn: fn})
	q.mu.Unlock()
}

// pushEvent queues the event p, first waiting while the queue holds max
// tasks. It is used by the read path so that a flooding client is slowed
// down instead of growing memory. It must not be called from a task of the
// same queue.
func (q *taskQueue) pushEvent(p *parser.Packet) {
	q.mu.Lock()
	for len(q.tasks) >= q.max {
		q.space.Wait()
	}
	q.addLocked(task{pkt: p})
	q.mu.Unlock()
}

func (q *taskQueue) addLocked(t task) {
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

func (q *taskQueue) run() {
	q.mu.Lock()
	for {
		if len(q.tasks) == 0 && !q.lingerLocked() {
			q.running = false
			q.tasks = nil // let a burst's backing array go
			q.mu.Unlock()
			return
		}
		t := q.tasks[0]
		q.tasks[0] = task{}
		if len(q.tasks) == 1 {
			q.tasks = q.tasks[:0] // keep the array: no allocation per event
		} else {
			q.tasks = q.tasks[1:]
		}
		q.space.Signal()
		q.mu.Unlock()
		q.call(t)
		q.mu.Lock()
	}
}

// lingerLocked waits, with mu held on entry and on return, up to lingerTime
// for a task; it reports whether one came.
func (q *taskQueue) lingerLocked() bool {
	if q.timer == nil {
		q.wake = make(chan struct{}, 1)
		q.timer = time.NewTimer(lingerTime)
	} else {
		q.timer.Reset(lingerTime)
	}
	q.idle = true
	q.mu.Unlock()
	select {
	case <-q.wake:
	case <-q.timer.C:
	}
	q.mu.Lock()
	if q.idle { // timed out, and no push sent a wake-up since
		q.idle = false
	} else {
		// A push came: its wake-up may still be in the channel if the
		// timer won the select; drop it so the next linger waits.
		select {
		case <-q.wake:
		default:
		}
	}
	return len(q.tasks) > 0
}

// call runs a task; a panic in user code is logged, not fatal, like net/http.
func (q *taskQueue) call(t task) {
	defer func() {
		if r := recover(); r != nil {
			q.log.Error("socketio: handler panicked", "panic", r)
		}
	}()
	if t.fn != nil {
		t.fn()
	} else {
		q.dispatch(t.pkt)
	}
}
