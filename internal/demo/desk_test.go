package demo

import (
	"errors"
	"fmt"
	"github.com/redis/go-redis/v9"
	"github.com/seed9706/socketio/internal/interop"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// forEachStore runs test against the in-memory desk and the Redis one.
func forEachStore(t *testing.T, test func(t *testing.T, newStore func(grace time.Duration, onExpire func(string, bool)) ticketStore)) {
	t.Run("memory", func(t *testing.T) {
		test(t, func(grace time.Duration, onExpire func(string, bool)) ticketStore {
			d := newDesk(grace, onExpire)
			t.Cleanup(d.shutdown)
			return d
		})
	})
	t.Run("redis", func(t *testing.T) {
		rdb := redis.NewClient(&redis.Options{Addr: interop.StartRedis(t)})
		t.Cleanup(func() { _ = rdb.Close() })
		test(t, func(grace time.Duration, onExpire func(string, bool)) ticketStore {
			d := newRedisDesk(rdb, grace, onExpire, slog.New(slog.DiscardHandler))
			t.Cleanup(d.shutdown)
			return d
		})
	})
}

func noExpiry(string, bool) {}

func TestStoreClaimIsExclusive(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(time.Duration, func(string, bool)) ticketStore) {
		d := newStore(time.Minute, noExpiry)
		st, err := d.open("Ann")
		if err != nil {
			t.Fatal(err)
		}
		if q := d.queue(); len(q) != 1 || q[0].TicketID != st.TicketID || q[0].Name != "Ann" || !q[0].Online {
			t.Fatalf("queue: %+v", q)
		}
		var wg sync.WaitGroup
		wins := make(chan string, 8)
		for i := range 8 {
			wg.Go(func() {
				agent := string(rune('A' + i))
				if _, err := d.claim(st.TicketID, agent); err == nil {
					wins <- agent
				} else if !strings.HasPrefix(err.Error(), "already claimed by ") {
					t.Errorf("claim: %v", err)
				}
			})
		}
		wg.Wait()
		close(wins)
		if n := len(wins); n != 1 {
			t.Fatalf("%d agents claimed the ticket, want 1", n)
		}
		if q := d.queue(); len(q) != 0 {
			t.Errorf("queue after claim: %v", q)
		}
	})
}

func TestStorePostAndClose(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(time.Duration, func(string, bool)) ticketStore) {
		d := newStore(time.Minute, noExpiry)
		st, _ := d.open("Ann")
		if _, err := d.claim(st.TicketID, "Bob"); err != nil {
			t.Fatal(err)
		}
		m, err := d.post(Message{TicketID: st.TicketID, From: "customer", Name: "Ann", Text: "hi"})
		if err != nil || !validID(m.ID) || m.TS == 0 {
			t.Fatalf("post: %+v, %v", m, err)
		}
		if _, err := d.post(Message{TicketID: st.TicketID, From: "agent", Name: "Eve", Text: "hi"}); !errors.Is(err, errNotYourTicket) {
			t.Errorf("post by another agent: %v", err)
		}
		if !d.owns(st.TicketID, "Bob") || d.owns(st.TicketID, "Eve") {
			t.Error("owns")
		}
		got, err := d.claim(st.TicketID, "Bob") // again: fine, with the messages
		if err != nil || len(got.Messages) != 1 || got.Messages[0] != m {
			t.Errorf("claim again: %+v, %v", got, err)
		}
		if err := d.close(st.TicketID, "Eve"); !errors.Is(err, errNotYourTicket) {
			t.Errorf("close by another agent: %v", err)
		}
		if err := d.close(st.TicketID, "Bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.post(Message{TicketID: st.TicketID, From: "customer", Name: "Ann", Text: "hi"}); !errors.Is(err, errTicketNotFound) {
			t.Errorf("post to a closed ticket: %v", err)
		}
	})
}

func TestStoreExpiresOfflineTickets(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(time.Duration, func(string, bool)) ticketStore) {
		expired := make(chan string, 2)
		d := newStore(50*time.Millisecond, func(id string, queued bool) {
			if !queued {
				t.Errorf("expired ticket %s was not queued", id)
			}
			expired <- id
		})
		st, _ := d.open("Ann")
		back, _ := d.open("Bea")
		if off, queued := d.customerLeft(st.TicketID); !off || !queued {
			t.Errorf("customerLeft: %v %v", off, queued)
		}
		d.customerLeft(back.TicketID)
		if _, online, _, err := d.customerJoined(back.TicketID, "Bea"); err != nil || !online {
			t.Fatalf("customerJoined: online %v, %v", online, err)
		}
		select {
		case id := <-expired:
			if id != st.TicketID {
				t.Fatalf("expired %s, want %s", id, st.TicketID)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("ticket did not expire")
		}
		if _, err := d.claim(st.TicketID, "Bob"); !errors.Is(err, errTicketNotFound) {
			t.Errorf("claim an expired ticket: %v", err)
		}
		if _, err := d.claim(back.TicketID, "Bob"); err != nil {
			t.Errorf("the ticket of a customer who came back: %v", err)
		}
	})
}

func TestStoreResumeAfterRestart(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func(time.Duration, func(string, bool)) ticketStore) {
		d := newStore(time.Minute, noExpiry)
		id := newID()
		// The agent comes back first: the ticket is assigned, nameless, not queued.
		if _, err := d.resume(id, "Bob"); err != nil {
			t.Fatal(err)
		}
		if q := d.queue(); len(q) != 0 {
			t.Errorf("queue: %v", q)
		}
		st, online, _, err := d.customerJoined(id, "Ann")
		if err != nil || !online || st.Name != "Ann" || st.Agent != "Bob" {
			t.Fatalf("customerJoined: %+v online %v err %v", st, online, err)
		}
		if _, err := d.resume(id, "Eve"); !errors.As(err, new(*claimedError)) {
			t.Errorf("another agent resumed Bob's ticket: %v", err)
		}
		// The customer comes back first: queued again under the same id.
		id2 := newID()
		if _, _, queueChanged, _ := d.customerJoined(id2, "Cid"); !queueChanged {
			t.Error("queue unchanged")
		}
		if q := d.queue(); len(q) != 1 || q[0].TicketID != id2 || q[0].Name != "Cid" || !q[0].Online {
			t.Errorf("queue: %+v", q)
		}
	})
}

func TestDeskBounds(t *testing.T) {
	d := newDesk(time.Minute, func(string, bool) {})
	defer d.shutdown()
	st, _ := d.open("Ann")
	for i := range maxMessages + 5 {
		if _, err := d.post(Message{TicketID: st.TicketID, From: "customer", Text: strings.Repeat("x", i%3+1)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.tickets[st.TicketID].state(); len(got.Messages) != maxMessages {
		t.Errorf("%d messages kept, want %d", len(got.Messages), maxMessages)
	}
	for len(d.tickets) < maxTickets {
		if _, err := d.open("x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.open("one too many"); !errors.Is(err, errTooManyTickets) {
		t.Errorf("open past the bound: %v", err)
	}
	if _, _, _, err := d.customerJoined(newID(), "x"); !errors.Is(err, errTooManyTickets) {
		t.Errorf("resume past the bound: %v", err)
	}
}

func TestValidation(t *testing.T) {
	for id, want := range map[string]bool{newID(): true, "": false, "short": false, strings.Repeat("!", 22): false, newID() + "x": false} {
		if validID(id) != want {
			t.Errorf("validID(%q) = %v", id, !want)
		}
	}
	for id, want := range map[string]bool{"A-1001": true, "": false, "a b": false, "../x": false, strings.Repeat("a", 33): false, strings.Repeat("a", 32): true} {
		if validOrderID(id) != want {
			t.Errorf("validOrderID(%q) = %v", id, !want)
		}
	}
	for in, want := range map[string]string{" Ann ": "Ann", "": "", strings.Repeat("é", 41): ""} {
		got, ok := cleanText(in, 40)
		if ok != (want != "") || (ok && got != want) {
			t.Errorf("cleanText(%q) = %q, %v", in, got, ok)
		}
	}
}

func TestTracker(t *testing.T) {
	moves := make(chan OrderStatus, 10)
	tr := newTracker(20*time.Millisecond, newMemoryClock(time.Minute), func(st OrderStatus) { moves <- st })
	st, err := tr.track("A1")
	if err != nil || st.Status != "placed" {
		t.Fatalf("track: %+v, %v", st, err)
	}
	placed := st.At
	for i, want := range []string{"packed", "shipped", "delivered"} {
		got := <-moves
		if got.Status != want || got.OrderID != "A1" || got.At != placed+int64(i+1)*20 {
			t.Fatalf("move %d: %+v, want %s at %d", i, got, want, placed+int64(i+1)*20)
		}
	}
	if st, _ := tr.track("A1"); st.Status != "delivered" || st.At != placed+60 {
		t.Errorf("track after the moves: %+v", st)
	}
	tr.shutdown()
	if _, err := tr.track("../x"); !errors.Is(err, errBadOrderID) {
		t.Errorf("bad id: %v", err)
	}
	select {
	case m := <-moves:
		t.Errorf("move after shutdown: %+v", m)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestMemoryClockBound(t *testing.T) {
	c := newMemoryClock(time.Minute)
	now := time.Now()
	for i := range maxOrders {
		if _, err := c.placedAt(fmt.Sprint(i), now); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := c.placedAt("7", now.Add(time.Second)); !p.Equal(now) {
		t.Errorf("a known order was placed again at %v", p)
	}
	if _, err := c.placedAt("one-more", now); !errors.Is(err, errTooManyOrders) {
		t.Errorf("past the bound: %v", err)
	}
	if _, err := c.placedAt("later", now.Add(time.Minute)); err != nil {
		t.Errorf("after the orders' life: %v", err)
	}
}
