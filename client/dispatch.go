package client

import (
	"context"
	"log/slog"
	"sync"
)

// dispatcher runs user callbacks one at a time, in order, on a goroutine that
// exists only while callbacks are pending.
type dispatcher struct {
	log *slog.Logger
	max int // bound for pushWait

	mu      sync.Mutex
	space   sync.Cond
	tasks   []func()
	running bool
}

func (d *dispatcher) init(max int, log *slog.Logger) {
	d.max, d.log = max, log
	d.space.L = &d.mu
}

// push queues an internal task (connect, disconnect, ...) without waiting.
func (d *dispatcher) push(task func()) {
	d.mu.Lock()
	d.tasks = append(d.tasks, task)
	d.startLocked()
	d.mu.Unlock()
}

// pushWait queues a received event, first waiting while max tasks are
// pending, so a flooding server slows down reading instead of growing
// memory. It gives up, and reports false, once ctx (the connection's, see
// wakeOn) ends: a handler may be waiting for an acknowledgement that only
// this reader could deliver, and the connection's close fails it. It is
// called by the connection's reader, never by a task.
func (d *dispatcher) pushWait(ctx context.Context, task func()) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.tasks) >= d.max {
		if ctx.Err() != nil {
			return false
		}
		d.space.Wait()
	}
	d.tasks = append(d.tasks, task)
	d.startLocked()
	return true
}

// wakeOn wakes pushWait when ctx ends.
func (d *dispatcher) wakeOn(ctx context.Context) {
	context.AfterFunc(ctx, func() {
		d.mu.Lock()
		d.space.Broadcast()
		d.mu.Unlock()
	})
}

// pushEach queues one task that calls call with each of fns, in order.
// Handler lists are appended to or replaced, never changed in place, so fns
// may be the registered list itself.
func pushEach[T any](d *dispatcher, fns []T, call func(T)) {
	if len(fns) == 0 {
		return
	}
	d.push(func() {
		for _, fn := range fns {
			call(fn)
		}
	})
}

func (d *dispatcher) startLocked() {
	if !d.running {
		d.running = true
		go d.run()
	}
}

func (d *dispatcher) run() {
	for {
		d.mu.Lock()
		if len(d.tasks) == 0 {
			d.running = false
			d.tasks = nil
			d.mu.Unlock()
			return
		}
		task := d.tasks[0]
		d.tasks[0] = nil
		d.tasks = d.tasks[1:]
		d.space.Signal()
		d.mu.Unlock()
		d.call(task)
	}
}

// call runs one callback; a panic in user code is logged, not fatal.
func (d *dispatcher) call(task func()) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("client: callback panicked", "panic", r)
		}
	}()
	task()
}
