package http1

import (
	"context"
	"sync"
	"time"
)

// requestContext is a request's context. It is canceled when the handler
// returns, and, for a request without a body, when the client goes away
// meanwhile: the first call of Done starts a goroutine that reads the
// connection (a client waiting for its response sends nothing; EOF or an
// error means it is gone). Requests that never ask for Done, the usual
// case, cost no goroutine and no syscall.
type requestContext struct {
	c       *conn
	canWait bool // no body: the connection may be watched

	mu       sync.Mutex
	done     chan struct{}
	err      error
	watching chan struct{} // closed when the watcher returned; nil when none
}

func newRequestContext(c *conn, noBody bool) *requestContext {
	return &requestContext{c: c, canWait: noBody}
}

func (x *requestContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (x *requestContext) Value(any) any               { return nil }

func (x *requestContext) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

func (x *requestContext) Done() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done == nil {
		x.done = make(chan struct{})
		if x.err != nil {
			close(x.done)
		} else if x.canWait {
			x.watching = make(chan struct{})
			go x.watch()
		}
	}
	return x.done
}

// watch reads the connection until the client sends something (the next
// request, which stays buffered), goes away (cancel), or finish interrupts
// it with a past read deadline.
func (x *requestContext) watch() {
	defer close(x.watching)
	_, err := x.c.br.Peek(1)
	if err != nil && !isTimeout(err) {
		x.cancel(context.Canceled)
	}
}

func (x *requestContext) cancel(err error) {
	x.mu.Lock()
	if x.err == nil {
		x.err = err
		if x.done != nil {
			close(x.done)
		}
	}
	x.mu.Unlock()
}

// finish ends the request: it stops the watcher, if any, before the
// connection goroutine reads again, and cancels the context.
func (x *requestContext) finish() {
	x.stopWatch()
	x.cancel(context.Canceled)
}

// stopWatch stops the watcher, if any, and keeps a new one from starting.
func (x *requestContext) stopWatch() {
	x.mu.Lock()
	watching := x.watching
	x.canWait = false
	x.mu.Unlock()
	if watching != nil {
		select {
		case <-watching:
		default:
			_ = x.c.nc.SetReadDeadline(aLongTimeAgo)
			<-watching
			_ = x.c.nc.SetReadDeadline(time.Time{})
		}
	}
}

var aLongTimeAgo = time.Unix(1, 0)

func isTimeout(err error) bool {
	t, ok := err.(interface{ Timeout() bool })
	return ok && t.Timeout()
}

// String names the context in errors and logs.
func (x *requestContext) String() string { return "http1.requestContext" }
