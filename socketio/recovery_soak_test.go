package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed9706/socketio/client"
	"github.com/seed9706/socketio/internal/faultproxy"
	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/socketio"
)

// Soak tests of connection state recovery: hundreds of forced
// disconnections while the server broadcasts a numbered stream, and still
// every number arrives exactly once and in order.

// soakCuts is how many disconnections each soak test forces.
const soakCuts = 200

// stream broadcasts "n" 1, 2, 3... to room, one every millisecond, until the
// returned stop is called; stop returns the last number sent.
func stream(srv *socketio.Server, room string) (stop func() int) {
	done := make(chan struct{})
	last := make(chan int, 1)
	go func() {
		n := 0
		for {
			select {
			case <-done:
				last <- n
				return
			case <-time.After(time.Millisecond):
			}
			n++
			_ = srv.To(room).Emit("n", n)
		}
	}()
	var once sync.Once
	var n int
	return func() int {
		once.Do(func() { close(done); n = <-last })
		return n
	}
}

// cutter forces disconnections through a proxy: cutOnce lets the connected
// client run 20-40 ms (seeded, so reproducible), then cuts until the client
// notices (a polling client may have no request in flight at that instant).
type cutter struct {
	proxy *faultproxy.Proxy
	rng   *rand.Rand
	cuts  int
}

func (c *cutter) pause() time.Duration {
	return time.Duration(20+c.rng.IntN(21)) * time.Millisecond
}

// cutOnce cuts until disconnected reports a change; it returns false when ctx ends.
func (c *cutter) cutOnce(ctx context.Context, disconnected func() bool) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(c.pause()):
		}
		c.proxy.Cut()
		c.cuts++
		for range 10 {
			if disconnected() {
				return true
			}
			select {
			case <-ctx.Done():
				return false
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
}

// Our Go client, cut soakCuts times while the server streams to its room,
// is recovered after every reconnection: the same id, Recovered true, and
// every number exactly once and in order.
func TestRecoverySoakGoClient(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test")
	}
	// "polling,websocket": every reconnection upgrades again.
	for i, transports := range []string{"websocket", "polling", "polling,websocket"} {
		t.Run(transports, func(t *testing.T) {
			srv, hs := feedServer(t)
			proxy := faultproxy.Start(t, hs.Listener.Addr().String())
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			m, err := client.NewManager(proxy.URL(), &client.ManagerOptions{
				Transports:           strings.Split(transports, ","),
				ReconnectionDelay:    time.Millisecond,
				ReconnectionDelayMax: 5 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			s := m.Socket("/", nil)

			var (
				mu          sync.Mutex
				got         []int
				offsets     []string // offset@connections so far, of each event
				ids         []string
				recovered   []bool
				disconnects int
				bad         []string // events without an offset
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
					bad = append(bad, fmt.Sprint(e.Raw()))
				}
				got = append(got, n)
				offsets = append(offsets, fmt.Sprintf("%s@%d", offset, len(ids)))
				mu.Unlock()
			})
			if err := s.ConnectWait(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.EmitWithAck(ctx, "join", "feed"); err != nil {
				t.Fatal(err)
			}
			stop := stream(srv, "feed")
			defer stop()

			count := func() (connects, disconnected int) {
				mu.Lock()
				defer mu.Unlock()
				return len(ids), disconnects
			}
			state := func() string {
				mu.Lock()
				defer mu.Unlock()
				msg := fmt.Sprintf("%d connections, %d disconnections, %d events, last %v", len(ids), disconnects, len(got), got[max(0, len(got)-3):])
				if i := firstWrong(got); i >= 0 {
					msg += fmt.Sprintf("; first wrong at %d: %v, offsets %v", i, got[max(0, i-5):min(len(got), i+5)], offsets[max(0, i-5):min(len(got), i+5)])
				}
				return msg
			}
			wait := func(cond func() bool) {
				t.Helper()
				for !cond() {
					select {
					case <-ctx.Done():
						t.Fatalf("timed out: %s", state())
					case <-time.After(2 * time.Millisecond):
					}
				}
			}
			c := &cutter{proxy: proxy, rng: rand.New(rand.NewPCG(1, uint64(i)))}
			start := time.Now()
			for round := range soakCuts {
				_, d0 := count()
				wait(func() bool { n, _ := count(); return n > d0 })
				if !c.cutOnce(ctx, func() bool { _, d := count(); return d > d0 }) {
					t.Fatalf("round %d: client not disconnected", round)
				}
			}
			wait(func() bool { n, d := count(); return n > d })
			last := stop()
			wait(func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= last })

			mu.Lock()
			defer mu.Unlock()
			t.Logf("%d cuts, %d reconnections, %d events in %v", c.cuts, len(ids)-1, last, time.Since(start))
			if len(bad) > 0 {
				t.Fatalf("%d events without an offset, first %s", len(bad), bad[0])
			}
			if len(ids)-1 < soakCuts {
				t.Fatalf("%d reconnections, want %d", len(ids)-1, soakCuts)
			}
			for k, id := range ids {
				if id != ids[0] || recovered[k] != (k > 0) {
					t.Fatalf("connection %d: id %s recovered %v, want id %s recovered %v", k, id, recovered[k], ids[0], k > 0)
				}
			}
			if err := s.RecoveryError(); err != nil {
				t.Fatalf("RecoveryError after recoveries: %v", err)
			}
			if i := firstWrong(got); i >= 0 {
				t.Logf("offset@connections around event %d: %v", i, offsets[max(0, i-5):min(len(got), i+5)])
			}
			checkExactlyOnce(t, got, last)
		})
	}
}

// checkExactlyOnce fails unless got is exactly 1..total, and says where it
// first differs (the whole stream is too long to print).
func checkExactlyOnce(t *testing.T, got []int, total int) {
	t.Helper()
	if i := firstWrong(got); i >= 0 {
		t.Fatalf("event %d is %d, want %d (duplicate or gap); around it: %v", i, got[i], i+1, got[max(0, i-5):min(len(got), i+5)])
	}
	if len(got) != total {
		t.Fatalf("got %d events, want %d", len(got), total)
	}
}

// firstWrong is the index of the first event that is not its position + 1, or -1.
func firstWrong(got []int) int {
	for i, n := range got {
		if n != i+1 {
			return i
		}
	}
	return -1
}

// The official client, cut soakCuts times (fewer over polling) while the
// server streams to its room, is recovered after every reconnection: the
// same id, recovered true, and every number exactly once and in order.
func TestRecoverySoakOfficialClient(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test")
	}
	for i, tc := range []struct {
		transport string
		cuts      int
	}{
		{"websocket", soakCuts},
		// Fewer: the official client notices a cut polling connection
		// later (a few hundred ms per reconnection).
		{"polling", 50},
	} {
		transport := tc.transport
		t.Run(transport, func(t *testing.T) {
			srv, hs := feedServer(t)
			proxy := faultproxy.Start(t, hs.Listener.Addr().String())
			transports, _ := json.Marshal([]string{transport})
			p := interop.Start(t, "testdata/interop/recovery.mjs", proxy.URL(), string(transports),
				`{"reconnectionDelay":1,"reconnectionDelayMax":5}`)
			t.Cleanup(func() { _ = p.Send(map[string]any{"op": "exit"}) })
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			type line struct {
				Event     string `json:"event"`
				N         int    `json:"n"`
				Offset    string `json:"offset"`
				ID        string `json:"id"`
				Recovered bool   `json:"recovered"`
			}
			var first line
			if err := p.Expect(t, "connect").Decode(&first); err != nil || first.Recovered {
				t.Fatalf("first connect %+v %v", first, err)
			}
			_ = p.Send(map[string]any{"op": "join", "room": "feed"})
			p.Expect(t, "joined")
			stop := stream(srv, "feed")
			defer stop()

			// The reader below reports connections and disconnections to the
			// cutter, which reports when it is done.
			var connects, disconnects atomic.Int64
			connects.Store(1)
			cutsDone := make(chan int, 1)
			cutCtx, stopCutting := context.WithCancel(ctx)
			var wg sync.WaitGroup
			defer func() { stopCutting(); wg.Wait() }()
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &cutter{proxy: proxy, rng: rand.New(rand.NewPCG(2, uint64(i)))}
				for range tc.cuts {
					d0 := disconnects.Load()
					for connects.Load() <= d0 {
						select {
						case <-cutCtx.Done():
							return
						case <-time.After(2 * time.Millisecond):
						}
					}
					if !c.cutOnce(cutCtx, func() bool { return disconnects.Load() > d0 }) {
						return
					}
				}
				cutsDone <- c.cuts
			}()

			start := time.Now()
			var got []int
			cuts, last := 0, -1
			for last < 0 || len(got) < last {
				if last < 0 && cuts > 0 && connects.Load() > disconnects.Load() {
					last = stop()
					continue
				}
				if cuts == 0 {
					select {
					case cuts = <-cutsDone:
					default:
					}
				}
				raw, err := p.Next(ctx)
				if err != nil {
					t.Fatalf("after %d events, %d connections: %v", len(got), connects.Load(), err)
				}
				var l line
				if err := raw.Decode(&l); err != nil {
					t.Fatal(err)
				}
				switch l.Event {
				case "n":
					if l.Offset == "" {
						t.Fatalf("event %d without an offset", l.N)
					}
					if l.N != len(got)+1 {
						t.Fatalf("event %d is %d (duplicate or gap) after %d connections; last %v",
							len(got), l.N, connects.Load(), got[max(0, len(got)-5):])
					}
					got = append(got, l.N)
				case "disconnect":
					disconnects.Add(1)
				case "connect":
					if l.ID != first.ID || !l.Recovered {
						t.Fatalf("connection %d as %+v, want recovered %s", connects.Load()+1, l, first.ID)
					}
					connects.Add(1)
				default:
					t.Fatalf("unexpected line %s", raw)
				}
			}
			t.Logf("%d cuts, %d reconnections, %d events in %v", cuts, connects.Load()-1, last, time.Since(start))
			if connects.Load()-1 < int64(tc.cuts) {
				t.Fatalf("%d reconnections, want %d", connects.Load()-1, tc.cuts)
			}
			checkExactlyOnce(t, got, last)
		})
	}
}
