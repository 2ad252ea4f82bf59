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

type order struct {
	status OrderStatus
	step   int
	timer  *time.Timer
}

// tracker simulates orders: the first time an order is tracked it is
// "placed", then it moves one step every interval until "delivered", and is
// forgotten orderRetention later. onStatus is called, without the lock, on
// every move.
type tracker struct {
	step     time.Duration
	onStatus func(OrderStatus)

	mu     sync.Mutex
	orders map[string]*order
	closed bool
}

func newTracker(step time.Duration, onStatus func(OrderStatus)) *tracker {
	return &tracker{step: step, onStatus: onStatus, orders: make(map[string]*order)}
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

// track returns the order's current status, starting its simulation the
// first time.
func (tr *tracker) track(id string) (OrderStatus, error) {
	if !validOrderID(id) {
		return OrderStatus{}, errBadOrderID
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if o := tr.orders[id]; o != nil {
		return o.status, nil
	}
	if len(tr.orders) >= maxOrders || tr.closed {
		return OrderStatus{}, errTooManyOrders
	}
	o := &order{status: OrderStatus{OrderID: id, Status: orderSteps[0], At: time.Now().UnixMilli()}}
	o.timer = time.AfterFunc(tr.step, func() { tr.advance(id, o) })
	tr.orders[id] = o
	return o.status, nil
}

func (tr *tracker) advance(id string, o *order) {
	tr.mu.Lock()
	if tr.closed || tr.orders[id] != o {
		tr.mu.Unlock()
		return
	}
	if o.step == len(orderSteps)-1 { // retention is over
		delete(tr.orders, id)
		tr.mu.Unlock()
		return
	}
	o.step++
	o.status.Status = orderSteps[o.step]
	o.status.At = time.Now().UnixMilli()
	next := tr.step
	if o.step == len(orderSteps)-1 {
		next = orderRetention
	}
	o.timer = time.AfterFunc(next, func() { tr.advance(id, o) })
	st := o.status
	tr.mu.Unlock()
	tr.onStatus(st)
}

// shutdown stops the simulation.
func (tr *tracker) shutdown() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.closed = true
	for _, o := range tr.orders {
		o.timer.Stop()
	}
}
