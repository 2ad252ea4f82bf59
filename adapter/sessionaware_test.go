package adapter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/parser"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newSessionAware(t *testing.T, opts SessionAwareOptions) (*SessionAware, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Unix(1700000000, 0)}
	opts.Now = clock.now
	return NewSessionAware(&opts)(&fakeNsp{}).(*SessionAware), clock
}

func event(t *testing.T, args ...any) *parser.Packet {
	t.Helper()
	p, err := parser.NewEvent("/", "e", args)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func texts(ps []*parser.Packet) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func TestAppendAndReadOffset(t *testing.T) {
	p := event(t, 1, "x")
	shared := p.Data
	AppendOffset(p, "1700000000000-0")
	if got, want := p.String(), `2/chat,["e",1,"x","1700000000000-0"]`; got != `2["e",1,"x","1700000000000-0"]` && got != want {
		t.Fatalf("packet %s", got)
	}
	if string(shared) != `["e",1,"x"]` {
		t.Fatalf("the original payload was modified: %s", shared)
	}
	if o := PacketOffset(p); o != "1700000000000-0" {
		t.Fatalf("offset %q", o)
	}
	if o := PacketOffset(event(t, 1)); o != "" {
		t.Fatalf("offset of an event without one: %q", o)
	}
}

func TestSessionIncludes(t *testing.T) {
	for _, c := range []struct {
		rooms []string
		opts  BroadcastOptions
		want  bool
	}{
		{[]string{"id"}, BroadcastOptions{}, true},
		{[]string{"id", "a"}, BroadcastOptions{Rooms: []string{"a"}}, true},
		{[]string{"id", "a"}, BroadcastOptions{Rooms: []string{"b"}}, false},
		{[]string{"id", "a"}, BroadcastOptions{Except: []string{"a"}}, false},
		{[]string{"id", "a"}, BroadcastOptions{Rooms: []string{"a"}, Except: []string{"id"}}, false},
		{[]string{"id", "a"}, BroadcastOptions{Rooms: []string{"b", "a"}, Except: []string{"c"}}, true},
	} {
		if got := SessionIncludes(c.rooms, c.opts); got != c.want {
			t.Errorf("SessionIncludes(%v, %+v) = %v", c.rooms, c.opts, got)
		}
	}
}

func TestSessionAwareStoresOnlyStorable(t *testing.T) {
	a, _ := newSessionAware(t, SessionAwareOptions{})
	ctx := context.Background()
	_ = a.Broadcast(ctx, event(t, 1), BroadcastOptions{})
	_ = a.Broadcast(ctx, event(t, 2), BroadcastOptions{Flags: Flags{Volatile: true}})
	withAck := event(t, 3)
	withAck.ID, withAck.HasID = 5, true
	_ = a.Broadcast(ctx, withAck, BroadcastOptions{})
	bin := event(t, []byte{1})
	_ = a.Broadcast(ctx, bin, BroadcastOptions{Rooms: []string{"r"}})
	if off, _ := a.Offset(ctx); off != "2" {
		t.Fatalf("offset %q, want 2", off)
	}
	got, err := a.Replay(ctx, "0", []string{"id", "r"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`2/chat,["e",1,"1"]`, `51-/chat,["e",{"_placeholder":true,"num":0},"2"]`}
	if fmt.Sprint(texts(got)) != fmt.Sprint(want) {
		t.Fatalf("replay %q, want %q", texts(got), want)
	}
	if withAck.String() != `2/chat,5["e",3]` {
		t.Fatalf("ack packet changed: %s", withAck)
	}
}

func TestSessionAwareRestore(t *testing.T) {
	a, _ := newSessionAware(t, SessionAwareOptions{})
	ctx := context.Background()
	_ = a.Broadcast(ctx, event(t, 1), BroadcastOptions{}) // offset 1, before the session
	a.PersistSession(&Session{SID: "sid", PID: "pid", Rooms: []string{"sid", "r"}, Data: "d", Offset: "1"})
	_ = a.Broadcast(ctx, event(t, 2), BroadcastOptions{Rooms: []string{"r"}})
	_ = a.Broadcast(ctx, event(t, 3), BroadcastOptions{Rooms: []string{"other"}})
	_ = a.Broadcast(ctx, event(t, 4), BroadcastOptions{Except: []string{"r"}})
	_ = a.Broadcast(ctx, event(t, 5), BroadcastOptions{Rooms: []string{"sid"}})

	// A client offset older than the session start counts from the start.
	s, err := a.RestoreSession(ctx, "pid", "")
	if err != nil {
		t.Fatal(err)
	}
	if s.SID != "sid" || s.Data != "d" || s.Offset != "1" || fmt.Sprint(s.Rooms) != "[sid r]" {
		t.Fatalf("session %+v", s)
	}
	if got := fmt.Sprint(texts(s.MissedPackets)); got != `[2/chat,["e",2,"2"] 2/chat,["e",5,"5"]]` {
		t.Fatalf("missed %s", got)
	}
	if _, err := a.RestoreSession(ctx, "pid", "5"); !errors.Is(err, ErrSessionUnknown) {
		t.Fatalf("second restore: %v", err)
	}

	a.PersistSession(&Session{SID: "sid", PID: "pid", Rooms: []string{"sid"}, Offset: "1"})
	s, err = a.RestoreSession(ctx, "pid", "4")
	if err != nil || fmt.Sprint(texts(s.MissedPackets)) != `[2/chat,["e",5,"5"]]` || s.Offset != "4" {
		t.Fatalf("restore from 4: %v %+v", err, s)
	}
	for _, offset := range []string{"6", "zz", "-1", "1.5"} {
		a.PersistSession(&Session{SID: "sid", PID: "pid", Offset: "1"})
		if _, err := a.RestoreSession(ctx, "pid", offset); !errors.Is(err, ErrOffsetUnknown) {
			t.Errorf("offset %q: %v", offset, err)
		}
	}
	// A session from an adapter that knew no offset needs the client's.
	a.PersistSession(&Session{SID: "sid", PID: "pid"})
	if _, err := a.RestoreSession(ctx, "pid", ""); !errors.Is(err, ErrOffsetUnknown) {
		t.Errorf("no offset at all: %v", err)
	}
}

func TestSessionAwareExpiry(t *testing.T) {
	a, clock := newSessionAware(t, SessionAwareOptions{MaxDisconnectionDuration: time.Minute})
	ctx := context.Background()
	a.PersistSession(&Session{SID: "s1", PID: "p1", Offset: "0"})
	_ = a.Broadcast(ctx, event(t, 1), BroadcastOptions{})
	clock.t = clock.t.Add(30 * time.Second)
	a.PersistSession(&Session{SID: "s2", PID: "p2", Offset: "1"})
	_ = a.Broadcast(ctx, event(t, 2), BroadcastOptions{})
	clock.t = clock.t.Add(31 * time.Second)

	// p1 and packet 1 are older than a minute.
	if _, err := a.RestoreSession(ctx, "p1", "0"); !errors.Is(err, ErrSessionUnknown) {
		t.Fatalf("expired session: %v", err)
	}
	if _, err := a.Replay(ctx, "0", nil); !errors.Is(err, ErrOffsetUnknown) {
		t.Fatalf("replay over an expired packet: %v", err)
	}
	s, err := a.RestoreSession(ctx, "p2", "")
	if err != nil || len(s.MissedPackets) != 1 {
		t.Fatalf("p2: %v %+v", err, s)
	}
	clock.t = clock.t.Add(time.Hour)
	_ = a.Broadcast(ctx, event(t, 3), BroadcastOptions{})
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.packets) != 1 || len(a.sessions) != 0 || len(a.order) != 0 {
		t.Fatalf("store not trimmed: %d packets, %d sessions, %d refs", len(a.packets), len(a.sessions), len(a.order))
	}
}

func TestSessionAwareBounds(t *testing.T) {
	a, _ := newSessionAware(t, SessionAwareOptions{MaxPackets: 3, MaxBytes: 100, MaxSessions: 2})
	ctx := context.Background()
	for i := range 5 {
		_ = a.Broadcast(ctx, event(t, i), BroadcastOptions{})
	}
	if _, err := a.Replay(ctx, "1", nil); !errors.Is(err, ErrOffsetUnknown) {
		t.Fatalf("packet 2 should be dropped: %v", err)
	}
	if got, err := a.Replay(ctx, "2", nil); err != nil || len(got) != 3 {
		t.Fatalf("replay after 2: %v %d", err, len(got))
	}
	_ = a.Broadcast(ctx, event(t, strings.Repeat("a", 80)), BroadcastOptions{})
	a.mu.Lock()
	n, bytes := len(a.packets), a.bytes
	a.mu.Unlock()
	if n != 1 || bytes > 100 {
		t.Fatalf("%d packets, %d bytes", n, bytes)
	}

	for i := range 3 {
		a.PersistSession(&Session{SID: fmt.Sprint("s", i), PID: fmt.Sprint("p", i), Offset: "6"})
	}
	if _, err := a.RestoreSession(ctx, "p0", ""); !errors.Is(err, ErrSessionUnknown) {
		t.Fatalf("oldest session should be evicted: %v", err)
	}
	if _, err := a.RestoreSession(ctx, "p2", ""); err != nil {
		t.Fatal(err)
	}
}
