package socketio

import (
	"log/slog"
	"sync"
)

// taskQueue runs tasks one at a time, in order, on a goroutine that exists
// only while tasks are pending: an idle socket costs no goroutine.
type taskQueue struct {
	log *slog.Logger
	max int // bound for wait pushes

	mu      sync.Mutex
	space   sync.Cond // signalled when a task is taken
	tasks   []func()
	running bool
}

func (q *taskQueue) init(max int, log *slog.Logger) {
	q.max, q.log = max, log
	q.space.L = &q.mu
}

// push queues task whatever the queue length (internal tasks: connect,
// close), so it never blocks, even when called from a running task.
func (q *taskQueue) push(task func()) {
	q.mu.Lock()
	q.tasks = append(q.tasks, task)
	q.startLocked()
	q.mu.Unlock()
}

// pushWait queues task, first waiting while the queue holds max tasks. It is
// used by the read path so that a flooding client is slowed down instead of
// growing memory. It must not be called from a task of the same queue.
func (q *taskQueue) pushWait(task func()) {
	q.mu.Lock()
	for len(q.tasks) >= q.max {
		q.space.Wait()
	}
	q.tasks = append(q.tasks, task)
	q.startLocked()
	q.mu.Unlock()
}

func (q *taskQueue) startLocked() {
	if !q.running {
		q.running = true
		go q.run()
	}
}

func (q *taskQueue) run() {
	for {
		q.mu.Lock()
		if len(q.tasks) == 0 {
			q.running = false
			q.tasks = nil // let a burst's backing array go
			q.mu.Unlock()
			return
		}
		task := q.tasks[0]
		q.tasks[0] = nil
		q.tasks = q.tasks[1:]
		q.space.Signal()
		q.mu.Unlock()
		q.call(task)
	}
}

// call runs a task; a panic in user code is logged, not fatal, like net/http.
func (q *taskQueue) call(task func()) {
	defer func() {
		if r := recover(); r != nil {
			q.log.Error("socketio: handler panicked", "panic", r)
		}
	}()
	task()
}
