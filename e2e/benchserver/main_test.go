package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/leakcheck"
	"github.com/seed9706/socketio/internal/rawclient"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func newTestServer(t *testing.T) *httptest.Server {
	srv := newServer(nil, nil)
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

func TestRunListensAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, "127.0.0.1:0", pw, nil, nil)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.Contains(line, "listening") {
		t.Fatalf("first line %q, %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base := regexp.MustCompile(`http://\S+`).FindString(line)
	req, _ := http.NewRequest("GET", base+"/socket.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "http://example.test")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`) ||
		res.Header.Get("Access-Control-Allow-Origin") != "http://example.test" ||
		res.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("handshake %q %v", body, res.Header)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestContractMainNamespace(t *testing.T) {
	ts := newTestServer(t)
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			dial := func() *rawclient.Client {
				if transport == "polling" {
					return rawclient.Polling(t, ts.URL, "/socket.io/")
				}
				return rawclient.WebSocket(t, ts.URL, "/socket.io/")
			}
			a, b := dial(), dial()
			aid, bid := a.Connect("/", ""), b.Connect("/", "")
			bin := rawclient.B64([]byte{1, 2, 3})

			a.Send(`421["echo",1,"a",{"b":[true]}]`)
			a.Expect(`431[1,"a",{"b":[true]}]`)
			a.Send(`42["echo","x"]`)
			a.Expect(`42["echo","x"]`)
			a.Send(`451-["echo",{"_placeholder":true,"num":0}]`, bin)
			a.Expect(`451-["echo",{"_placeholder":true,"num":0}]`, bin)

			a.Send(`422["join","r"]`)
			a.Expect(`432["r"]`)
			b.Send(`42["join","r"]`, `421["rooms"]`) // no ack asked for the join
			b.Expect(`431[*`)                        // the join is done
			a.Send(`423["rooms"]`)
			var rooms [][]string
			if err := json.Unmarshal([]byte(strings.TrimPrefix(a.Next(), "433")), &rooms); err != nil || len(rooms) != 1 {
				t.Fatalf("rooms: %v %v", rooms, err)
			}
			slices.Sort(rooms[0])
			if want := []string{aid, "r"}; !slices.Equal(rooms[0], want) && !slices.Equal(rooms[0], []string{"r", aid}) {
				t.Fatalf("rooms %v, want %v", rooms[0], want)
			}

			// The sender is included when it is a member.
			a.Send(`424["broadcast","r",1,"two"]`)
			a.Expect(`42["broadcast",1,"two"]`, `434[]`)
			b.Expect(`42["broadcast",1,"two"]`)
			a.Send(`425["broadcast-except","r","` + bid + `","x"]`)
			a.Expect(`42["broadcast","x"]`, `435[]`)

			a.Send(`426["sockets","r"]`)
			var ids [][]string
			if err := json.Unmarshal([]byte(strings.TrimPrefix(a.Next(), "436")), &ids); err != nil || len(ids) != 1 {
				t.Fatalf("sockets: %v %v", ids, err)
			}
			slices.Sort(ids[0])
			want := []string{aid, bid}
			slices.Sort(want)
			if !slices.Equal(ids[0], want) {
				t.Fatalf("sockets %v, want %v", ids[0], want)
			}

			// request: a's handler waits for both acks, a's own included.
			a.Send(`427["request","r",2000,"q"]`)
			for _, c := range []*rawclient.Client{a, b} {
				p := c.Next()
				m := regexp.MustCompile(`^42(\d+)\["request","q"\]$`).FindStringSubmatch(p)
				if m == nil {
					t.Fatalf("request packet %q", p)
				}
				c.Send(`43` + m[1] + `["answer",2]`)
			}
			a.Expect(`437[{"error":null,"responses":["answer","answer"]}]`)
			// b stays silent this time.
			a.Send(`428["request","r",1000,"q"]`)
			for i, c := range []*rawclient.Client{a, b} {
				p := c.Next()
				m := regexp.MustCompile(`^42(\d+)\["request","q"\]$`).FindStringSubmatch(p)
				if m == nil {
					t.Fatalf("request packet %q", p)
				}
				if i == 0 {
					c.Send(`43` + m[1] + `[{"from":"a"}]`)
				}
			}
			a.Expect(`438[{"error":"operation has timed out","responses":[{"from":"a"}]}]`)

			a.Send(`429["leave","r"]`)
			a.Expect(`439["r"]`)
			b.Send(`4210["broadcast","r","only b"]`)
			b.Expect(`42["broadcast","only b"]`, `4310[]`)

			b.Send(`42["disconnect-me"]`)
			b.Expect(`41`)
			a.Send(`42["disconnect-me",true]`)
			a.Expect(`41`)
			a.ExpectClose()
		})
	}
}

func TestContractOtherNamespaces(t *testing.T) {
	ts := newTestServer(t)
	c := rawclient.Polling(t, ts.URL, "/socket.io/")
	c.Send(`40/private,{"token":"nope"}`)
	c.Expect(`44/private,{"message":"unauthorized","data":{"code":401}}`)
	c.Send(`40/private,`)
	c.Expect(`44/private,{"message":"unauthorized","data":{"code":401}}`)
	id := c.Connect("/private", `{"token":"secret"}`)
	c.Expect(`42/private,["welcome","` + id + `"]`)
	c.Connect("/dyn-12", "")
	c.Expect(`42/dyn-12,["welcome","/dyn-12"]`)
	c.Send(`40/dyn-x,`)
	c.Expect(`44/dyn-x,{"message":"Invalid namespace"}`)
}
