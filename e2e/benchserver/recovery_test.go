package main

import (
	"context"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/faultproxy"
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
