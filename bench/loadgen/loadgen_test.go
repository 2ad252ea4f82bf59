package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/seed9706/socketio/internal/leakcheck"
	"github.com/seed9706/socketio/socketio"
)

// workerEnv makes the test binary act as a worker process (see workerCmd).
const workerEnv = "LOADGEN_TEST_WORKER_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(workerEnv); args != "" {
		os.Exit(runTestWorker(strings.Fields(args)))
	}
	leakcheck.Main(m)
}

func runTestWorker(args []string) int {
	var url, path string
	size, join := 32, false
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-url":
			i++
			url = args[i]
		case "-path":
			i++
			path = args[i]
		case "-size":
			i++
			size, _ = strconv.Atoi(args[i])
		case "-join":
			join = true
		}
	}
	if err := RunWorker(context.Background(), url, path, size, join, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func workerCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"="+strings.Join(args, " "))
	return cmd
}

// Misbehaviours of the test server.
const (
	wrongEcho = 1 + iota // "echo" answers something else
	hangUp               // the third "echo" of a socket closes it
)

// newServer serves the part of the bench contract the scenarios use,
// misbehaving as asked (0: not).
func newServer(t *testing.T, misbehave int) string {
	srv := socketio.NewServer(nil)
	root := srv.Of("/")
	root.OnConnection(func(s *socketio.Socket) {
		echoes := 0
		s.On("echo", func(e *socketio.Event) {
			args := e.Values()
			if echoes++; misbehave == hangUp && echoes == 3 {
				s.Disconnect(true)
				return
			}
			if misbehave == wrongEcho {
				args = []any{"wrong"}
			}
			if e.HasAck() {
				_ = e.Ack(args...)
				return
			}
			_ = s.Emit("echo", args...)
		})
		s.On("join", func(e *socketio.Event) {
			var room string
			_ = e.Args(&room)
			s.Join(room)
			_ = e.Ack(room)
		})
		s.On("broadcast", func(e *socketio.Event) {
			v := e.Values()
			var room string
			_ = e.Args(&room)
			_ = root.To(room).Emit("broadcast", v[1:]...)
		})
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	return ts.URL
}

func quickConfig(url, scenario string) Config {
	return Config{
		URL: url, Scenario: scenario, Conns: 6, Size: 40,
		Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, Hold: 100 * time.Millisecond,
		Burst: 3, Concurrency: 4, PID: os.Getpid(),
	}
}

func TestScenarios(t *testing.T) {
	url := newServer(t, 0)
	for _, tc := range []struct {
		name   string
		config func(*Config)
		check  func(*testing.T, *Result)
	}{
		{"echo", nil, checkRoundTrips("round trips")},
		{"ack", nil, checkRoundTrips("round trips")},
		{"polling", nil, checkRoundTrips("acks")},
		{"broadcast", nil, func(t *testing.T, r *Result) {
			checkRoundTrips("deliveries")(t, r)
			if r.Ops%(3*6) != 0 || r.Procs != 1 {
				t.Errorf("%d deliveries in %d processes, want whole bursts of 3 x 6 in 1", r.Ops, r.Procs)
			}
		}},
		{"connect", nil, checkConnect("websocket")},
		{"connect", func(c *Config) { c.Transport = "upgrade" }, checkConnect("upgrade")},
		{"idle", func(c *Config) { c.Steps = []int{7, 3} }, func(t *testing.T, r *Result) {
			if r.Conns != 7 || r.Ops != 7 || len(r.Memory) != 3 || r.Memory[1].Conns != 3 || r.Memory[2].Conns != 7 || r.Memory[2].RSS <= 0 {
				t.Errorf("idle result %+v", r)
			}
			if r.BytesPerConn != slope(r.Memory) || r.PerSec != 0 {
				t.Errorf("bytes per connection %v, per second %v", r.BytesPerConn, r.PerSec)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := quickConfig(url, tc.name)
			if tc.config != nil {
				tc.config(&cfg)
			}
			r, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Scenario != tc.name || r.LoadBefore < 0 || r.ClientCPU < 0 {
				t.Errorf("result %+v", r)
			}
			tc.check(t, r)
		})
	}
}

func checkRoundTrips(unit string) func(*testing.T, *Result) {
	return func(t *testing.T, r *Result) {
		t.Helper()
		if r.Unit != unit || r.Ops <= 0 || r.Size != 40 || r.Seconds <= 0 || r.PerSec != float64(r.Ops)/r.Seconds {
			t.Errorf("result %+v, want some %s", r, unit)
		}
		if r.P50Ms > r.P99Ms {
			t.Errorf("p50 %v > p99 %v", r.P50Ms, r.P99Ms)
		}
	}
}

func checkConnect(transport string) func(*testing.T, *Result) {
	return func(t *testing.T, r *Result) {
		t.Helper()
		if r.Unit != "connections" || r.Ops != 6 || r.Transport != transport || r.P99Ms <= 0 {
			t.Errorf("result %+v, want 6 connections over %s", r, transport)
		}
	}
}

// TestWorkers spreads connections over worker processes past
// MaxConnsPerProc.
func TestWorkers(t *testing.T) {
	url := newServer(t, 0)
	for _, scenario := range []string{Idle, Broadcast} {
		t.Run(scenario, func(t *testing.T) {
			cfg := quickConfig(url, scenario)
			cfg.Conns, cfg.MaxConnsPerProc, cfg.WorkerCmd = 7, 3, workerCmd
			r, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Procs != 4 || r.Conns != 7 {
				t.Errorf("%d processes for %d connections, want 4 for 7", r.Procs, r.Conns)
			}
			if scenario == Broadcast && (r.Ops <= 0 || r.Ops%(3*7) != 0) {
				t.Errorf("%d deliveries, want whole bursts of 3 x 7", r.Ops)
			}
			if scenario == Idle && (r.Ops != 7 || len(r.Memory) != 2) {
				t.Errorf("idle result %+v", r)
			}
		})
	}
	cfg := quickConfig(url, Idle)
	cfg.Conns, cfg.MaxConnsPerProc = 7, 3
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "no worker command") {
		t.Errorf("without a worker command: %v", err)
	}
}

func TestWrongAnswersFail(t *testing.T) {
	url := newServer(t, wrongEcho)
	for _, scenario := range []string{Echo, Ack, Polling} {
		_, err := Run(context.Background(), quickConfig(url, scenario))
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("%s against a wrong echo: %v, want ErrProtocol", scenario, err)
		}
	}
	url = newServer(t, hangUp)
	for _, scenario := range []string{Echo, Ack} {
		_, err := Run(context.Background(), quickConfig(url, scenario))
		if err == nil || !strings.Contains(err.Error(), "the server closed 6 of 6 connections") {
			t.Errorf("%s against a server hanging up: %v", scenario, err)
		}
	}
	if _, err := Run(context.Background(), quickConfig(url, Polling)); !errors.Is(err, ErrClosed) {
		t.Errorf("polling against a server hanging up: %v, want ErrClosed", err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "http://127.0.0.1:1", Scenario: "nope"},
		{URL: "ftp://x", Scenario: Echo},
		{URL: "http://127.0.0.1:1", Scenario: Connect, Transport: "carrier-pigeon"},
		{URL: "http://127.0.0.1:1", Scenario: Echo, Size: -1},
		{URL: "http://127.0.0.1:1", Scenario: Connect, Conns: 20, MaxConnsPerProc: 10},
	} {
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) succeeded", cfg)
		}
	}
	// Nothing listens: the dial error comes back.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := Run(context.Background(), Config{URL: "http://" + addr, Scenario: Echo, Conns: 2}); err == nil {
		t.Error("Run against a closed port succeeded")
	}
}

func TestProc(t *testing.T) {
	cpu, err := procCPU(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Errorf("procCPU(self) = %v, %v", cpu, err)
	}
	rss, err := procRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Errorf("procRSS(self) = %v, %v", rss, err)
	}
	if _, err := procCPU(-1); err == nil {
		t.Error("procCPU(-1) succeeded")
	}
	if _, err := procRSS(-1); err == nil {
		t.Error("procRSS(-1) succeeded")
	}
}

func TestSlope(t *testing.T) {
	if got := slope([]MemPoint{{0, 1000}, {10, 2000}, {20, 3000}}); got != 100 {
		t.Errorf("slope = %v, want 100", got)
	}
	if got := slope([]MemPoint{{4, 1000}}); got != 250 {
		t.Errorf("slope of one point = %v, want 250", got)
	}
	if got := slope([]MemPoint{{4, 1000}, {4, 2000}}); got != 0 {
		t.Errorf("slope without spread = %v, want 0", got)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 {
		t.Error("empty histogram has a median")
	}
	for us := 1; us <= 1000; us++ {
		h.record(time.Duration(us) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, time.Microsecond}, {0.5, 496 * time.Microsecond}, {0.99, 960 * time.Microsecond}, {1, 992 * time.Microsecond}} {
		if got := h.quantile(tc.q); got != tc.want {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	for us := uint64(0); us < 1<<20; us = us*5/4 + 1 {
		b := bucketOf(us)
		if lo := lowerBound(b); lo > us || bucketOf(lo) != b || (b+1 < histSize && lowerBound(b+1) <= us) {
			t.Fatalf("%d us: bucket %d has lower bound %d", us, b, lo)
		}
	}
	if b := bucketOf(^uint64(0)); b >= histSize {
		t.Fatalf("largest latency in bucket %d of %d", b, histSize)
	}
}

// fakeConn feeds bytes to readMessage and takes its writes (pongs).
type fakeConn struct {
	net.Conn
	written bytes.Buffer
}

func (f *fakeConn) Write(p []byte) (int, error) { return f.written.Write(p) }

func newFakeConn(input []byte) (*conn, *fakeConn) {
	fc := &fakeConn{}
	return &conn{nc: fc, br: bufio.NewReader(bytes.NewReader(input)), done: make(chan struct{})}, fc
}

func TestReadMessage(t *testing.T) {
	// A ping, a text message in two fragments, a close.
	input := []byte{0x89, 2, 'h', 'i', 0x01, 3, '4', '2', '[', 0x80, 2, '1', ']', 0x88, 0}
	c, fc := newFakeConn(input)
	m, err := c.readMessage()
	if err != nil || string(m) != "42[1]" {
		t.Fatalf("readMessage = %q, %v", m, err)
	}
	if w := fc.written.Bytes(); len(w) != 8 || w[0] != 0x8a || w[1] != 0x82 {
		t.Errorf("pong frame % x, want a masked pong of 2 bytes", w)
	}
	if _, err := c.readMessage(); !errors.Is(err, ErrClosed) {
		t.Errorf("after the close frame: %v, want ErrClosed", err)
	}
	c, _ = newFakeConn([]byte{0x81, 127, 0, 0, 0, 0, 0x7f, 0, 0, 0})
	if _, err := c.readMessage(); !errors.Is(err, ErrProtocol) {
		t.Errorf("a 2 GB frame: %v, want ErrProtocol", err)
	}
}

func FuzzReadMessage(f *testing.F) {
	f.Add([]byte{0x81, 2, '4', '2'})
	f.Add([]byte{0x81, 0x85, 1, 2, 3, 4, '4' ^ 1, '2' ^ 2, '[' ^ 3, ']' ^ 4, '!' ^ 1})
	f.Add([]byte{0x89, 0, 0x01, 1, '4', 0x80, 1, '2'})
	f.Add([]byte{0x81, 126, 0, 3, '4', '0', '{'})
	f.Fuzz(func(t *testing.T, input []byte) {
		c, _ := newFakeConn(input)
		for range 8 {
			m, err := c.readMessage()
			if err != nil {
				return
			}
			if len(m) > maxFrame {
				t.Fatalf("message of %d bytes", len(m))
			}
		}
	})
}

func FuzzParseOpen(f *testing.F) {
	f.Add([]byte(`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	f.Add([]byte(`0{"sid":""}`))
	f.Add([]byte(`40{"sid":"x"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		sid, err := parseOpen(p)
		if (err == nil) == (sid == "") {
			t.Fatalf("parseOpen(%q) = %q, %v", p, sid, err)
		}
	})
}

// TestDialHonoursContext: a server that accepts the WebSocket but never
// answers does not hold the dial past its context.
func TestDialHonoursContext(t *testing.T) {
	held := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer nc.Close()
		<-held
	}))
	t.Cleanup(func() {
		close(held)
		ts.Close()
	})
	tg, err := newTarget(ts.URL, "/socket.io/", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if c, err := tg.dialWebSocket(ctx); c != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial: %v, %v; want context.DeadlineExceeded", c, err)
	}
}
