package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/interop"
)

// TestMixedCluster is the Redis issue's acceptance test: two benchserver
// processes and the Node.js contract server (bench/node/server.mjs), all
// with -redis on one Redis, and official socket.io-client clients spread
// over the three; every operation of the contract spans all nodes. With
// -recovery too (the Redis Streams adapters), cut clients also get their
// session and the broadcasts they missed back.
func TestMixedCluster(t *testing.T) {
	interop.Require(t)
	root, err := interop.Root()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "benchserver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	nodeServer := filepath.Join(root, "bench/node/server.mjs")
	t.Run("pubsub", func(t *testing.T) { checkMixedCluster(t, bin, nodeServer, false) })
	t.Run("streams", func(t *testing.T) { checkMixedCluster(t, bin, nodeServer, true) })
}

func checkMixedCluster(t *testing.T, bin, nodeServer string, recovery bool) {
	flags := []string{"-redis", "redis://" + interop.StartRedis(t)}
	if recovery {
		flags = append(flags, "-recovery")
	}
	urls := map[string]string{ // node -> base URL
		"g1": startNode(t, bin, flags...),
		"g2": startNode(t, bin, flags...),
		"n":  startNode(t, "node", append([]string{nodeServer}, flags...)...),
	}

	c := &clusterClients{t: t, p: interop.Start(t, "testdata/interop/clients.mjs"), ids: map[string]string{}, offsets: recovery}
	// Two clients per node: "a" upgrades from polling, "b" is websocket only.
	all := []string{"g1a", "g1b", "g2a", "g2b", "na", "nb"}
	for _, name := range all {
		c.connect(name, urls[strings.TrimRight(name, "ab")], strings.HasSuffix(name, "b"))
	}
	members := []string{"g1a", "g2a", "na", "nb"} // of room "r"
	for _, name := range all {
		c.expectAck(name, `["all"]`, "join", "all")
	}
	for _, name := range members {
		c.expectAck(name, `["r"]`, "join", "r")
	}
	for _, name := range all { // binary stays binary
		c.expectAck(name, `[1,{"$bin":"AQID"}]`, "echo", 1, map[string]string{"$bin": "AQID"})
	}

	// rooms
	{
		for _, name := range all {
			want := []string{c.ids[name], "all"}
			if slices.Contains(members, name) {
				want = append(want, "r")
			}
			if got := c.stringList(name, "rooms"); !slices.Equal(got, sorted(want...)) {
				t.Errorf("%s: rooms %v, want %v", name, got, sorted(want...))
			}
		}
	}

	// sockets
	{
		for _, name := range []string{"g1b", "g2a", "nb"} {
			if got, want := c.stringList(name, "sockets", "r"), c.idsOf(members...); !slices.Equal(got, want) {
				t.Errorf("%s: sockets r %v, want %v", name, got, want)
			}
			if got, want := c.stringList(name, "sockets", "all"), c.idsOf(all...); !slices.Equal(got, want) {
				t.Errorf("%s: sockets all %v, want %v", name, got, want)
			}
		}
	}

	// broadcast
	{
		want := map[string][]string{}
		for _, sender := range []string{"g1b", "g2a", "nb"} { // g1b is not a member
			payload := `["` + sender + `",1,{"$bin":"AQID"}]`
			c.expectAck(sender, `[]`, "broadcast", "r", sender, 1, map[string]string{"$bin": "AQID"})
			for _, m := range members {
				want[m] = append(want[m], payload)
			}
		}
		c.checkBroadcasts(all, want)
	}

	// broadcast-except
	{
		want := map[string][]string{}
		for _, x := range []struct{ sender, except string }{{"g2b", "na"}, {"na", "g1a"}, {"g1a", "nb"}} {
			payload := `["from ` + x.sender + `"]`
			c.expectAck(x.sender, `[]`, "broadcast-except", "r", c.ids[x.except], "from "+x.sender)
			for _, m := range members {
				if m != x.except {
					want[m] = append(want[m], payload)
				}
			}
		}
		// except a room: only the sockets in "r" and not in "all" (none).
		c.expectAck("g2a", `[]`, "broadcast-except", "r", "all", "nobody")
		c.checkBroadcasts(all, want)
	}

	// recovery: the cut client gets its id back, and the broadcast another
	// node sent once its disconnection was known cluster-wide.
	if recovery {
		want := map[string][]string{}
		for _, x := range []struct{ cut, sender string }{{"na", "g1b"}, {"g2a", "nb"}, {"g1a", "g2b"}} {
			c.must(c.p.Send(map[string]any{"op": "cut", "name": x.cut}))
			var d struct{ Reason string }
			c.must(c.take("disconnect", x.cut, -1).Decode(&d))
			if d.Reason != "forced close" {
				t.Errorf("%s: disconnect reason %q, want forced close", x.cut, d.Reason)
			}
			// Its node notices the cut a little later.
			others := c.idsOf(slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == x.cut })...)
			for i := 0; !slices.Equal(c.stringList(x.sender, "sockets", "all"), others); i++ {
				if i == 200 {
					t.Fatalf("%s is still listed by sockets after 10 s", x.cut)
				}
				time.Sleep(50 * time.Millisecond)
			}
			payload := "missed by " + x.cut
			c.expectAck(x.sender, `[]`, "broadcast", "r", payload)
			for _, m := range members {
				want[m] = append(want[m], `["`+payload+`"]`)
			}
			id := c.ids[x.cut]
			c.must(c.p.Send(map[string]any{"op": "reconnect", "name": x.cut}))
			if recovered := c.awaitConnected(x.cut); !recovered || c.ids[x.cut] != id {
				t.Errorf("%s: reconnected as %s (recovered %v), want %s recovered", x.cut, c.ids[x.cut], recovered, id)
			}
		}
		c.checkBroadcasts(all, want)
	}

	// request
	{
		for _, sender := range []string{"g1b", "g2a", "na"} {
			res := c.request(sender, members, 5000)
			if res.Error != nil || !slices.Equal(res.Responses, sorted(members...)) {
				t.Errorf("%s: request %+v, want no error and %v", sender, res, members)
			}
		}
		// nb and g1a stay silent: the others' replies come with the timeout.
		c.must(c.p.Send(map[string]any{"op": "silent", "name": "nb"}))
		c.must(c.p.Send(map[string]any{"op": "silent", "name": "g1a"}))
		for _, sender := range []string{"g2b", "nb"} {
			res := c.request(sender, members, 3000)
			if res.Error == nil || *res.Error != "operation has timed out" || !slices.Equal(res.Responses, []string{"g2a", "na"}) {
				t.Errorf("%s: request %+v, want the timeout and [g2a na]", sender, res)
			}
		}
	}

	// leave
	{
		c.expectAck("nb", `["r"]`, "leave", "r")
		left := []string{"g1a", "g2a", "na"}
		for _, name := range []string{"g1b", "g2b", "na"} {
			if got, want := c.stringList(name, "sockets", "r"), c.idsOf(left...); !slices.Equal(got, want) {
				t.Errorf("%s: sockets r %v after nb left, want %v", name, got, want)
			}
		}
		c.expectAck("g2b", `[]`, "broadcast", "r", "after leave")
		c.checkBroadcasts(all, map[string][]string{"g1a": {`["after leave"]`}, "g2a": {`["after leave"]`}, "na": {`["after leave"]`}})
	}

	// disconnect-me
	{
		c.send("g1b", "disconnect-me")
		c.send("nb", "disconnect-me", true)
		c.send("g2a", "disconnect-me", false)
		for _, name := range []string{"g1b", "nb", "g2a"} {
			var d struct{ Reason string }
			c.must(c.take("disconnect", name, -1).Decode(&d))
			if d.Reason != "io server disconnect" {
				t.Errorf("%s: disconnect reason %q", name, d.Reason)
			}
		}
		left := []string{"g1a", "g2b", "na"}
		for _, name := range left {
			if got, want := c.stringList(name, "sockets", "all"), c.idsOf(left...); !slices.Equal(got, want) {
				t.Errorf("%s: sockets all %v, want %v", name, got, want)
			}
		}
		c.checkBroadcasts(left, map[string][]string{})
	}
	if len(c.stash) > 0 {
		t.Errorf("unexpected lines from the clients: %v", c.stash)
	}
}

// startNode runs a contract server (the Go binary or node with server.mjs)
// on a free port of 127.0.0.1 and returns its base URL once it listens.
func startNode(t *testing.T, command string, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(command, append(args, "-addr", addr)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		first <- line
		_, _ = io.Copy(io.Discard, br) // until the process exits
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		kill := time.AfterFunc(15*time.Second, func() { _ = cmd.Process.Kill() })
		defer kill.Stop()
		<-drained
		_ = cmd.Wait()
	})
	select {
	case line := <-first:
		if !strings.Contains(line, "listening on http://"+addr) {
			t.Fatalf("%s: first line %q, want listening on %s", command, line, addr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not listen within 30 s", command)
	}
	return "http://" + addr
}

// clusterClients drives testdata/interop/clients.mjs. Lines that arrive
// while the test waits for another one are kept, in order, in stash.
type clusterClients struct {
	t       *testing.T
	p       *interop.Process
	ids     map[string]string // client name -> socket id
	stash   []interop.Line
	tag     int  // of the last ack asked for
	fences  int  // sent by checkBroadcasts
	offsets bool // broadcasts end with their offset (recovery is on)
}

// maxStash bounds the lines kept aside; more means the test lost track.
const maxStash = 1000

func (c *clusterClients) connect(name, url string, websocket bool) {
	c.t.Helper()
	c.must(c.p.Send(map[string]any{"op": "connect", "name": name, "url": url, "websocket": websocket}))
	c.awaitConnected(name)
}

// awaitConnected records the id of the client's next connection and
// returns whether its session was recovered.
func (c *clusterClients) awaitConnected(name string) (recovered bool) {
	c.t.Helper()
	var v struct {
		ID        string
		Recovered bool
	}
	c.must(c.take("connected", name, -1).Decode(&v))
	c.ids[name] = v.ID
	return v.Recovered
}

// take returns the first line with this event and client name (and this
// ack tag, unless tag < 0), kept or new.
func (c *clusterClients) take(event, name string, tag int) interop.Line {
	c.t.Helper()
	match := func(l interop.Line) bool {
		var v struct {
			Name string
			Tag  int
		}
		return l.Event == event && json.Unmarshal(l.Raw, &v) == nil && v.Name == name && (tag < 0 || v.Tag == tag)
	}
	if i := slices.IndexFunc(c.stash, match); i >= 0 {
		l := c.stash[i]
		c.stash = slices.Delete(c.stash, i, i+1)
		return l
	}
	ctx, cancel := context.WithTimeout(context.Background(), interop.DefaultExpectTimeout)
	defer cancel()
	for {
		l, err := c.p.Next(ctx)
		if err != nil {
			c.t.Fatalf("waiting for %s of %s: %v (kept: %v)", event, name, err, c.stash)
		}
		if l.Event == "error" {
			c.t.Fatalf("clients.mjs: %s", l)
		}
		if match(l) {
			return l
		}
		if len(c.stash) == maxStash {
			c.t.Fatalf("waiting for %s of %s: %d other lines", event, name, maxStash)
		}
		c.stash = append(c.stash, l)
	}
}

// emit sends args with an ack callback and returns the ack's arguments.
func (c *clusterClients) emit(name string, args ...any) json.RawMessage {
	c.t.Helper()
	c.tag++
	c.must(c.p.Send(map[string]any{"op": "emit", "name": name, "tag": c.tag, "args": args}))
	var v struct{ Args json.RawMessage }
	c.must(c.take("ack", name, c.tag).Decode(&v))
	return v.Args
}

func (c *clusterClients) send(name string, args ...any) {
	c.t.Helper()
	c.must(c.p.Send(map[string]any{"op": "send", "name": name, "args": args}))
}

// expectAck emits args and checks the ack's arguments, as compact JSON.
func (c *clusterClients) expectAck(name, want string, args ...any) {
	c.t.Helper()
	if got := c.emit(name, args...); string(got) != want {
		c.t.Fatalf("%s: %v acked %s, want %s", name, args, got, want)
	}
}

// stringList emits args and returns the ack's only argument, a string list, sorted.
func (c *clusterClients) stringList(name string, args ...any) []string {
	c.t.Helper()
	raw := c.emit(name, args...)
	var v [][]string
	if err := json.Unmarshal(raw, &v); err != nil || len(v) != 1 {
		c.t.Fatalf("%s: %v acked %s, want one list of strings", name, args, raw)
	}
	return sorted(v[0]...)
}

type requestResult struct {
	Error     *string
	Responses []string // sorted
}

// request asks room "r" through sender; every member gets the request
// ["q"] and answers with its name, unless silent.
func (c *clusterClients) request(sender string, members []string, timeoutMs int) requestResult {
	c.t.Helper()
	raw := c.emit(sender, "request", "r", timeoutMs, "q")
	var v []requestResult
	if err := json.Unmarshal(raw, &v); err != nil || len(v) != 1 {
		c.t.Fatalf("%s: request acked %s", sender, raw)
	}
	for _, m := range members {
		var r struct{ Args json.RawMessage }
		c.must(c.take("request", m, -1).Decode(&r))
		if string(r.Args) != `["q"]` {
			c.t.Errorf("%s got request %s, want [\"q\"]", m, r.Args)
		}
	}
	slices.Sort(v[0].Responses)
	return v[0]
}

// checkBroadcasts checks that each client of live received exactly the
// broadcasts in want (compact JSON argument lists, in any order) since the
// last check. A message reaches every client after the messages sent
// before it by the same node, so one client of each node in live
// broadcasts a fence to room "all", and all fences must arrive.
func (c *clusterClients) checkBroadcasts(live []string, want map[string][]string) {
	c.t.Helper()
	var fences []string
	nodes := map[string]bool{}
	for _, name := range live {
		node := strings.TrimRight(name, "ab")
		if nodes[node] {
			continue
		}
		nodes[node] = true
		c.fences++
		fence := fmt.Sprintf("fence %s%d", node, c.fences)
		c.expectAck(name, `[]`, "broadcast", "all", fence)
		fences = append(fences, `["`+fence+`"]`)
	}
	got := map[string][]string{}
	for _, name := range live {
		for seen := 0; seen < len(fences); {
			args := c.broadcastArgs(c.take("broadcast", name, -1))
			if slices.Contains(fences, args) {
				seen++
				continue
			}
			got[name] = append(got[name], args)
		}
		slices.Sort(got[name])
	}
	for _, list := range want {
		slices.Sort(list)
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		c.t.Errorf("broadcasts received %v, want %v", got, want)
	}
}

// broadcastArgs returns the arguments of a "broadcast" line as compact
// JSON, without the offset that connection state recovery appends, which
// the client's listener receives too.
func (c *clusterClients) broadcastArgs(l interop.Line) string {
	c.t.Helper()
	var b struct{ Args []json.RawMessage }
	c.must(l.Decode(&b))
	if c.offsets {
		var offset string
		if len(b.Args) == 0 || json.Unmarshal(b.Args[len(b.Args)-1], &offset) != nil || offset == "" {
			c.t.Fatalf("broadcast without an offset: %s", l)
		}
		b.Args = b.Args[:len(b.Args)-1]
	}
	args, err := json.Marshal(b.Args)
	c.must(err)
	return string(args)
}

func (c *clusterClients) idsOf(names ...string) []string {
	ids := make([]string, len(names))
	for i, n := range names {
		ids[i] = c.ids[n]
	}
	return sorted(ids...)
}

func (c *clusterClients) must(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
