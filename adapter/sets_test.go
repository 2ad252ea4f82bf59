package adapter

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func members(r roomMembers) []string {
	var out []string
	r.each(func(m *member) { out = append(out, m.id) })
	slices.Sort(out)
	return out
}

// roomMembers against a map model, through the inline/map transitions,
// with "" as an ordinary member.
func TestRoomMembers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := []string{"", "a", "b", "c", "d"}
	for round := range 200 {
		model := map[string]bool{}
		byID := map[string]*member{}
		for _, id := range ids {
			byID[id] = &member{id: id}
		}
		var set roomMembers
		exists := false
		for range 30 {
			id := ids[rng.IntN(len(ids))]
			if rng.IntN(2) == 0 {
				if exists {
					set = set.with(byID[id])
				} else {
					set, exists = roomMembers{one: byID[id]}, true
				}
				model[id] = true
			} else if exists {
				var empty bool
				set, empty = set.without(id)
				delete(model, id)
				if empty != (len(model) == 0) {
					t.Fatalf("round %d: empty %v, model %v", round, empty, model)
				}
				exists = !empty
			}
			if !exists {
				continue
			}
			want := make([]string, 0, len(model))
			for id := range model {
				want = append(want, id)
			}
			slices.Sort(want)
			if got := members(set); !slices.Equal(got, want) || set.len() != len(want) {
				t.Fatalf("round %d: members %q (len %d), want %q", round, got, set.len(), want)
			}
			for _, id := range ids {
				if set.has(id) != model[id] {
					t.Fatalf("round %d: has(%q) = %v", round, id, set.has(id))
				}
			}
			if len(model) == 1 && set.many != nil {
				t.Fatalf("round %d: one member kept in a map", round)
			}
		}
	}
}

// roomList keeps join order and agrees with a model, below and above the
// size from which it adds its index.
func TestRoomList(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{3, maxRoomList + 10} {
		var l roomList
		var model []string
		for range 2000 {
			room := fmt.Sprint("r", rng.IntN(n))
			if i := slices.Index(model, room); rng.IntN(2) == 0 {
				if added := l.add(room); added != (i < 0) {
					t.Fatalf("add(%s) = %v", room, added)
				}
				if i < 0 {
					model = append(model, room)
				}
			} else {
				if removed := l.remove(room); removed != (i >= 0) {
					t.Fatalf("remove(%s) = %v", room, removed)
				}
				if i >= 0 {
					model = slices.Delete(model, i, i+1)
				}
			}
			if !slices.Equal(l.list, model) && !(len(l.list) == 0 && len(model) == 0) {
				t.Fatalf("list %v, want %v", l.list, model)
			}
			for r, i := range l.index {
				if l.list[i] != r {
					t.Fatalf("index of %s is %d, list %v", r, i, l.list)
				}
			}
			if l.index != nil && len(l.index) != len(l.list) {
				t.Fatalf("index has %d rooms, list %d", len(l.index), len(l.list))
			}
		}
	}
}

// A large room shrinking back to one member goes back inline, and the
// adapter forgets empty rooms, under concurrent joins and leaves.
func TestRoomsShrinkConcurrently(t *testing.T) {
	a := newInMemory(&fakeNsp{})
	socks := make([]*fakeSocket, 50)
	for i := range socks {
		socks[i] = &fakeSocket{a: a, id: fmt.Sprint("s", i), connected: true}
		a.AddAll(socks[i], []string{socks[i].id})
	}
	var wg sync.WaitGroup
	for i, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				a.AddAll(s, []string{"big", fmt.Sprint("pair", i/2)})
				if len(a.Select(BroadcastOptions{Rooms: []string{"big"}, Except: []string{s.id}})) >= len(socks) {
					t.Error("selected more sockets than exist")
				}
				if j%3 == 0 {
					a.Del(s.id, "big")
				}
				a.Del(s.id, fmt.Sprint("pair", i/2))
			}
			a.Del(s.id, "big")
		}()
	}
	wg.Wait()
	a.AddAll(socks[0], []string{"big"})
	a.AddAll(socks[1], []string{"big"})
	a.Del(socks[1].id, "big")
	if set := a.rooms["big"]; set.many != nil || set.one.id != socks[0].id {
		t.Fatalf("big = %+v, want s0 inline", set)
	}
	for _, s := range socks {
		a.DelAll(s.id)
	}
	if len(a.rooms) != 0 || len(a.sids) != 0 {
		t.Fatalf("left rooms %v, sids %d", a.Rooms(), len(a.sids))
	}
}

// Bytes the adapter keeps per socket alone in its own room (Socket.IO's
// default), per 1,000 sockets.
func BenchmarkAddAllOwnRoom(b *testing.B) {
	socks := make([]*fakeSocket, 1000)
	for i := range socks {
		socks[i] = &fakeSocket{id: fmt.Sprint("socket-id-", 1e6+i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		a := newInMemory(&fakeNsp{})
		for _, s := range socks {
			a.AddAll(s, []string{s.id})
		}
	}
}
