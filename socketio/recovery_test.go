package socketio

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/internal/rawclient"
)

// csrOptions: recovery on, and a heartbeat fast enough that a client that
// stops polling is dropped with "ping timeout" soon, slow enough that a
// reading client on a loaded machine keeps up.
func csrOptions() *ServerOptions {
	return &ServerOptions{
		ConnectionStateRecovery: &ConnectionStateRecovery{},
		PingInterval:            300 * time.Millisecond,
		PingTimeout:             time.Second,
	}
}

var connectReplyRe = regexp.MustCompile(`^40\{"sid":"([A-Za-z0-9_-]{20})","pid":"([A-Za-z0-9_-]{20})"\}$`)

// connectCSR sends CONNECT with auth and returns sid and pid of the reply,
// after the packets expected before it.
func connectCSR(t *testing.T, c *rawclient.Client, auth string, before ...string) (sid, pid string) {
	t.Helper()
	c.Send("40" + auth)
	if len(before) > 0 {
		c.Expect(before...)
	}
	p := c.Next()
	m := connectReplyRe.FindStringSubmatch(p)
	if m == nil {
		t.Fatalf("CONNECT reply %q", p)
	}
	return m[1], m[2]
}

// recoveryServer records every socket's connection and disconnection.
type recoveryServer struct {
	*Server
	url          string
	mu           sync.Mutex
	connected    []*Socket
	disconnected map[string]string // sid -> reason
}

func newRecoveryServer(t *testing.T, opts *ServerOptions) *recoveryServer {
	srv, hs := newTestServer(t, opts)
	rs := &recoveryServer{Server: srv, url: hs.URL, disconnected: make(map[string]string)}
	srv.OnConnection(func(s *Socket) {
		rs.mu.Lock()
		rs.connected = append(rs.connected, s)
		rs.mu.Unlock()
		s.On("join", func(e *Event) {
			var room string
			_ = e.Args(&room)
			s.Join(room)
			s.SetData(map[string]string{"room": room})
			_ = e.Ack()
		})
		s.OnDisconnect(func(reason string) {
			rs.mu.Lock()
			rs.disconnected[s.ID()] = reason
			rs.mu.Unlock()
		})
	})
	return rs
}

func (rs *recoveryServer) socket(t *testing.T, i int) *Socket {
	t.Helper()
	waitFor(t, "connection", func() bool {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return len(rs.connected) > i
	})
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.connected[i]
}

func (rs *recoveryServer) waitDisconnect(t *testing.T, sid, reason string) {
	t.Helper()
	waitFor(t, "disconnect of "+sid, func() bool {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return rs.disconnected[sid] != ""
	})
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if got := rs.disconnected[sid]; got != reason {
		t.Fatalf("disconnect reason %q, want %q", got, reason)
	}
}

func TestRecoveryWire(t *testing.T) {
	rs := newRecoveryServer(t, csrOptions())
	c := rawclient.WebSocket(t, rs.url, "/socket.io/")
	sid, _ := connectCSR(t, c, "")
	s := rs.socket(t, 0)
	if s.ID() != sid || s.Recovered() {
		t.Fatalf("socket %s recovered=%v, reply sid %s", s.ID(), s.Recovered(), sid)
	}
	// Stored events get an offset as their last argument: emits to the
	// socket and broadcasts alike. Volatile events and events with an ack
	// are not stored and get none.
	_ = s.Emit("hello", "world")
	c.Expect(`42["hello","world","1"]`)
	_ = s.Volatile().Emit("volatile")
	c.Expect(`42["volatile"]`)
	go func() { _, _ = s.EmitWithAck(t.Context(), "question") }()
	c.Expect(`420["question"]`)
	c.Send(`430[]`)
	_ = rs.Emit("all", 1, []byte{7})
	c.Expect(`451-["all",1,{"_placeholder":true,"num":0},"2"]`, rawclient.B64([]byte{7}))
	_ = rs.To(sid).Emit("room", map[string]int{"a": 1})
	c.Expect(`42["room",{"a":1},"3"]`)
}

func TestRecoveryWithoutRecoveryHasNoPID(t *testing.T) {
	_, hs := newTestServer(t, nil)
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Send(`40{"pid":"x","offset":"1"}`)
	p := c.Next()
	if !regexp.MustCompile(`^40\{"sid":"[A-Za-z0-9_-]{20}"\}$`).MatchString(p) {
		t.Fatalf("CONNECT reply %q", p)
	}
}

func TestRecoveryRestoresIDRoomsDataAndMissedEvents(t *testing.T) {
	rs := newRecoveryServer(t, csrOptions())
	c := rawclient.Polling(t, rs.url, "/socket.io/")
	sid, pid := connectCSR(t, c, "")
	c.Send(`421["join","room1"]`)
	c.Expect(`431[]`)
	_ = rs.To("room1").Emit("m", 1)
	c.Expect(`42["m",1,"1"]`)

	// The client stops polling: the server drops it with "ping timeout".
	rs.waitDisconnect(t, sid, ReasonPingTimeout)
	_ = rs.To("room1").Emit("m", 2)
	_ = rs.Emit("all", "x")
	_ = rs.To("other").Emit("m", "not for us")
	_ = rs.Except("room1").Emit("m", "not for us either")
	_ = rs.Volatile().Emit("m", "volatile is not stored")
	_ = rs.To("room1").Emit("m", 3)

	c2 := rawclient.Polling(t, rs.url, "/socket.io/")
	sid2, pid2 := connectCSR(t, c2, `{"pid":"`+pid+`","offset":"1","token":"t"}`,
		`42["m",2,"2"]`, `42["all","x","3"]`, `42["m",3,"6"]`)
	if sid2 != sid || pid2 != pid {
		t.Fatalf("restored sid/pid %s/%s, want %s/%s", sid2, pid2, sid, pid)
	}
	s := rs.socket(t, 1)
	if !s.Recovered() || s.ID() != sid {
		t.Fatalf("socket %s recovered=%v", s.ID(), s.Recovered())
	}
	rooms := s.Rooms()
	slices.Sort(rooms)
	if want := []string{sid, "room1"}; !slices.Equal(rooms, want) && !slices.Equal(rooms, []string{"room1", sid}) {
		t.Fatalf("rooms %v, want %v", rooms, want)
	}
	if d, _ := s.Data().(map[string]string); d["room"] != "room1" {
		t.Fatalf("data %#v", s.Data())
	}
	if string(s.Handshake().Auth) != `{"pid":"`+pid+`","offset":"1","token":"t"}` {
		t.Fatalf("auth %s", s.Handshake().Auth)
	}
	_ = rs.To("room1").Emit("m", 4)
	c2.Expect(`42["m",4,"7"]`)

}

// A client that received no event has no offset: the official server cannot
// recover it; this one restores it from where its session started.
func TestRecoveryBeforeTheFirstEvent(t *testing.T) {
	rs := newRecoveryServer(t, csrOptions())
	_ = rs.Emit("before", 0) // offset 1, before the client connected
	c := rawclient.Polling(t, rs.url, "/socket.io/")
	sid, pid := connectCSR(t, c, "")
	rs.waitDisconnect(t, sid, ReasonPingTimeout)
	_ = rs.Emit("after", 1)

	c2 := rawclient.Polling(t, rs.url, "/socket.io/")
	sid2, _ := connectCSR(t, c2, `{"pid":"`+pid+`"}`, `42["after",1,"2"]`)
	if sid2 != sid || !rs.socket(t, 1).Recovered() {
		t.Fatalf("not recovered: sid %s, want %s", sid2, sid)
	}
}

// An offset older than the session (left from an earlier session of the
// client) does not replay what was sent before the session started.
func TestRecoveryStaleOffset(t *testing.T) {
	rs := newRecoveryServer(t, csrOptions())
	_ = rs.Emit("e", 1)
	_ = rs.Emit("e", 2)
	c := rawclient.Polling(t, rs.url, "/socket.io/")
	sid, pid := connectCSR(t, c, "")
	rs.waitDisconnect(t, sid, ReasonPingTimeout)
	_ = rs.Emit("e", 3)
	c2 := rawclient.Polling(t, rs.url, "/socket.io/")
	if sid2, _ := connectCSR(t, c2, `{"pid":"`+pid+`","offset":"1"}`, `42["e",3,"3"]`); sid2 != sid {
		t.Fatalf("not recovered")
	}
}

func TestRecoveryFailsCleanly(t *testing.T) {
	opts := csrOptions()
	opts.ConnectionStateRecovery.MaxDisconnectionDuration = 300 * time.Millisecond
	rs := newRecoveryServer(t, opts)
	fresh := func(auth string) {
		t.Helper()
		c := rawclient.Polling(t, rs.url, "/socket.io/")
		n := len(rs.Of("/").Sockets())
		sid, _ := connectCSR(t, c, auth)
		var s *Socket
		waitFor(t, "socket", func() bool {
			for _, x := range rs.Of("/").Sockets() {
				if x.ID() == sid {
					s = x
				}
			}
			return s != nil
		})
		if s.Recovered() || len(rs.Of("/").Sockets()) != n+1 {
			t.Fatalf("auth %s: recovered=%v", auth, s.Recovered())
		}
	}
	fresh(`{"pid":"unknown","offset":"1"}`)
	fresh(`{"pid":42,"offset":"1"}`)

	c := rawclient.Polling(t, rs.url, "/socket.io/")
	sid, pid := connectCSR(t, c, "")
	_ = rs.Emit("e", 1)
	c.Expect(`42["e",1,"1"]`)
	rs.waitDisconnect(t, sid, ReasonPingTimeout)
	fresh(`{"pid":"` + pid + `","offset":"zzzzzzzzzz"}`) // unknown offset: the session is gone too
	fresh(`{"pid":"` + pid + `","offset":"1"}`)

	// Past MaxDisconnectionDuration.
	c = rawclient.Polling(t, rs.url, "/socket.io/")
	sid, pid = connectCSR(t, c, "")
	rs.waitDisconnect(t, sid, ReasonPingTimeout)
	time.Sleep(400 * time.Millisecond)
	fresh(`{"pid":"` + pid + `"}`)

	// A client namespace disconnect is not recoverable.
	c = rawclient.Polling(t, rs.url, "/socket.io/")
	sid, pid = connectCSR(t, c, "")
	c.Send("41")
	rs.waitDisconnect(t, sid, ReasonClientNamespaceDisconnect)
	fresh(`{"pid":"` + pid + `"}`)
}

// While the server keeps broadcasting, a client drops and recovers: every
// event arrives exactly once and in order.
func TestRecoveryUnderContinuousBroadcast(t *testing.T) {
	rs := newRecoveryServer(t, csrOptions())
	const total = 400
	c := rawclient.Polling(t, rs.url, "/socket.io/")
	sid, pid := connectCSR(t, c, "")
	c.Send(`421["join","feed"]`)
	c.Expect(`431[]`)

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= total; i++ {
			_ = rs.To("feed").Emit("n", i)
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-done }()

	var got []int
	var offset string
	read := func(c *rawclient.Client, p string) {
		t.Helper()
		var args []json.RawMessage
		if err := json.Unmarshal([]byte(strings.TrimPrefix(p, "42")), &args); err != nil || len(args) != 3 {
			t.Fatalf("packet %q", p)
		}
		n, _ := strconv.Atoi(string(args[1]))
		got = append(got, n)
		_ = json.Unmarshal(args[2], &offset)
	}
	for len(got) < 50 {
		read(c, c.Next())
	}
	rs.waitDisconnect(t, sid, ReasonPingTimeout)

	c2 := rawclient.Polling(t, rs.url, "/socket.io/")
	c2.Send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	for len(got) == 0 || got[len(got)-1] < total {
		p := c2.Next()
		if strings.HasPrefix(p, "40") {
			if m := connectReplyRe.FindStringSubmatch(p); m == nil || m[1] != sid {
				t.Fatalf("CONNECT reply %q", p)
			}
			continue
		}
		read(c2, p)
	}
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("event %d is %d: %v", i, n, got)
		}
	}
}

func TestRecoveryRunMiddlewares(t *testing.T) {
	for _, run := range []bool{false, true} {
		t.Run(fmt.Sprint("run=", run), func(t *testing.T) {
			opts := csrOptions()
			opts.ConnectionStateRecovery.RunMiddlewares = run
			rs := newRecoveryServer(t, opts)
			var mu sync.Mutex
			calls := 0
			rs.Use(func(s *Socket) error {
				mu.Lock()
				defer mu.Unlock()
				calls++
				return nil
			})
			c := rawclient.Polling(t, rs.url, "/socket.io/")
			sid, pid := connectCSR(t, c, "")
			rs.waitDisconnect(t, sid, ReasonPingTimeout)
			c2 := rawclient.Polling(t, rs.url, "/socket.io/")
			if sid2, _ := connectCSR(t, c2, `{"pid":"`+pid+`"}`); sid2 != sid {
				t.Fatal("not recovered")
			}
			mu.Lock()
			defer mu.Unlock()
			if want := map[bool]int{false: 1, true: 2}[run]; calls != want {
				t.Fatalf("middleware ran %d times, want %d", calls, want)
			}
		})
	}
}

// A client that comes back while the server still holds its previous
// connection (not yet timed out) takes it over: the old connection is
// closed and the session restored.
func TestRecoveryTakesOverTheDeadConnection(t *testing.T) {
	opts := csrOptions()
	opts.PingInterval, opts.PingTimeout = time.Minute, time.Minute
	rs := newRecoveryServer(t, opts)
	c := rawclient.Polling(t, rs.url, "/socket.io/")
	sid, pid := connectCSR(t, c, "")
	_ = rs.Emit("e", 1)
	c.Expect(`42["e",1,"1"]`)
	_ = rs.Emit("e", 2) // never read by c
	c2 := rawclient.Polling(t, rs.url, "/socket.io/")
	if sid2, _ := connectCSR(t, c2, `{"pid":"`+pid+`","offset":"1"}`, `42["e",2,"2"]`); sid2 != sid {
		t.Fatalf("not recovered")
	}
	rs.waitDisconnect(t, sid, ReasonTransportClose)
}

// More missed events than the outbound queue holds (MaxQueuePackets) are
// sent as the client takes them, not refused as from a slow client.
func TestRecoveryReplayLargerThanTheQueue(t *testing.T) {
	opts := csrOptions()
	opts.MaxQueuePackets = 16
	rs := newRecoveryServer(t, opts)
	c := rawclient.Polling(t, rs.url, "/socket.io/")
	sid, pid := connectCSR(t, c, "")
	rs.waitDisconnect(t, sid, ReasonPingTimeout)
	for i := 1; i <= 100; i++ {
		_ = rs.Emit("e", i)
	}
	c2 := rawclient.Polling(t, rs.url, "/socket.io/")
	c2.Send(`40{"pid":"` + pid + `"}`)
	for i := 1; i <= 100; i++ {
		c2.Expect(fmt.Sprintf(`42["e",%d,"%s"]`, i, strconv.FormatUint(uint64(i), 36)))
	}
	if p := c2.Next(); !strings.HasPrefix(p, `40{"sid":"`+sid) {
		t.Fatalf("CONNECT reply %q", p)
	}
}

// The session-aware adapter on a server with recovery off adds no offsets.
func TestRecoverySessionAwareAdapterWithRecoveryOff(t *testing.T) {
	srv, hs := newTestServer(t, &ServerOptions{Adapter: adapter.NewSessionAware(nil)})
	c := rawclient.Polling(t, hs.URL, "/socket.io/")
	c.Connect("/", "")
	_ = srv.Emit("e", 1)
	c.Expect(`42["e",1]`)
}
