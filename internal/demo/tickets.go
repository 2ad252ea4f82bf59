package demo

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// Bounds of the in-memory support desk.
const (
	maxTickets        = 10000 // open tickets at once
	maxMessages       = 200   // kept per ticket (the oldest are dropped)
	maxNameRunes      = 40
	maxTextRunes      = 2000
	maxRestoreTickets = 50 // ticket ids an agent may resume in one handshake
)

// Errors returned to clients in acknowledgements.
var (
	errTicketNotFound = errors.New("ticket not found")
	errTooManyTickets = errors.New("too many open tickets, try again later")
	errNotYourTicket  = errors.New("this ticket is not assigned to you")
	errNoTicket       = errors.New("open a ticket first")
)

// claimedError reports a ticket another agent holds.
type claimedError struct{ agent string }

func (e *claimedError) Error() string { return "already claimed by " + e.agent }

// Message is one chat message of a ticket, as sent in the "message" event.
type Message struct {
	ID       string `json:"id"`
	TicketID string `json:"ticketId"`
	From     string `json:"from"` // "customer" or "agent"
	Name     string `json:"name"`
	Text     string `json:"text"`
	TS       int64  `json:"ts"` // milliseconds since the epoch, like Date.now()
}

// QueueItem is one unclaimed ticket in the "queue" event.
type QueueItem struct {
	TicketID string `json:"ticketId"`
	Name     string `json:"name"`
	OpenedAt int64  `json:"openedAt"`
	Online   bool   `json:"online"`
}

// TicketState is a ticket as an agent claiming it, or a customer resuming
// it, sees it.
type TicketState struct {
	TicketID string    `json:"ticketId"`
	Name     string    `json:"name"`
	OpenedAt int64     `json:"openedAt"`
	Agent    string    `json:"agent,omitempty"`
	Online   bool      `json:"online"`
	Messages []Message `json:"messages"`
}

type ticket struct {
	id       string
	name     string // "" while only the agent has resumed it after a restart
	openedAt int64
	agent    string // "" while in the queue
	online   int    // connected customer sockets
	messages []Message
	expiry   *time.Timer // runs while no customer is connected
}

func (t *ticket) state() TicketState {
	return TicketState{
		TicketID: t.id, Name: t.name, OpenedAt: t.openedAt, Agent: t.agent,
		Online: t.online > 0, Messages: append(make([]Message, 0, len(t.messages)), t.messages...),
	}
}

// ticketStore keeps the tickets: desk in memory for one server, redisDesk
// for a cluster. Errors returned are meant for clients.
type ticketStore interface {
	// open creates a ticket for a connected customer.
	open(name string) (TicketState, error)
	// customerJoined counts a customer socket of ticket id, opening it again
	// under that id if unknown (the server restarted); it reports whether
	// the customer came online and whether the queue changed.
	customerJoined(id, name string) (st TicketState, cameOnline, queueChanged bool, err error)
	// customerLeft uncounts a customer socket; the last one starts the
	// grace period after which the ticket expires.
	customerLeft(id string) (wentOffline, queued bool)
	// claim assigns a queued ticket to agent (again: fine).
	claim(id, agent string) (TicketState, error)
	// resume gives an agent back its ticket after a reconnection, creating
	// it if unknown (the server restarted).
	resume(id, agent string) (TicketState, error)
	// close removes a ticket its agent is done with.
	close(id, agent string) error
	// post stores a message; an agent posts only to its tickets.
	post(m Message) (Message, error)
	owns(id, agent string) bool
	// queue lists the unclaimed tickets, oldest first; nil if unavailable.
	queue() []QueueItem
	// shutdown stops the expiry timers.
	shutdown()
}

// desk is the ticket store: tickets, their queue and their messages. Its
// methods never call out while holding mu; expired tickets are reported
// through onExpire, called without the lock.
type desk struct {
	grace    time.Duration // how long a ticket survives without its customer
	onExpire func(id string, wasQueued bool)

	mu      sync.Mutex
	tickets map[string]*ticket
	closed  bool
}

func newDesk(grace time.Duration, onExpire func(string, bool)) *desk {
	return &desk{grace: grace, onExpire: onExpire, tickets: make(map[string]*ticket)}
}

// newID returns 16 random bytes in base64url: 22 characters, unguessable, so
// a ticket id is also the customer's key to the ticket.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validID reports whether id looks like one newID returned.
func validID(id string) bool {
	if len(id) != 22 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

// open creates a ticket for a connected customer.
func (d *desk) open(name string) (TicketState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.tickets) >= maxTickets || d.closed {
		return TicketState{}, errTooManyTickets
	}
	t := &ticket{id: newID(), name: name, openedAt: time.Now().UnixMilli(), online: 1}
	d.tickets[t.id] = t
	return t.state(), nil
}

// customerJoined counts a customer socket of ticket id. An unknown id (the
// server restarted) is opened again under that id. It reports whether the
// customer came online (for presence) and whether the queue changed.
func (d *desk) customerJoined(id, name string) (st TicketState, cameOnline, queueChanged bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tickets[id]
	if t == nil {
		if len(d.tickets) >= maxTickets || d.closed {
			return TicketState{}, false, false, errTooManyTickets
		}
		t = &ticket{id: id, openedAt: time.Now().UnixMilli()}
		d.tickets[id] = t
		queueChanged = true
	}
	if t.name == "" {
		t.name = name
		queueChanged = queueChanged || t.agent == ""
	}
	t.online++
	if t.online == 1 {
		cameOnline = true
		queueChanged = queueChanged || t.agent == ""
		if t.expiry != nil {
			t.expiry.Stop()
			t.expiry = nil
		}
	}
	return t.state(), cameOnline, queueChanged, nil
}

// customerLeft uncounts a customer socket; when none is left, the ticket
// expires after the grace period unless the customer comes back.
func (d *desk) customerLeft(id string) (wentOffline, queued bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tickets[id]
	if t == nil || t.online == 0 {
		return false, false
	}
	t.online--
	if t.online > 0 {
		return false, false
	}
	d.startExpiryLocked(t)
	return true, t.agent == ""
}

func (d *desk) startExpiryLocked(t *ticket) {
	if d.closed || t.expiry != nil {
		return
	}
	t.expiry = time.AfterFunc(d.grace, func() { d.expire(t) })
}

func (d *desk) expire(t *ticket) {
	d.mu.Lock()
	if d.tickets[t.id] != t || t.online > 0 || d.closed {
		d.mu.Unlock()
		return
	}
	delete(d.tickets, t.id)
	queued := t.agent == ""
	d.mu.Unlock()
	d.onExpire(t.id, queued)
}

// claim assigns ticket id to agent. Claiming again one's own ticket is fine.
func (d *desk) claim(id, agent string) (TicketState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tickets[id]
	switch {
	case t == nil:
		return TicketState{}, errTicketNotFound
	case t.agent != "" && t.agent != agent:
		return TicketState{}, &claimedError{t.agent}
	}
	t.agent = agent
	return t.state(), nil
}

// resume gives back to agent a ticket it held before a reconnection. After a
// server restart the ticket is unknown: it is created again, assigned, and
// waits for its customer to come back within the grace period.
func (d *desk) resume(id, agent string) (TicketState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tickets[id]
	if t == nil {
		if len(d.tickets) >= maxTickets || d.closed {
			return TicketState{}, errTooManyTickets
		}
		t = &ticket{id: id, openedAt: time.Now().UnixMilli(), agent: agent}
		d.tickets[id] = t
		d.startExpiryLocked(t)
	}
	if t.agent != "" && t.agent != agent {
		return TicketState{}, &claimedError{t.agent}
	}
	t.agent = agent
	return t.state(), nil
}

// close removes a ticket its agent is done with.
func (d *desk) close(id, agent string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tickets[id]
	if t == nil {
		return errTicketNotFound
	}
	if t.agent != agent {
		return errNotYourTicket
	}
	if t.expiry != nil {
		t.expiry.Stop()
	}
	delete(d.tickets, id)
	return nil
}

// post stores a message of ticket id. An agent may post only to its tickets.
func (d *desk) post(m Message) (Message, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tickets[m.TicketID]
	if t == nil {
		return Message{}, errTicketNotFound
	}
	if m.From == "agent" && t.agent != m.Name {
		return Message{}, errNotYourTicket
	}
	m.ID = newID()
	m.TS = time.Now().UnixMilli()
	if len(t.messages) == maxMessages {
		t.messages = slices.Delete(t.messages, 0, 1)
	}
	t.messages = append(t.messages, m)
	return m, nil
}

// owns reports whether agent holds ticket id.
func (d *desk) owns(id, agent string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tickets[id]
	return t != nil && t.agent == agent
}

// queue lists the unclaimed tickets, oldest first.
func (d *desk) queue() []QueueItem {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := make([]QueueItem, 0)
	for _, t := range d.tickets {
		if t.agent == "" && t.name != "" {
			q = append(q, QueueItem{TicketID: t.id, Name: t.name, OpenedAt: t.openedAt, Online: t.online > 0})
		}
	}
	slices.SortFunc(q, func(a, b QueueItem) int {
		return cmp.Or(cmp.Compare(a.OpenedAt, b.OpenedAt), strings.Compare(a.TicketID, b.TicketID))
	})
	return q
}

// shutdown stops every expiry timer; the desk accepts no new ticket.
func (d *desk) shutdown() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for _, t := range d.tickets {
		if t.expiry != nil {
			t.expiry.Stop()
		}
	}
}
