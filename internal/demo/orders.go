package demo

import (
	"errors"
	"sync"
	"time"
)

// orderSteps are the statuses a simulated order goes through.
var orderSteps = []string{"placed", "packed", "shipped", "delivered"}

const (
	maxOrders      = 10000
	maxOrderIDLen  = 32
	orderRetention = 10 * time.Minute // a delivered order is forgotten after it
)

var (
	errBadOrderID    = errors.New("orderId must be 1 to 32 letters, digits or dashes")
	errTooManyOrders = errors.New("too many tracked orders, try again later")
)

// OrderStatus is the "order:status" event and the "order:track" ack.
type OrderStatus struct {
	OrderID string `json:"orderId"`
	Status  string `json:"status"`
	At      int64  `json:"at"` // milliseconds since the epoch
}

// orderClock knows when each order was placed, the one fact the simulation
// derives everything from: an order placed at p is in step k from p+k*step,
// so every server of a cluster tells the same story.
type orderClock interface {
	// placedAt returns when order id was placed, placing it now if unknown.
	placedAt(id string, now time.Time) (time.Time, error)
}

// memoryClock is the orderClock of a single server.
type memoryClock struct {
	life time.Duration // how long an order is remembered

	mu     sync.Mutex
	placed map[string]time.Time
}

func newMemoryClock(life time.Duration) *memoryClock {
	return &memoryClock{life: life, placed: make(map[string]time.Time)}
}

func (c *memoryClock) placedAt(id string, now time.Time) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.placed[id]; ok && now.Sub(p) < c.life {
		return p, nil
	}
	if len(c.placed) >= maxOrders {
		for k, p := range c.placed { // forget the orders past their life
			if now.Sub(p) >= c.life {
				delete(c.placed, k)
			}
		}
		if len(c.placed) >= maxOrders {
			return time.Time{}, errTooManyOrders
		}
	}
	c.placed[id] = now
	return now, nil
}

// tracker pushes the moves of the orders this server's clients track: a
// timer per order for its next move, onStatus called without the lock.
type tracker struct {
	step     time.Duration
	clock    orderClock
	onStatus func(OrderStatus)

	mu     sync.Mutex
	timers map[string]*time.Timer // at most maxOrders
	closed bool
}

func newTracker(step time.Duration, clock orderClock, onStatus func(OrderStatus)) *tracker {
	return &tracker{step: step, clock: clock, onStatus: onStatus, timers: make(map[string]*time.Timer)}
}

func validOrderID(id string) bool {
	if id == "" || len(id) > maxOrderIDLen {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// orderLife is how long an order is remembered: its moves, then retention.
func orderLife(step time.Duration) time.Duration {
	return time.Duration(len(orderSteps)-1)*step + orderRetention
}

// statusAt is the status at now of an order placed at placed.
func (tr *tracker) statusAt(id string, placed, now time.Time) (OrderStatus, int) {
	k := min(int(now.Sub(placed)/tr.step), len(orderSteps)-1)
	return OrderStatus{OrderID: id, Status: orderSteps[k], At: placed.Add(time.Duration(k) * tr.step).UnixMilli()}, k
}

// track returns the order's current status and makes sure its next moves
// are pushed.
func (tr *tracker) track(id string) (OrderStatus, error) {
	if !validOrderID(id) {
		return OrderStatus{}, errBadOrderID
	}
	now := time.Now()
	placed, err := tr.clock.placedAt(id, now)
	if err != nil {
		return OrderStatus{}, err
	}
	st, k := tr.statusAt(id, placed, now)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if _, ok := tr.timers[id]; !ok && !tr.closed && k < len(orderSteps)-1 {
		if len(tr.timers) >= maxOrders {
			return OrderStatus{}, errTooManyOrders
		}
		tr.scheduleLocked(id, placed, k+1)
	}
	return st, nil
}

// scheduleLocked arms the timer of the order's move to step k.
func (tr *tracker) scheduleLocked(id string, placed time.Time, k int) {
	tr.timers[id] = time.AfterFunc(time.Until(placed.Add(time.Duration(k)*tr.step)), func() {
		tr.mu.Lock()
		if tr.closed {
			tr.mu.Unlock()
			return
		}
		delete(tr.timers, id)
		if k < len(orderSteps)-1 {
			tr.scheduleLocked(id, placed, k+1)
		}
		tr.mu.Unlock()
		st, _ := tr.statusAt(id, placed, placed.Add(time.Duration(k)*tr.step))
		tr.onStatus(st)
	})
}

// shutdown stops the pushes.
func (tr *tracker) shutdown() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.closed = true
	for _, t := range tr.timers {
		t.Stop()
	}
}
