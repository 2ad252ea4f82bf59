// Package node holds the Node.js implementation of the bench contract
// (server.mjs); its tests check it against CONTRACTS.md section 2 on both
// engines and drive it with the load generator, as bench/compare does.
//
// # Concurrency
//
// Each test starts its own server process on its own port; a goroutine per
// process reads its stdout until it exits.
package node

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed9706/socketio/bench/loadgen"
	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/internal/leakcheck"
	"github.com/seed9706/socketio/internal/rawclient"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var engines = []string{"ws", "uws"}

// startServer runs server.mjs with the engine (and extra flags) and returns
// its URL and pid.
func startServer(t *testing.T, engine string, flags ...string) (string, int) {
	t.Helper()
	interop.Require(t)
	root, err := interop.Root()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command("node", append([]string{"--expose-gc", filepath.Join(root, "bench/node/server.mjs"), "-addr", addr, "-engine", engine}, flags...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		for range lines { // the reader ends at EOF
		}
	})
	select {
	case line := <-lines:
		want := "(" + engine
		if engine == "uws" {
			want += " native"
		}
		if !strings.Contains(line, "listening") || !strings.Contains(line, want) {
			t.Fatalf("first line %q, want listening with %s", line, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server.mjs did not listen within 30 s")
	}
	return "http://" + addr, cmd.Process.Pid
}

func TestContractMainNamespace(t *testing.T) {
	for _, engine := range engines {
		base, _ := startServer(t, engine)
		for _, transport := range []string{"polling", "websocket"} {
			t.Run(engine+"/"+transport, func(t *testing.T) {
				dial := func() *rawclient.Client {
					if transport == "polling" {
						return rawclient.Polling(t, base, "/socket.io/")
					}
					return rawclient.WebSocket(t, base, "/socket.io/")
				}
				checkMainNamespace(t, dial)
			})
		}
	}
}

func checkMainNamespace(t *testing.T, dial func() *rawclient.Client) {
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
	b.Send(`42["join","r"]`) // no ack asked
	a.Send(`423["rooms"]`)
	if got := sortedList(t, a.Next(), "433"); !slices.Equal(got, sorted(aid, "r")) {
		t.Fatalf("rooms %v, want %v", got, sorted(aid, "r"))
	}

	a.Send(`424["broadcast","r",1,"two"]`) // the sender is a member
	a.Expect(`42["broadcast",1,"two"]`, `434[]`)
	b.Expect(`42["broadcast",1,"two"]`)
	a.Send(`425["broadcast-except","r","` + bid + `","x"]`)
	a.Expect(`42["broadcast","x"]`, `435[]`)

	a.Send(`426["sockets","r"]`)
	if got := sortedList(t, a.Next(), "436"); !slices.Equal(got, sorted(aid, bid)) {
		t.Fatalf("sockets %v, want %v", got, sorted(aid, bid))
	}

	request := regexp.MustCompile(`^42(\d+)\["request","q"\]$`)
	a.Send(`427["request","r",2000,"q"]`)
	for _, c := range []*rawclient.Client{a, b} {
		m := request.FindStringSubmatch(c.Next())
		if m == nil {
			t.Fatal("no request packet")
		}
		c.Send(`43` + m[1] + `["answer",2]`)
	}
	a.Expect(`437[{"error":null,"responses":["answer","answer"]}]`)
	a.Send(`428["request","r",100,"q"]`) // b stays silent
	for i, c := range []*rawclient.Client{a, b} {
		m := request.FindStringSubmatch(c.Next())
		if m == nil {
			t.Fatal("no request packet")
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
}

// sortedList decodes an acknowledgement carrying one list of strings.
func sortedList(t *testing.T, packet, prefix string) []string {
	t.Helper()
	var v [][]string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(packet, prefix)), &v); err != nil || len(v) != 1 {
		t.Fatalf("packet %q: %v", packet, err)
	}
	return sorted(v[0]...)
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestContractOtherNamespaces(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			base, _ := startServer(t, engine)
			c := rawclient.Polling(t, base, "/socket.io/")
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
		})
	}
}

// TestRecoveryFlag: with -recovery, the CONNECT reply carries a session id
// (pid) and broadcasts an offset. -redis is checked, with Go nodes, by the
// mixed cluster test of e2e/benchserver.
func TestRecoveryFlag(t *testing.T) {
	base, _ := startServer(t, "ws", "-recovery")
	c := rawclient.WebSocket(t, base, "/socket.io/")
	c.Send("40")
	if reply := c.Next(); !regexp.MustCompile(`^40\{"sid":"[^"]{20}","pid":"[^"]{20}"\}$`).MatchString(reply) {
		t.Fatalf("CONNECT reply %q, want a sid and a pid", reply)
	}
	c.Send(`421["join","r"]`)
	c.Expect(`431["r"]`)
	c.Send(`422["broadcast","r","x"]`)
	if got := c.Next(); !regexp.MustCompile(`^42\["broadcast","x","[^"]+"\]$`).MatchString(got) {
		t.Fatalf("broadcast %q, want an offset as last argument", got)
	}
	c.Expect(`432[]`)
}

// TestLoadGenerator runs every scenario at tiny size, as bench/compare
// does; idle sends SIGUSR2, which must collect garbage, not kill the server.
func TestLoadGenerator(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			base, pid := startServer(t, engine)
			for _, scenario := range loadgen.Scenarios {
				cfg := loadgen.Config{URL: base, Scenario: scenario, Conns: 5, Burst: 2, PID: pid, GCSignal: true,
					Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, Hold: 100 * time.Millisecond}
				r, err := loadgen.Run(context.Background(), cfg)
				if err != nil {
					t.Fatalf("%s: %v", scenario, err)
				}
				if r.Ops <= 0 || (scenario == loadgen.Broadcast && r.Ops%10 != 0) || (scenario == loadgen.Idle && r.Memory[1].RSS <= 0) {
					t.Errorf("%s: result %+v", scenario, r)
				}
			}
		})
	}
}
