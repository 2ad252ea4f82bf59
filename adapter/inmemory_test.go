package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/seed9706/socketio/internal/leakcheck"
	"github.com/seed9706/socketio/parser"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// fakeNsp counts Prepare calls so tests can prove a broadcast is encoded once.
type fakeNsp struct {
	mu       sync.Mutex
	prepared int
	ackID    uint64
}

type fakePrepared struct{ p *parser.Packet }

func (f fakePrepared) Packet() *parser.Packet { return f.p }

func (n *fakeNsp) Name() string { return "/chat" }
func (n *fakeNsp) Prepare(p *parser.Packet) (Prepared, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.prepared++
	return fakePrepared{p}, nil
}
func (n *fakeNsp) NextAckID() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	id := n.ackID
	n.ackID++
	return id
}
func (n *fakeNsp) ServerSideEmit([]json.RawMessage, func(json.RawMessage)) {}

type fakeSocket struct {
	a         *InMemory
	id        string
	connected bool

	mu           sync.Mutex
	got          []Prepared
	acks         map[uint64]func(*parser.Packet)
	disconnected []bool
}

func (s *fakeSocket) ID() string            { return s.id }
func (s *fakeSocket) Handshake() *Handshake { return &Handshake{URL: "/socket.io/?EIO=4"} }
func (s *fakeSocket) Rooms() []string       { return s.a.SocketRooms(s.id) }
func (s *fakeSocket) Data() any             { return s.id + "-data" }
func (s *fakeSocket) Connected() bool       { return s.connected }
func (s *fakeSocket) Deliver(p Prepared, _ Flags) bool {
	if !s.connected { // as the server's sockets do (see Socket)
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, p)
	return true
}
func (s *fakeSocket) ExpectAck(id uint64, ack func(*parser.Packet)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acks == nil {
		s.acks = make(map[uint64]func(*parser.Packet))
	}
	s.acks[id] = ack
	return true
}
func (s *fakeSocket) Join(rooms ...string) { s.a.AddAll(s, rooms) }
func (s *fakeSocket) Leave(rooms ...string) {
	for _, r := range rooms {
		s.a.Del(s.id, r)
	}
}
func (s *fakeSocket) Disconnect(close bool) {
	s.mu.Lock()
	s.disconnected = append(s.disconnected, close)
	s.mu.Unlock()
	s.a.DelAll(s.id)
}

// setup creates sockets a..e: a,b in "r1"; b,c in "r2"; d in "r3"; e not
// connected yet (still in middleware) but in "r1".
func setup() (*InMemory, *fakeNsp, map[string]*fakeSocket) {
	nsp := &fakeNsp{}
	a := newInMemory(nsp)
	socks := map[string]*fakeSocket{}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		s := &fakeSocket{a: a, id: id, connected: id != "e"}
		socks[id] = s
		a.AddAll(s, []string{id})
	}
	a.AddAll(socks["a"], []string{"r1"})
	a.AddAll(socks["b"], []string{"r1", "r2"})
	a.AddAll(socks["c"], []string{"r2"})
	a.AddAll(socks["d"], []string{"r3"})
	a.AddAll(socks["e"], []string{"r1"})
	return a, nsp, socks
}

func ids(list []Socket) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.ID()
	}
	slices.Sort(out)
	return out
}

func TestSelect(t *testing.T) {
	a, _, _ := setup()
	tests := []struct {
		name string
		opts BroadcastOptions
		want []string
	}{
		{"all connected", BroadcastOptions{}, []string{"a", "b", "c", "d"}},
		{"one room", BroadcastOptions{Rooms: []string{"r1"}}, []string{"a", "b"}},
		{"union without duplicates", BroadcastOptions{Rooms: []string{"r1", "r2"}}, []string{"a", "b", "c"}},
		{"except", BroadcastOptions{Rooms: []string{"r1", "r2"}, Except: []string{"r2"}}, []string{"a"}},
		{"all except one socket", BroadcastOptions{Except: []string{"b"}}, []string{"a", "c", "d"}},
		{"unknown room", BroadcastOptions{Rooms: []string{"nope"}}, []string{}},
		{"except unknown room", BroadcastOptions{Rooms: []string{"r3"}, Except: []string{"nope"}}, []string{"d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(a.Select(tt.opts)); !slices.Equal(got, tt.want) {
				t.Fatalf("Select(%+v) = %v, want %v", tt.opts, got, tt.want)
			}
		})
	}
}

func TestRoomsBookkeeping(t *testing.T) {
	a, _, _ := setup()
	got := a.SocketRooms("b")
	slices.Sort(got)
	if want := []string{"b", "r1", "r2"}; !slices.Equal(got, want) {
		t.Fatalf("SocketRooms(b) = %v, want %v", got, want)
	}
	a.Del("b", "r1")
	got = a.SocketRooms("b")
	slices.Sort(got)
	if want := []string{"b", "r2"}; !slices.Equal(got, want) {
		t.Fatalf("after Del: SocketRooms(b) = %v, want %v", got, want)
	}
	rooms := a.Rooms()
	slices.Sort(rooms)
	if !slices.Contains(rooms, "r3") || !a.HasRoom("r3") || a.HasRoom("nope") {
		t.Fatalf("Rooms() = %v, HasRoom(r3) = %v", rooms, a.HasRoom("r3"))
	}
	a.Del("d", "r3")
	if _, ok := a.rooms["r3"]; ok || a.HasRoom("r3") || slices.Contains(a.Rooms(), "r3") {
		t.Fatal("empty room r3 still exists")
	}
	a.DelAll("b")
	if a.SocketRooms("b") != nil {
		t.Fatal("DelAll left rooms for b")
	}
	if _, ok := a.rooms["b"]; ok {
		t.Fatal("room b still exists after DelAll")
	}
	ids, _ := a.Sockets(context.Background(), []string{"r2"})
	if !slices.Equal(ids, []string{"c"}) {
		t.Fatalf("Sockets(r2) = %v, want [c]", ids)
	}
	// Unknown ids are ignored.
	a.Del("zz", "r1")
	a.DelAll("zz")
}

func TestBroadcastEncodesOnce(t *testing.T) {
	a, nsp, socks := setup()
	p := &parser.Packet{Type: parser.Event, Data: []byte(`["hi"]`)}
	if err := a.Broadcast(context.Background(), p, BroadcastOptions{Rooms: []string{"r1", "r2"}}); err != nil {
		t.Fatal(err)
	}
	if nsp.prepared != 1 {
		t.Fatalf("Prepare called %d times, want 1", nsp.prepared)
	}
	if p.Namespace != "/chat" {
		t.Fatalf("packet namespace %q, want /chat", p.Namespace)
	}
	for id, s := range socks {
		want := id == "a" || id == "b" || id == "c"
		if got := len(s.got) == 1; got != want {
			t.Errorf("socket %s got %d packets, want delivered=%v", id, len(s.got), want)
		}
		if len(s.got) == 1 && s.got[0].Packet() != p {
			t.Errorf("socket %s got another packet", id)
		}
	}
}

func TestBroadcastWithAck(t *testing.T) {
	a, _, socks := setup()
	ctx := context.Background()
	count := -1
	var acks []string
	p := &parser.Packet{Type: parser.Event, Data: []byte(`["q"]`)}
	err := a.BroadcastWithAck(ctx, p, BroadcastOptions{Rooms: []string{"r2"}},
		func(n int) { count = n },
		func(reply *parser.Packet) { acks = append(acks, string(reply.Data)) })
	if err != nil {
		t.Fatal(err)
	}
	if count != 2 {
		t.Fatalf("client count %d, want 2", count)
	}
	if !p.HasID || p.ID != 0 {
		t.Fatalf("ack id %d (has %v), want 0", p.ID, p.HasID)
	}
	socks["b"].acks[0](&parser.Packet{Type: parser.Ack, Data: []byte(`["b"]`)})
	socks["c"].acks[0](&parser.Packet{Type: parser.Ack, Data: []byte(`["c"]`)})
	if !slices.Equal(acks, []string{`["b"]`, `["c"]`}) {
		t.Fatalf("acks %v", acks)
	}
	// The next broadcast gets the next id of the namespace.
	p2 := &parser.Packet{Type: parser.Event, Data: []byte(`["q"]`)}
	_ = a.BroadcastWithAck(ctx, p2, BroadcastOptions{}, func(int) {}, func(*parser.Packet) {})
	if p2.ID != 1 {
		t.Fatalf("second ack id %d, want 1", p2.ID)
	}
}

func TestSocketOperations(t *testing.T) {
	a, _, socks := setup()
	ctx := context.Background()
	if err := a.AddSockets(ctx, BroadcastOptions{Rooms: []string{"r2"}}, []string{"x", "y"}); err != nil {
		t.Fatal(err)
	}
	got, _ := a.Sockets(ctx, []string{"y"})
	slices.Sort(got)
	if !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("room y = %v, want [b c]", got)
	}
	if err := a.DelSockets(ctx, BroadcastOptions{Except: []string{"c"}}, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	got, _ = a.Sockets(ctx, []string{"x"})
	if !slices.Equal(got, []string{"c"}) {
		t.Fatalf("room x = %v, want [c]", got)
	}
	fetched, err := a.FetchSockets(ctx, BroadcastOptions{Rooms: []string{"r3"}})
	if err != nil || len(fetched) != 1 || fetched[0].ID() != "d" || fetched[0].Data() != "d-data" {
		t.Fatalf("FetchSockets = %v, %v", fetched, err)
	}
	if err := a.DisconnectSockets(ctx, BroadcastOptions{Rooms: []string{"r1"}}, true); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(socks["a"].disconnected, []bool{true}) || !slices.Equal(socks["b"].disconnected, []bool{true}) {
		t.Fatalf("disconnects a=%v b=%v", socks["a"].disconnected, socks["b"].disconnected)
	}
	if len(socks["c"].disconnected) != 0 {
		t.Fatal("c disconnected")
	}
}

func TestClusterHooksOfSingleServer(t *testing.T) {
	a, _, _ := setup()
	ctx := context.Background()
	if n, err := a.ServerCount(ctx); n != 1 || err != nil {
		t.Fatalf("ServerCount = %d, %v", n, err)
	}
	if err := a.ServerSideEmit(ctx, nil, nil); !errors.Is(err, ErrServerSideEmitUnsupported) {
		t.Fatalf("ServerSideEmit err = %v", err)
	}
	a.PersistSession(&Session{SID: "a", PID: "p"})
	if s, err := a.RestoreSession(ctx, "p", "0"); s != nil || err != nil {
		t.Fatalf("RestoreSession = %v, %v", s, err)
	}
	if err := a.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentUse(t *testing.T) {
	a, _, socks := setup()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				a.AddAll(socks["c"], []string{"tmp"})
				_ = a.Select(BroadcastOptions{Rooms: []string{"tmp", "r1"}})
				_, _ = a.Sockets(ctx, nil)
				a.Del("c", "tmp")
			}
		}()
	}
	wg.Wait()
}
