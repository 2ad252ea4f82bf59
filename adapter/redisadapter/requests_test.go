package redisadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/adapter/redisadapter"
	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/internal/rawclient"
)

// peer is a fake cluster member: a raw Redis subscription that the
// adapters count as a server, which the test reads and answers by hand.
type peer struct {
	t       *testing.T
	rdb     *redis.Client
	ps      *redis.PubSub
	backlog []*redis.Message
}

func newPeer(t *testing.T, rdb *redis.Client, sharded bool, channels ...string) *peer {
	ctx := ctxTimeout(t, 5*time.Second)
	var ps *redis.PubSub
	if sharded {
		ps = rdb.SSubscribe(ctx, channels...)
	} else {
		ps = rdb.Subscribe(ctx, channels...)
	}
	for range channels {
		if _, err := ps.Receive(ctx); err != nil { // the confirmations
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = ps.Close() })
	return &peer{t: t, rdb: rdb, ps: ps}
}

// next returns the next message on channel; the others wait their turn.
func (p *peer) next(channel string) string {
	p.t.Helper()
	for i, m := range p.backlog {
		if m.Channel == channel {
			p.backlog = slices.Delete(p.backlog, i, i+1)
			return m.Payload
		}
	}
	ctx := ctxTimeout(p.t, 5*time.Second)
	for {
		m, err := p.ps.ReceiveMessage(ctx)
		if err != nil {
			p.t.Fatalf("waiting on %s: %v", channel, err)
		}
		if m.Channel == channel {
			return m.Payload
		}
		p.backlog = append(p.backlog, m)
	}
}

func (p *peer) publish(channel, payload string) {
	p.t.Helper()
	if err := p.rdb.Publish(ctxTimeout(p.t, time.Second), channel, payload).Err(); err != nil {
		p.t.Fatal(err)
	}
}

const (
	requestChannel  = "socket.io-request#/#"
	responseChannel = "socket.io-response#/#"
)

// A member that never answers makes requests time out with the JS errors.
func TestClassicRequestTimeouts(t *testing.T) {
	addr := interop.StartRedis(t)
	rdb := newClient(t, addr)
	g := startGoNode(t, "g", redisadapter.New(rdb, &redisadapter.Options{RequestsTimeout: 300 * time.Millisecond}))
	newPeer(t, rdb, false, requestChannel)
	nsp := g.srv.Of("/")
	ctx := ctxTimeout(t, 5*time.Second)
	if _, err := nsp.FetchSockets(ctx); !errors.Is(err, redisadapter.ErrFetchSocketsTimeout) {
		t.Fatalf("FetchSockets: %v", err)
	}
	if _, err := nsp.Adapter().(*redisadapter.Adapter).AllRooms(ctx); !errors.Is(err, redisadapter.ErrAllRoomsTimeout) {
		t.Fatalf("AllRooms: %v", err)
	}
	_, err := nsp.ServerSideEmitWithAck(ctx, "hello")
	var te *redisadapter.TimeoutError
	if !errors.As(err, &te) || te.Received != 0 || te.Expected != 1 ||
		err.Error() != "redisadapter: timeout reached: only 0 responses received out of 1" {
		t.Fatalf("ServerSideEmitWithAck: %v", err)
	}
}

func TestShardedFetchTimeout(t *testing.T) {
	addr := interop.StartRedis(t)
	rdb := newClient(t, addr)
	g := startGoNode(t, "g", redisadapter.NewSharded(rdb, &redisadapter.ShardedOptions{RequestsTimeout: 300 * time.Millisecond}))
	newPeer(t, rdb, true, "socket.io#/#")
	_, err := g.srv.Of("/").FetchSockets(ctxTimeout(t, 5*time.Second))
	var te *redisadapter.TimeoutError
	if !errors.As(err, &te) || te.Expected != 1 {
		t.Fatalf("FetchSockets: %v", err)
	}
}

// Requests other clients than our adapters may send: the legacy forms of
// 7.x nodes (SOCKETS, join by sid) and ALL_ROOMS, with the answers on the
// shared or the requester's own response channel.
func TestClassicAnswers(t *testing.T) {
	addr := interop.StartRedis(t)
	rdb := newClient(t, addr)
	g := startGoNode(t, "g", redisadapter.New(rdb, nil))
	specific := startGoNode(t, "s", redisadapter.New(rdb, &redisadapter.Options{PublishOnSpecificResponseChannel: true}))
	p := newPeer(t, rdb, false, responseChannel, responseChannel+"zz#")
	c := rawclient.WebSocket(t, g.url, "/socket.io/")
	id := c.Connect("/", "")

	p.publish(requestChannel, `{"uid":"zz","requestId":"s1","type":0,"rooms":[]}`)
	if got := p.next(responseChannel); got != `{"requestId":"s1","sockets":["`+id+`"]}` {
		// The specific node has no socket: its answer comes first or second.
		if got != `{"requestId":"s1","sockets":[]}` {
			t.Fatalf("SOCKETS answer %s", got)
		}
	}
	if got := p.next(responseChannel + "zz#"); got != `{"requestId":"s1","sockets":[]}` {
		t.Fatalf("specific SOCKETS answer %s", got)
	}

	p.publish(requestChannel, `{"requestId":"j1","type":2,"sid":"`+id+`","room":"legacy"}`)
	if got := p.next(responseChannel); got != `{"requestId":"j1"}` {
		t.Fatalf("legacy join answer %s", got)
	}
	p.publish(requestChannel, `{"uid":"zz","requestId":"r1","type":1}`)
	got := p.next(responseChannel)
	if !strings.HasPrefix(got, `{"requestId":"r1","rooms":[`) || !strings.Contains(got, `"legacy"`) || !strings.Contains(got, `"`+id+`"`) {
		t.Fatalf("ALL_ROOMS answer %s", got)
	}

	rooms, err := specific.srv.Of("/").Adapter().(*redisadapter.Adapter).AllRooms(ctxTimeout(t, 5*time.Second))
	slices.Sort(rooms)
	want := []string{id, "legacy"}
	slices.Sort(want)
	if err != nil || !slices.Equal(rooms, want) {
		t.Fatalf("AllRooms = %v, %v; want %v", rooms, err, want)
	}

	// A REMOTE_DISCONNECT from an emitter (no uid).
	p.publish(requestChannel, `{"type":4,"opts":{"rooms":["legacy"],"except":[]},"close":true}`)
	waitFor(t, func() bool {
		ids, _ := g.srv.Of("/").Adapter().Sockets(context.Background(), nil)
		return len(ids) == 0
	})
}

// Cluster operations from many goroutines on two nodes at once (run with
// -race): every request gets its own answers.
func TestConcurrentOperations(t *testing.T) {
	addr := interop.StartRedis(t)
	for _, mode := range []string{"classic", "sharded"} {
		t.Run(mode, func(t *testing.T) {
			rdb := newClient(t, addr)
			factory := redisadapter.New(rdb, &redisadapter.Options{Key: "concurrent"})
			if mode == "sharded" {
				factory = redisadapter.NewSharded(rdb, &redisadapter.ShardedOptions{ChannelPrefix: "concurrent"})
			}
			g1, g2 := startGoNode(t, "g1", factory), startGoNode(t, "g2", factory)
			c := rawclient.WebSocket(t, g2.url, "/socket.io/")
			id := c.Connect("/", "")
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for w := range 4 {
				wg.Go(func() {
					for i := range 20 {
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						nsp := g1.srv.Of("/")
						if w%2 == 1 {
							nsp = g2.srv.Of("/")
						}
						list, err := nsp.FetchSockets(ctx)
						if err == nil && len(list) != 1 {
							err = fmt.Errorf("FetchSockets found %d sockets", len(list))
						}
						if err == nil {
							var replies []json.RawMessage
							replies, err = nsp.ServerSideEmitWithAck(ctx, "hello", i)
							if err == nil && len(replies) != 1 {
								err = fmt.Errorf("%d replies", len(replies))
							}
						}
						if err == nil {
							err = nsp.In(id).SocketsJoin(fmt.Sprint("room-", w, "-", i))
						}
						cancel()
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			go func() { // drain the server-side emit reports
				for {
					select {
					case <-g1.serverSide:
					case <-g2.serverSide:
					case <-t.Context().Done():
						return
					}
				}
			}()
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			waitFor(t, func() bool {
				rooms, _ := g2.srv.Of("/").Adapter().Sockets(context.Background(), []string{"room-3-19", "room-0-19"})
				return len(rooms) == 1
			})
		})
	}
}
