package redisadapter

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

type localAdapter = adapter.InMemory

// core is what the classic and the sharded adapters share: the local
// adapter, the Redis link, the pending requests and the worker that runs
// server-side emit handlers.
type core struct {
	*localAdapter
	nsp     adapter.Namespace
	link    *link
	log     *slog.Logger
	timeout time.Duration // requests timeout

	serverSide chan func() // server-side emit handlers, run in order off the receive goroutine
	workerDone chan struct{}
	started    bool // the worker runs

	mu          sync.Mutex
	requests    map[string]*request
	ackRequests map[string]*ackRequest
}

// request is a pending FetchSockets, AllRooms or ServerSideEmit with acks:
// it expects one response from each other server.
type request struct {
	expected  int
	got       int
	sockets   []adapter.SocketDetails
	rooms     map[string]struct{}
	responses []json.RawMessage
	done      chan struct{} // closed when complete, timed out or cancelled
	timer     *time.Timer
}

// ackRequest is a pending broadcast with acknowledgements.
type ackRequest struct {
	clientCount func(int)
	ack         func(*parser.Packet)
}

func newCore(nsp adapter.Namespace, rdb redis.UniversalClient, sharded bool, queueSize int, log *slog.Logger, timeout time.Duration) core {
	log = log.With("nsp", nsp.Name())
	return core{
		localAdapter: adapter.NewInMemory(nsp).(*adapter.InMemory),
		nsp:          nsp,
		link:         newLink(rdb, sharded, queueSize, log),
		log:          log,
		timeout:      timeout,
		serverSide:   make(chan func(), serverSideQueueSize),
		workerDone:   make(chan struct{}),
		requests:     make(map[string]*request),
		ackRequests:  make(map[string]*ackRequest),
	}
}

func (c *core) startWorker() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.serverSide == nil {
		return
	}
	c.started = true
	queue := c.serverSide
	go func() {
		defer close(c.workerDone)
		for fn := range queue {
			fn()
		}
	}()
}

// closeCore stops the link, wakes the pending requests (they fail) and
// stops the worker once its queued handlers ran (or ctx is done).
func (c *core) closeCore(ctx context.Context) error {
	err := c.link.close(ctx) // the receiver has stopped: nothing queues handlers now
	c.mu.Lock()
	pending := c.requests
	c.requests = map[string]*request{}
	c.ackRequests = map[string]*ackRequest{}
	queue, started := c.serverSide, c.started
	c.serverSide = nil
	c.mu.Unlock()
	for _, r := range pending {
		r.timer.Stop()
		r.finish()
	}
	if queue != nil {
		close(queue)
		if started {
			select {
			case <-c.workerDone:
			case <-ctx.Done():
				return cmp.Or(err, ctx.Err())
			}
		}
	}
	return err
}

// runServerSide queues a server-side emit handler; it drops it when the
// queue is full.
func (c *core) runServerSide(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.serverSide == nil {
		return
	}
	select {
	case c.serverSide <- fn:
	default:
		c.log.Warn("redisadapter: server-side emit queue full, event dropped")
	}
}

func (c *core) hasRequest(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.requests[id]
	return ok
}

func (c *core) hasAckRequest(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.ackRequests[id]
	return ok
}

// addAckRequest remembers a broadcast with acks for timeout (the request
// timeout when zero): there is no way to know when every client answered.
func (c *core) addAckRequest(id string, timeout time.Duration, clientCount func(int), ack func(*parser.Packet)) {
	if timeout <= 0 {
		timeout = c.timeout
	}
	c.mu.Lock()
	c.ackRequests[id] = &ackRequest{clientCount: clientCount, ack: ack}
	c.mu.Unlock()
	time.AfterFunc(timeout, func() {
		c.mu.Lock()
		delete(c.ackRequests, id)
		c.mu.Unlock()
	})
}

func (c *core) ackRequest(id string) *ackRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ackRequests[id]
}

// newRequest registers a request expecting one response per other server
// and publishes it. It returns nil when there is no other server.
func (c *core) newRequest(servers int, timeout time.Duration, publish func(id string) error) (*request, error) {
	if servers <= 1 {
		return nil, nil
	}
	id := randomID(16)
	r := &request{expected: servers - 1, rooms: map[string]struct{}{}, done: make(chan struct{})}
	r.timer = time.AfterFunc(timeout, func() { c.dropRequest(id, r) })
	c.mu.Lock()
	c.requests[id] = r
	c.mu.Unlock()
	if err := publish(id); err != nil {
		r.timer.Stop()
		c.dropRequest(id, r)
		return nil, err
	}
	return r, nil
}

// dropRequest forgets an unfinished request and wakes its waiter.
func (c *core) dropRequest(id string, r *request) {
	c.mu.Lock()
	if c.requests[id] != r {
		c.mu.Unlock()
		return
	}
	delete(c.requests, id)
	c.mu.Unlock()
	r.finish()
}

func (r *request) finish() {
	select {
	case <-r.done:
	default:
		close(r.done)
	}
}

// addResponse counts one response to request id, recorded by update (called
// with c.mu held), and completes the request with the last one.
func (c *core) addResponse(id string, update func(*request)) {
	c.mu.Lock()
	r := c.requests[id]
	if r == nil {
		c.mu.Unlock()
		return
	}
	r.got++
	update(r)
	done := r.got >= r.expected
	if done {
		delete(c.requests, id)
	}
	c.mu.Unlock()
	if done {
		r.timer.Stop()
		r.finish()
	}
}

// wait waits for r; it reports whether every server answered.
func (c *core) wait(ctx context.Context, r *request) (bool, error) {
	select {
	case <-r.done:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return r.got >= r.expected, nil
}

// awaitServerSide calls ack once r completes or times out.
func (c *core) awaitServerSide(r *request, ack func([]json.RawMessage, error)) {
	go func() {
		<-r.done
		c.mu.Lock()
		replies, got, expected := r.responses, r.got, r.expected
		c.mu.Unlock()
		if got >= expected {
			ack(replies, nil)
			return
		}
		ack(replies, &TimeoutError{Received: got, Expected: expected})
	}()
}

// deliverServerSide queues received server-side emit data ([event,
// ...args]) for the namespace's handlers; reply is nil without an ack.
func (c *core) deliverServerSide(data any, reply func(json.RawMessage)) {
	list, _ := data.([]any)
	args := make([]json.RawMessage, len(list))
	for i, v := range list {
		args[i] = toJSON(v)
	}
	c.runServerSide(func() { c.nsp.ServerSideEmit(args, reply) })
}
