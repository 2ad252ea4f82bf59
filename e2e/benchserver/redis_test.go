package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/adapter/redisadapter"
	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/internal/rawclient"
)

// TestContractAcrossRedis runs two benchservers on one Redis (what -redis
// does): broadcasts, sockets and requests span both.
func TestContractAcrossRedis(t *testing.T) {
	addr := interop.StartRedis(t)
	opts, err := redis.ParseURL("redis://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	node := func() *httptest.Server {
		srv := newServer(redisadapter.New(rdb, nil), nil)
		ts := httptest.NewServer(srv)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Close(ctx)
			ts.CloseClientConnections()
			ts.Close()
		})
		return ts
	}
	a := rawclient.WebSocket(t, node().URL, "/socket.io/")
	b := rawclient.WebSocket(t, node().URL, "/socket.io/")
	aid, bid := a.Connect("/", ""), b.Connect("/", "")
	a.Send(`421["join","r"]`)
	a.Expect(`431["r"]`)
	b.Send(`421["join","r"]`)
	b.Expect(`431["r"]`)

	a.Send(`422["broadcast","r",1,"two"]`)
	a.Expect(`42["broadcast",1,"two"]`, `432[]`)
	b.Expect(`42["broadcast",1,"two"]`)

	a.Send(`423["sockets","r"]`)
	var ids [][]string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(a.Next(), "433")), &ids); err != nil || len(ids) != 1 {
		t.Fatalf("sockets: %v %v", ids, err)
	}
	slices.Sort(ids[0])
	want := []string{aid, bid}
	slices.Sort(want)
	if !slices.Equal(ids[0], want) {
		t.Fatalf("sockets %v, want %v", ids[0], want)
	}

	// request: each client answers with its own name.
	a.Send(`424["request","r",3000,"q"]`)
	ackID := regexp.MustCompile(`^42(\d+)\["request","q"\]$`)
	for _, c := range []struct {
		cl   *rawclient.Client
		name string
	}{{b, "b"}, {a, "a"}} {
		m := ackID.FindStringSubmatch(c.cl.Next())
		if m == nil {
			t.Fatalf("%s did not get the request", c.name)
		}
		c.cl.Send(`43` + m[1] + `["` + c.name + `"]`)
	}
	var res []struct {
		Error     any
		Responses []string
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(a.Next(), "434")), &res); err != nil || len(res) != 1 {
		t.Fatalf("request: %v %v", res, err)
	}
	slices.Sort(res[0].Responses)
	if res[0].Error != nil || !slices.Equal(res[0].Responses, []string{"a", "b"}) {
		t.Fatalf("request result %+v", res[0])
	}
}
