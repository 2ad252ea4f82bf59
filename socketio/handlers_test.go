package socketio

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// handlerSet keeps registration order per event, runs Once handlers once,
// and behaves the same in its flat and map forms.
func TestHandlerSet(t *testing.T) {
	for _, extra := range []int{0, maxFlatHandlers} { // flat, then forced into the map
		t.Run(fmt.Sprint("extra=", extra), func(t *testing.T) {
			var h handlerSet
			var calls []string
			fn := func(tag string) func(*Event) { return func(*Event) { calls = append(calls, tag) } }
			run := func(name string) []string {
				calls = nil
				for _, l := range h.take(nil, name) {
					l.fn(nil)
				}
				return calls
			}
			for i := range extra {
				h.add(fmt.Sprint("other", i), fn("o"), false)
			}
			h.add("a", fn("a1"), false)
			h.add("b", fn("b1"), true)
			h.add("a", fn("a2"), true)
			h.add("a", fn("a3"), false)
			h.add("b", fn("b2"), false)
			if (h.byName != nil) != (extra > 0) {
				t.Fatalf("map form %v with %d extra handlers", h.byName != nil, extra)
			}
			if got := run("a"); !slices.Equal(got, []string{"a1", "a2", "a3"}) {
				t.Fatalf("a: %v", got)
			}
			if got := run("a"); !slices.Equal(got, []string{"a1", "a3"}) {
				t.Fatalf("a again (once dropped): %v", got)
			}
			if got := run("b"); !slices.Equal(got, []string{"b1", "b2"}) {
				t.Fatalf("b: %v", got)
			}
			h.add("b", fn("b3"), true)
			if got := run("b"); !slices.Equal(got, []string{"b2", "b3"}) {
				t.Fatalf("b after re-add: %v", got)
			}
			if got := run("missing"); len(got) != 0 {
				t.Fatalf("missing: %v", got)
			}
			h.remove("a")
			if got := run("a"); len(got) != 0 {
				t.Fatalf("a after remove: %v", got)
			}
			if got := run("b"); !slices.Equal(got, []string{"b2"}) {
				t.Fatalf("b after removing a: %v", got)
			}
			h.add("c", fn("c1"), true)
			h.remove("c")
			if got := run("c"); len(got) != 0 {
				t.Fatalf("c after remove: %v", got)
			}
			if got := run("b"); !slices.Equal(got, []string{"b2"}) {
				t.Fatalf("b kept its once bits right: %v", got)
			}
		})
	}
}

// Growing past maxFlatHandlers moves every handler, once flags included,
// into the map without changing order.
func TestHandlerSetSwitchToMap(t *testing.T) {
	var h handlerSet
	var calls []int
	for i := range maxFlatHandlers + 1 {
		h.add("e", func(*Event) { calls = append(calls, i) }, i%3 == 0)
		if i < maxFlatHandlers && h.byName != nil {
			t.Fatalf("map form at %d handlers", i+1)
		}
	}
	if h.byName == nil || h.fns != nil || h.names != nil {
		t.Fatal("still flat past maxFlatHandlers")
	}
	for _, l := range h.take(nil, "e") {
		l.fn(nil)
	}
	if len(calls) != maxFlatHandlers+1 || !slices.IsSorted(calls) {
		t.Fatalf("calls %v", calls)
	}
	calls = nil
	for _, l := range h.take(nil, "e") {
		l.fn(nil)
	}
	for _, i := range calls {
		if i%3 == 0 {
			t.Fatalf("once handler %d ran twice: %v", i, calls)
		}
	}
	if len(calls) != maxFlatHandlers+1-(maxFlatHandlers/3+1) {
		t.Fatalf("calls %v", calls)
	}
}

// trim keeps every handler and its once flag, and frees the spare room.
func TestHandlerSetTrim(t *testing.T) {
	var h handlerSet
	n := 0
	for i := range 9 {
		h.add(fmt.Sprint("e", i%3), func(*Event) { n++ }, i == 4)
	}
	h.trim()
	if cap(h.fns) > 10 || len(h.fns) != 9 { // 72 bytes: the 80-byte size class holds 10
		t.Fatalf("len %d cap %d after trim", len(h.fns), cap(h.fns))
	}
	for range 2 {
		for _, l := range h.take(nil, "e1") {
			l.fn(nil)
		}
	}
	if n != 5 { // e1 has handlers 1, 4 (once) and 7
		t.Fatalf("%d calls, want 5", n)
	}
	h.remove("e0")
	h.remove("e1")
	h.remove("e2")
	h.trim()
	if h.fns != nil || h.names != nil {
		t.Fatal("an empty list keeps its array")
	}
}

// Sockets registering the same names in the same order share one name
// list; a change to one socket's handlers makes its list private and
// leaves the others alone; past the trie's budget lists are private.
func TestHandlerSetSharedNames(t *testing.T) {
	fn := func(*Event) {}
	var a, b, c handlerSet
	for _, n := range []string{"x1", "x2", "x3"} {
		a.add(n, fn, false)
		b.add(n, fn, false)
	}
	c.add("x1", fn, false)
	c.add("x3", fn, false)
	if a.names != b.names || a.names.private || a.names == c.names {
		t.Fatal("same names in the same order not shared, or different ones shared")
	}
	b.remove("x2")
	if !b.names.private || !slices.Equal(b.names.list, []string{"x1", "x3"}) ||
		!slices.Equal(a.names.list, []string{"x1", "x2", "x3"}) {
		t.Fatalf("after remove: b %v (private %v), a %v", b.names.list, b.names.private, a.names.list)
	}
	b.add("x4", fn, false)
	if !slices.Equal(b.names.list, []string{"x1", "x3", "x4"}) || len(b.fns) != 3 {
		t.Fatalf("private list after add: %v", b.names.list)
	}

	saved := sharedNodes.Load()
	sharedNodes.Store(maxSharedNodes) // the trie is full
	defer sharedNodes.Store(saved)
	var d handlerSet
	d.add("fresh-name-never-seen", fn, true)
	d.add("x1", fn, false)
	if !d.names.private || !slices.Equal(d.names.list, []string{"fresh-name-never-seen", "x1"}) {
		t.Fatalf("past the budget: %v private %v", d.names.list, d.names.private)
	}
	if got := d.take(nil, "fresh-name-never-seen"); len(got) != 1 || !got[0].once {
		t.Fatalf("take %v", got)
	}
	if got := d.take(nil, "fresh-name-never-seen"); len(got) != 0 {
		t.Fatal("once handler ran twice")
	}
}

// Concurrent registrations on many sockets share the trie safely.
func TestHandlerSetSharedNamesConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	sets := make([]handlerSet, 16)
	for i := range sets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 12 {
				sets[i].add(fmt.Sprint("c", j%5), func(*Event) {}, j%4 == 0)
			}
		}()
	}
	wg.Wait()
	for i := range sets {
		if sets[i].names != sets[0].names || len(sets[i].fns) != 12 {
			t.Fatalf("set %d: names not shared or %d handlers", i, len(sets[i].fns))
		}
	}
}

// Bytes a socket keeps for the nine handlers the bench server registers.
func BenchmarkHandlerSetNine(b *testing.B) {
	names := []string{"echo", "join", "leave", "broadcast", "broadcast-except", "sockets", "request", "rooms", "disconnect-me"}
	fn := func(*Event) {}
	b.ReportAllocs()
	for b.Loop() {
		var h handlerSet
		for _, n := range names {
			h.add(n, fn, false)
		}
	}
}
