package redisadapter_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/client"
	"github.com/seed9706/socketio/internal/faultproxy"
	"github.com/seed9706/socketio/internal/interop"
)

// A client cut 100 times, and moved to the other of two nodes each time,
// while one node broadcasts a numbered stream to its room through Redis
// Streams, is recovered after every reconnection (the session stored by the
// node it left): the same id, Recovered true, every number exactly once and
// in order.
func TestStreamsRecoverySoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test")
	}
	const cuts = 100
	redisAddr := interop.StartRedis(t)
	nodes := [2]*streamsNode{startStreamsNode(t, redisAddr), startStreamsNode(t, redisAddr)}
	proxy := faultproxy.Start(t, nodes[0].addr)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The reconnection delay lets the node left behind store the session
	// first (across nodes there is no take-over of the old connection).
	m, err := client.NewManager(proxy.URL(), &client.ManagerOptions{
		Transports:           []string{"websocket"},
		ReconnectionDelay:    100 * time.Millisecond,
		ReconnectionDelayMax: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.Socket("/", nil)
	var (
		mu          sync.Mutex
		got         []int
		ids         []string
		recovered   []bool
		disconnects int
		bad         int // events without an offset
	)
	s.OnConnect(func() {
		mu.Lock()
		ids = append(ids, s.ID())
		recovered = append(recovered, s.Recovered())
		mu.Unlock()
	})
	s.OnDisconnect(func(string) {
		mu.Lock()
		disconnects++
		mu.Unlock()
	})
	s.On("n", func(e *client.Event) {
		var n int
		var offset string
		err := e.Args(&n, &offset)
		mu.Lock()
		if err != nil || offset == "" {
			bad++
		}
		got = append(got, n)
		mu.Unlock()
	})
	if err := s.ConnectWait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EmitWithAck(ctx, "join", "feed"); err != nil {
		t.Fatal(err)
	}

	// Node 1 streams 1, 2, 3... every 2 ms until stop.
	done, last := make(chan struct{}), make(chan int, 1)
	go func() {
		n := 0
		for {
			select {
			case <-done:
				last <- n
				return
			case <-time.After(2 * time.Millisecond):
			}
			n++
			_ = nodes[1].srv.To("feed").Emit("n", n)
		}
	}()
	var stopOnce sync.Once
	total := 0
	stop := func() int {
		stopOnce.Do(func() { close(done); total = <-last })
		return total
	}
	defer stop()

	state := func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("%d connections, %d disconnections, %d events, last %v", len(ids), disconnects, len(got), got[max(0, len(got)-3):])
	}
	wait := func(cond func() bool) {
		t.Helper()
		for {
			mu.Lock()
			ok := cond()
			mu.Unlock()
			if ok {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("timed out: %s", state())
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
	sleep := func(d time.Duration) {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out: %s", state())
		case <-time.After(d):
		}
	}

	rng := rand.New(rand.NewPCG(3, 0))
	start, cutCount := time.Now(), 0
	for round := range cuts {
		mu.Lock()
		d0 := disconnects
		mu.Unlock()
		wait(func() bool { return len(ids) > d0 })
		sleep(time.Duration(20+rng.IntN(21)) * time.Millisecond)
		proxy.Retarget(nodes[(round+1)%2].addr)
		for {
			proxy.Cut()
			cutCount++
			sleep(20 * time.Millisecond)
			mu.Lock()
			noticed := disconnects > d0
			mu.Unlock()
			if noticed {
				break
			}
		}
	}
	wait(func() bool { return len(ids) > disconnects })
	n := stop()
	wait(func() bool { return len(got) >= n })

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d cuts, %d reconnections, %d events in %v", cutCount, len(ids)-1, n, time.Since(start))
	if bad > 0 {
		t.Fatalf("%d events without an offset", bad)
	}
	if len(ids)-1 < cuts {
		t.Fatalf("%d reconnections, want %d", len(ids)-1, cuts)
	}
	for k, id := range ids {
		if id != ids[0] || recovered[k] != (k > 0) {
			t.Fatalf("connection %d: id %s recovered %v, want id %s recovered %v", k, id, recovered[k], ids[0], k > 0)
		}
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("event %d is %d, want %d (duplicate or gap); around it: %v", i, v, i+1, got[max(0, i-5):min(len(got), i+5)])
		}
	}
	if len(got) != n {
		t.Fatalf("got %d events, want %d", len(got), n)
	}
}
