package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Config describes one run. Zero fields take the defaults in brackets.
type Config struct {
	URL      string // server, http://host:port (required)
	Path     string // Engine.IO path [/socket.io/]
	Scenario string // one of Scenarios (required)

	Conns       int           // connections; broadcast: receivers [100; idle: last step]
	Steps       []int         // idle: connection counts at which memory is read [Conns]
	Size        int           // payload bytes of echo, ack, broadcast and polling [32]
	Duration    time.Duration // measured window [10s]
	Warmup      time.Duration // unmeasured traffic before the window [1s]
	Hold        time.Duration // idle: time held at each step before reading memory [60s]
	Burst       int           // broadcast: broadcasts sent back to back [20]
	Concurrency int           // handshakes in flight [64]
	Transport   string        // connect: "websocket" or "upgrade" (polling then WebSocket) [websocket]

	PID      int  // server process: its CPU and memory are read from /proc [0: not read]
	GCSignal bool // idle: send SIGUSR2 to PID (the bench servers collect garbage on it) before reading memory

	// MaxConnsPerProc caps the connections one process holds (the fd limit
	// here is 20,000) [15000]. Idle and broadcast spread larger counts over
	// worker processes made by WorkerCmd.
	MaxConnsPerProc int
	// WorkerCmd returns a command running RunWorker with the given flags
	// (-url, -path, -size, -join); nil: no workers.
	WorkerCmd func(args ...string) *exec.Cmd

	Log *slog.Logger // progress [silent]
}

func (c *Config) defaults() error {
	if !slices.Contains(Scenarios, c.Scenario) {
		return fmt.Errorf("loadgen: unknown scenario %q (want one of %s)", c.Scenario, strings.Join(Scenarios, ", "))
	}
	if c.Scenario == Idle && len(c.Steps) > 0 {
		c.Conns = slices.Max(c.Steps)
	}
	setDefault(&c.Conns, 100)
	if len(c.Steps) == 0 {
		c.Steps = []int{c.Conns}
	}
	slices.Sort(c.Steps)
	setDefault(&c.Size, 32)
	setDefault(&c.Duration, 10*time.Second)
	setDefault(&c.Warmup, time.Second)
	setDefault(&c.Hold, 60*time.Second)
	setDefault(&c.Burst, 20)
	setDefault(&c.Concurrency, 64)
	setDefault(&c.MaxConnsPerProc, 15000)
	if c.Transport == "" {
		c.Transport = "websocket"
	}
	if c.Transport != "websocket" && c.Transport != "upgrade" {
		return fmt.Errorf("loadgen: unknown transport %q (want websocket or upgrade)", c.Transport)
	}
	if c.Conns < 1 || c.Size < 1 || c.Burst < 1 || c.Concurrency < 1 || c.Steps[0] < 1 {
		return errors.New("loadgen: conns, steps, size, burst and concurrency must be positive")
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Run runs one scenario and returns what it measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	conns := cfg.Conns
	if cfg.Scenario == Broadcast {
		conns++ // the sender
	}
	t, err := newTarget(cfg.URL, cfg.Path, max(cfg.Concurrency, conns))
	if err != nil {
		return nil, err
	}
	defer t.close()
	r := &Result{Scenario: cfg.Scenario, Conns: cfg.Conns, LoadBefore: loadAvg(), Procs: 1}
	m := &meter{pid: cfg.PID}
	switch cfg.Scenario {
	case Idle:
		err = runIdle(ctx, &cfg, t, m, r)
	case Connect:
		err = runConnect(ctx, &cfg, t, m, r)
	case Echo, Ack:
		err = runEcho(ctx, &cfg, t, m, r)
	case Broadcast:
		err = runBroadcast(ctx, &cfg, t, m, r)
	case Polling:
		err = runPolling(ctx, &cfg, t, m, r)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// meter reads the CPU time of the server and of the load generator.
type meter struct {
	pid            int
	server, client float64 // at the start of the window
	start          time.Time
	extraClient    func() float64 // CPU of worker processes
	serverErr      error
}

func (m *meter) cpu() (server, client float64) {
	if m.pid > 0 {
		s, err := procCPU(m.pid)
		if err != nil && m.serverErr == nil {
			m.serverErr = err
		}
		server = s
	}
	client = selfCPU()
	if m.extraClient != nil {
		client += m.extraClient()
	}
	return server, client
}

// begin starts a measured window.
func (m *meter) begin() {
	m.server, m.client = m.cpu()
	m.start = time.Now()
}

// end closes the window and stores its wall time and CPU into r.
func (m *meter) end(r *Result) error {
	r.Seconds = time.Since(m.start).Seconds()
	s, c := m.cpu()
	r.ServerCPU, r.ClientCPU = s-m.server, c-m.client
	return m.serverErr
}

// memory collects garbage in the server when asked to, then reads its RSS.
func (m *meter) memory(gcSignal bool) (int64, error) {
	if m.pid <= 0 {
		return 0, nil
	}
	if gcSignal {
		if err := syscall.Kill(m.pid, syscall.SIGUSR2); err != nil {
			return 0, fmt.Errorf("loadgen: signal server: %w", err)
		}
		time.Sleep(1500 * time.Millisecond) // a full GC of a few hundred MB, with margin
	}
	return procRSS(m.pid)
}

// payloadJSON returns a JSON string of size bytes between its quotes.
func payloadJSON(size int) string {
	return `"` + strings.Repeat("x", size) + `"`
}
