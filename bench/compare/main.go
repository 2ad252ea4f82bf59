// Command compare runs the benchmark scenarios (PERF.md section 8) side by
// side against our server (e2e/benchserver) and the official Node.js
// socket.io 4.8 on its default ws engine and on uWebSockets.js
// (bench/node/server.mjs), all implementing the bench contract
// (CONTRACTS.md section 2), with socketio bench as the load generator.
// Servers and load generator are separate processes; each case starts a
// fresh server; targets are interleaved (their order rotates with each
// repetition) and every case is repeated; it prints medians and Go/Node
// ratios, and with -write the RESULTS.md table with the date and machine.
//
//	go run ./bench/compare             # full size (long: about an hour)
//	go run ./bench/compare -quick      # smoke sizes, a few minutes
//
// Run it from the repository root after scripts/setup.sh (node and the
// pinned npm packages).
//
// # Concurrency
//
// Cases run one after the other, never two servers at once, so they do not
// compete for the CPU. Each server process has one goroutine reading its
// stdout until it exits.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seed9706/socketio/bench/loadgen"
)

// Targets.
const (
	goTarget  = "go"
	nodeWS    = "node-ws"
	nodeUWS   = "node-uws"
	ratioBase = nodeUWS // the targets of the issue are ratios against it
)

var allTargets = []string{goTarget, nodeWS, nodeUWS}

// benchCase is one measured configuration.
type benchCase struct {
	ID     string   // S1, S2a, ...
	Title  string   // for the table
	Args   []string // socketio bench flags
	Metric metric
	Target string // what the issue asks of Go against node-uws
}

// metric picks the headline figure of a result.
type metric struct {
	Name        string
	LowerBetter bool
	Value       func(*loadgen.Result) float64
}

var (
	perServerCPU = metric{Name: "per server CPU-s", Value: func(r *loadgen.Result) float64 { return r.PerServerCPUSec }}
	bytesPerConn = metric{Name: "KB per connection", LowerBetter: true, Value: func(r *loadgen.Result) float64 { return r.BytesPerConn / 1024 }}
)

// sizes are the parameters that differ between the full and quick runs.
type sizes struct {
	idleSteps            string
	hold                 time.Duration
	connectN             int
	echoConns            int
	bcastSmall, bcastBig int
	pollConns            int
	duration, warmup     time.Duration
}

var (
	full  = sizes{idleSteps: "5000,10000,19000", hold: 30 * time.Second, connectN: 10000, echoConns: 100, bcastSmall: 2000, bcastBig: 10000, pollConns: 100, duration: 10 * time.Second, warmup: 2 * time.Second}
	quick = sizes{idleSteps: "200,500", hold: 2 * time.Second, connectN: 300, echoConns: 20, bcastSmall: 100, bcastBig: 300, pollConns: 20, duration: 2 * time.Second, warmup: 500 * time.Millisecond}
)

func cases(s sizes) []benchCase {
	d := []string{"-duration", s.duration.String(), "-warmup", s.warmup.String()}
	echo := func(scenario string, size int) []string {
		return append([]string{"-scenario", scenario, "-conns", strconv.Itoa(s.echoConns), "-size", strconv.Itoa(size)}, d...)
	}
	bcast := func(n int) []string {
		return append([]string{"-scenario", "broadcast", "-conns", strconv.Itoa(n), "-burst", "20"}, d...)
	}
	return []benchCase{
		{ID: "S1", Title: "idle memory, " + s.idleSteps + " warm connections", Metric: bytesPerConn, Target: "<= 0.33",
			Args: []string{"-scenario", "idle", "-steps", s.idleSteps, "-hold", s.hold.String(), "-gc-signal"}},
		{ID: "S2a", Title: fmt.Sprintf("connection setup, websocket, %d", s.connectN), Metric: perServerCPU, Target: ">= 2",
			Args: []string{"-scenario", "connect", "-transport", "websocket", "-conns", strconv.Itoa(s.connectN)}},
		{ID: "S2b", Title: fmt.Sprintf("connection setup, polling then upgrade, %d", s.connectN), Metric: perServerCPU, Target: ">= 2",
			Args: []string{"-scenario", "connect", "-transport", "upgrade", "-conns", strconv.Itoa(s.connectN)}},
		{ID: "S3a", Title: fmt.Sprintf("echo, %d connections, 32 B", s.echoConns), Metric: perServerCPU, Target: ">= 1.5", Args: echo("echo", 32)},
		{ID: "S3b", Title: fmt.Sprintf("echo, %d connections, 1 KB", s.echoConns), Metric: perServerCPU, Target: ">= 1.5", Args: echo("echo", 1024)},
		{ID: "S3c", Title: fmt.Sprintf("ack, %d connections, 32 B", s.echoConns), Metric: perServerCPU, Target: ">= 1.5", Args: echo("ack", 32)},
		{ID: "S3d", Title: fmt.Sprintf("ack, %d connections, 1 KB", s.echoConns), Metric: perServerCPU, Target: ">= 1.5", Args: echo("ack", 1024)},
		{ID: "S4a", Title: fmt.Sprintf("broadcast to %d, bursts of 20", s.bcastSmall), Metric: perServerCPU, Target: ">= 1", Args: bcast(s.bcastSmall)},
		{ID: "S4b", Title: fmt.Sprintf("broadcast to %d, bursts of 20", s.bcastBig), Metric: perServerCPU, Target: ">= 1", Args: bcast(s.bcastBig)},
		{ID: "S5", Title: fmt.Sprintf("long-polling acked emits, %d clients", s.pollConns), Metric: perServerCPU, Target: ">= 2",
			Args: append([]string{"-scenario", "polling", "-conns", strconv.Itoa(s.pollConns)}, d...)},
	}
}

type options struct {
	quick    bool
	reps     int
	targets  []string
	only     []string // case IDs; empty: all
	duration time.Duration
	write    string // RESULTS.md path
	pin      bool
	profile  string // directory for the Go server's CPU profiles
	root     string
}

func main() {
	var o options
	var targets, only string
	flag.BoolVar(&o.quick, "quick", os.Getenv("BENCH_QUICK") == "1", "smoke sizes (also BENCH_QUICK=1)")
	flag.IntVar(&o.reps, "reps", 0, "repetitions of each case (default 5, quick 1)")
	flag.StringVar(&targets, "targets", strings.Join(allTargets, ","), "servers to measure")
	flag.StringVar(&only, "cases", "", "comma-separated case IDs to run (default all: S1,S2a,S2b,S3a-d,S4a,S4b,S5)")
	flag.DurationVar(&o.duration, "duration", 0, "override the measured window of the timed cases")
	flag.StringVar(&o.write, "write", "", "write the results table to this file (bench/RESULTS.md)")
	flag.BoolVar(&o.pin, "pin", false, "pin the server to CPU 0 and the load generator to CPU 1 (taskset)")
	flag.StringVar(&o.profile, "profile", "", "write the Go server's CPU profile of each run to this directory (CASE-repN.pprof)")
	flag.Parse()
	o.targets = splitList(targets)
	o.only = splitList(only)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// outcome is what the repetitions of one case on one target gave.
type outcome struct {
	results []*loadgen.Result
	err     error
}

func run(ctx context.Context, o options, out io.Writer) error {
	for _, t := range o.targets {
		if !slices.Contains(allTargets, t) {
			return fmt.Errorf("unknown target %q (want %s)", t, strings.Join(allTargets, ", "))
		}
	}
	if o.root == "" {
		root, err := repoRoot()
		if err != nil {
			return err
		}
		o.root = root
	}
	s := full
	if o.quick {
		s = quick
	}
	if o.duration > 0 {
		s.duration = o.duration
	}
	if o.reps <= 0 {
		o.reps = 5
		if o.quick {
			o.reps = 1
		}
	}
	var todo []benchCase
	for _, c := range cases(s) {
		if len(o.only) == 0 || slices.Contains(o.only, c.ID) {
			todo = append(todo, c)
		}
	}
	if len(todo) == 0 {
		return errors.New("no case selected")
	}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
		abs, err := filepath.Abs(o.profile)
		if err != nil {
			return err
		}
		o.profile = abs
	}
	bin, err := os.MkdirTemp("", "bench-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	fmt.Fprintln(out, "building e2e/benchserver and cmd/socketio")
	for _, pkg := range []string{"./e2e/benchserver", "./cmd/socketio"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin+"/", pkg)
		cmd.Dir, cmd.Stderr = o.root, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", pkg, err)
		}
	}
	if slices.ContainsFunc(o.targets, func(t string) bool { return strings.HasPrefix(t, "node") }) {
		if err := checkNode(o.root); err != nil {
			return err
		}
	}
	start := time.Now()
	got, err := measure(ctx, o, bin, todo, out)
	if err != nil {
		return err
	}
	report := render(o, todo, got, time.Since(start))
	fmt.Fprint(out, "\n"+report)
	if o.write != "" {
		if err := os.WriteFile(o.write, []byte(report), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(out, "wrote", o.write)
	}
	return nil
}

// measure runs every case on every target, reps times, the targets'
// order rotating from one run to the next. It returns the outcomes by case
// ID and target.
func measure(ctx context.Context, o options, bin string, todo []benchCase, out io.Writer) (map[string]map[string]*outcome, error) {
	got := map[string]map[string]*outcome{}
	for _, c := range todo {
		got[c.ID] = map[string]*outcome{}
		for _, t := range o.targets {
			got[c.ID][t] = &outcome{}
		}
	}
	for rep := range o.reps {
		for ci, c := range todo {
			for _, tgt := range rotate(o.targets, rep+ci) {
				oc := got[c.ID][tgt]
				if oc.err != nil {
					continue // a target that failed a case is not retried
				}
				fmt.Fprintf(out, "rep %d/%d %s %-8s ", rep+1, o.reps, c.ID, tgt)
				r, err := runOne(ctx, o, bin, tgt, c, rep)
				if err != nil {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					fmt.Fprintf(out, "FAILED: %v\n", err)
					oc.err = err
					continue
				}
				fmt.Fprintf(out, "%s %.4g (load %.2f)\n", c.Metric.Name, c.Metric.Value(r), r.LoadBefore)
				oc.results = append(oc.results, r)
			}
		}
	}
	return got, nil
}

func rotate(s []string, n int) []string {
	n %= len(s)
	return append(slices.Clone(s[n:]), s[:n]...)
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the repository (no go.mod found)")
		}
		dir = parent
	}
}

func checkNode(root string) error {
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("node not found: install Node.js >= 20 (scripts/setup.sh), or use -targets go")
	}
	for _, m := range []string{"socket.io", "uWebSockets.js"} {
		if _, err := os.Stat(filepath.Join(root, "node_modules", m, "package.json")); err != nil {
			return fmt.Errorf("node_modules/%s missing: run scripts/setup.sh (npm ci)", m)
		}
	}
	return nil
}

// runOne starts a fresh server, runs the load generator against it and
// stops the server.
func runOne(ctx context.Context, o options, bin, tgt string, c benchCase, rep int) (*loadgen.Result, error) {
	var profile string
	if o.profile != "" && tgt == goTarget {
		profile = filepath.Join(o.profile, fmt.Sprintf("%s-rep%d.pprof", c.ID, rep+1))
	}
	srv, err := startServer(ctx, o, bin, tgt, profile)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	args := append([]string{"bench", "-json", "-url", "http://" + srv.addr, "-pid", strconv.Itoa(srv.cmd.Process.Pid)}, c.Args...)
	name := filepath.Join(bin, "socketio")
	if o.pin {
		args, name = append([]string{"-c", "1", name}, args...), "taskset"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout bytes.Buffer
	var stderr tail
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("socketio bench: %w: %s", err, lastLine(stderr.String()))
	}
	if err := srv.alive(); err != nil {
		return nil, err
	}
	var r loadgen.Result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("socketio bench output %q: %w", stdout.String(), err)
	}
	return &r, nil
}

// tail keeps the last tailSize bytes written to it: enough for the last
// lines of a process's stderr, however much the process writes.
type tail struct{ b []byte }

const tailSize = 16 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tail) String() string { return string(t.b) }

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

type server struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
	stderr *tail // read once the process exited
}

// startServer starts target tgt on a free port below 32768 (above it the
// port may be taken as an ephemeral client port) and waits for the line
// saying it listens.
func startServer(ctx context.Context, o options, bin, tgt, profile string) (*server, error) {
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		var argv []string
		switch tgt {
		case goTarget:
			argv = []string{filepath.Join(bin, "benchserver"), "-addr", addr}
			if profile != "" {
				argv = append(argv, "-cpuprofile", profile)
			}
		case nodeWS, nodeUWS:
			argv = []string{"node", "--expose-gc", "bench/node/server.mjs", "-addr", addr, "-engine", strings.TrimPrefix(tgt, "node-")}
		}
		if o.pin {
			argv = append([]string{"taskset", "-c", "0"}, argv...)
		}
		s, err := launch(ctx, o.root, argv, addr)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("start %s: %w", tgt, lastErr)
}

func freePort() (int, error) {
	for range 100 {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			ln.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port found in 20000-31999")
}

func launch(ctx context.Context, dir string, argv []string, addr string) (*server, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, addr: addr, exited: make(chan struct{}), stderr: &tail{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	listening := make(chan struct{})
	go func() {
		defer close(s.exited)
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			if !seen && strings.Contains(sc.Text(), "listening") {
				seen = true
				close(listening)
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case <-listening:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("%s exited: %s", argv[0], lastLine(s.stderr.String()))
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s did not listen within 60 s", argv[0])
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// alive fails when the server died during the run.
func (s *server) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("server exited during the run: %s", lastLine(s.stderr.String()))
	default:
		return nil
	}
}

// stop asks the server to exit, and kills it after 10 s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}
