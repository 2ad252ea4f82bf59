package main

import (
	"context"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/adapter/redisadapter"
	"github.com/seed9706/socketio/internal/faultproxy"
	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/internal/rawclient"
	"github.com/seed9706/socketio/socketio"
)

// TestRecoveryFlag: with -recovery, the CONNECT reply has a pid, events get
// offsets, and a client whose connection is cut gets its id, rooms and the
// events it missed back.
func TestRecoveryFlag(t *testing.T) {
	srv := newServer(nil, &socketio.ConnectionStateRecovery{})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	proxy := faultproxy.Start(t, ts.Listener.Addr().String())
	reply := regexp.MustCompile(`^40\{"sid":"([^"]{20})","pid":"([^"]{20})"\}$`)

	a := rawclient.WebSocket(t, proxy.URL(), "/socket.io/")
	a.Send("40")
	m := reply.FindStringSubmatch(a.Next())
	if m == nil {
		t.Fatal("no pid in the CONNECT reply")
	}
	sid, pid := m[1], m[2]
	a.Send(`421["join","r"]`)
	a.Expect(`431["r"]`)
	a.Send(`42["echo","x"]`)
	a.Expect(`42["echo","x","1"]`)
	proxy.Cut()

	b := rawclient.WebSocket(t, ts.URL, "/socket.io/")
	b.Connect("/", "")
	waitRoomEmpty := func() bool { // a's socket has left (its session is stored)
		ids, _ := srv.Of("/").Adapter().Sockets(context.Background(), []string{"r"})
		return len(ids) == 0
	}
	for deadline := time.Now().Add(5 * time.Second); !waitRoomEmpty(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the cut socket is still in its room")
		}
	}
	b.Send(`422["broadcast","r","missed"]`)
	b.Expect(`432[]`)

	c := rawclient.WebSocket(t, ts.URL, "/socket.io/")
	c.Send(`40{"pid":"` + pid + `","offset":"1"}`)
	c.Expect(`42["broadcast","missed","2"]`, `40{"sid":"`+sid+`","pid":"`+pid+`"}`)
	c.Send(`423["rooms"]`)
	if got := c.Next(); got != `433[["`+sid+`","r"]]` && got != `433[["r","`+sid+`"]]` {
		t.Fatalf("rooms after recovery: %s", got)
	}
}

// TestRecoveryAcrossRedis: with -recovery and -redis, a client cut from one
// benchserver recovers on another (Redis Streams).
func TestRecoveryAcrossRedis(t *testing.T) {
	redisAddr := interop.StartRedis(t)
	node := func() *httptest.Server {
		rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
		srv := newServer(redisadapter.NewStreams(rdb, nil), &socketio.ConnectionStateRecovery{})
		ts := httptest.NewServer(srv)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Close(ctx)
			ts.CloseClientConnections()
			ts.Close()
			_ = rdb.Close()
		})
		return ts
	}
	a, b := node(), node()
	proxy := faultproxy.Start(t, a.Listener.Addr().String())
	reply := regexp.MustCompile(`^40\{"sid":"([^"]{20})","pid":"([^"]{20})"\}$`)

	c := rawclient.WebSocket(t, proxy.URL(), "/socket.io/")
	c.Send("40")
	m := reply.FindStringSubmatch(c.Next())
	if m == nil {
		t.Fatal("no pid in the CONNECT reply")
	}
	sid, pid := m[1], m[2]
	c.Send(`421["join","r"]`)
	c.Expect(`431["r"]`)
	c.Send(`42["echo","x"]`)
	echo := c.Expect(`42["echo","x","*`)[0]
	offset := regexp.MustCompile(`"([0-9]+-[0-9]+)"\]$`).FindStringSubmatch(echo)
	if offset == nil {
		t.Fatalf("no stream id offset in %s", echo)
	}
	proxy.Cut()
	// Node A sees the cut and stores the session in Redis.
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	for deadline := time.Now().Add(5 * time.Second); rdb.Exists(context.Background(), "sio:session:"+pid).Val() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the session was not stored")
		}
	}

	d := rawclient.WebSocket(t, b.URL, "/socket.io/")
	d.Connect("/", "")
	d.Send(`422["broadcast","r","missed"]`)
	d.Expect(`432[]`)

	e := rawclient.WebSocket(t, b.URL, "/socket.io/")
	e.Send(`40{"pid":"` + pid + `","offset":"` + offset[1] + `"}`)
	e.Expect(`42["broadcast","missed","*`, `40{"sid":"`+sid+`","pid":"`+pid+`"}`)
}
