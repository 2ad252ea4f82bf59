package client

import "github.com/seed9706/socketio/internal/taskqueue"

// dispatcher runs a manager's user callbacks one at a time, in order, on a
// goroutine that exists only while callbacks are pending (see package
// taskqueue). Received events are queued as values, run by deliverEvent;
// internal tasks (connect, disconnect, ...) as functions.
type dispatcher = taskqueue.Queue[*Event]

func deliverEvent(ev *Event) { ev.socket.deliver(ev) }

// pushEach queues one task that calls call with each of fns, in order.
// Handler lists are appended to or replaced, never changed in place, so fns
// may be the registered list itself.
func pushEach[T any](d *dispatcher, fns []T, call func(T)) {
	if len(fns) == 0 {
		return
	}
	d.Push(func() {
		for _, fn := range fns {
			call(fn)
		}
	})
}
