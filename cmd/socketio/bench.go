package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/seed9706/socketio/bench/loadgen"
)

func init() {
	commands["bench"] = func(ctx context.Context, args []string) int {
		return runBench(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	}
}

// runBench is the load generator of bench/ (package loadgen).
func runBench(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("socketio bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: socketio bench -scenario %s [flags]\n", strings.Join(loadgen.Scenarios, "|"))
		fmt.Fprintln(stderr, "Drives a Socket.IO server implementing the bench contract (CONTRACTS.md section 2).")
		fs.PrintDefaults()
	}
	var cfg loadgen.Config
	var steps string
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:3000", "server `URL`")
	fs.StringVar(&cfg.Path, "path", "/socket.io/", "Engine.IO path")
	fs.StringVar(&cfg.Scenario, "scenario", "", "scenario: "+strings.Join(loadgen.Scenarios, ", "))
	fs.IntVar(&cfg.Conns, "conns", 100, "connections (broadcast: receivers in the room)")
	fs.StringVar(&steps, "steps", "", "idle: comma-separated connection counts at which memory is read (default: -conns)")
	fs.IntVar(&cfg.Size, "size", 32, "payload bytes")
	fs.DurationVar(&cfg.Duration, "duration", 10e9, "measured window")
	fs.DurationVar(&cfg.Warmup, "warmup", 1e9, "unmeasured traffic before the window")
	fs.DurationVar(&cfg.Hold, "hold", 60e9, "idle: time held at each step before reading memory")
	fs.IntVar(&cfg.Burst, "burst", 20, "broadcast: broadcasts per burst")
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "handshakes in flight")
	fs.StringVar(&cfg.Transport, "transport", "websocket", "connect: websocket or upgrade (polling, then WebSocket)")
	fs.IntVar(&cfg.PID, "pid", 0, "server process id: read its CPU time and memory from /proc")
	fs.BoolVar(&cfg.GCSignal, "gc-signal", false, "idle: send SIGUSR2 to -pid before reading memory (the bench servers collect garbage on it; others may die of it)")
	fs.IntVar(&cfg.MaxConnsPerProc, "max-conns-per-proc", 15000, "connections per process; more are spread over worker processes")
	jsonOut := fs.Bool("json", false, "print the result as one JSON line")
	verbose := fs.Bool("v", false, "log progress to stderr")
	worker := fs.Bool("worker", false, "internal: run as a worker process of another socketio bench")
	join := fs.Bool("join", false, "internal (worker): join the broadcast room")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *worker {
		if err := loadgen.RunWorker(ctx, cfg.URL, cfg.Path, cfg.Size, *join, stdin, stdout); err != nil {
			fmt.Fprintln(stderr, "socketio bench worker:", err)
			return 1
		}
		return 0
	}
	for s := range strings.SplitSeq(steps, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "socketio bench: bad -steps value %q\n", s)
			return 2
		}
		cfg.Steps = append(cfg.Steps, n)
	}
	if *verbose {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	if exe, err := os.Executable(); err == nil {
		cfg.WorkerCmd = func(args ...string) *exec.Cmd {
			return exec.Command(exe, append([]string{"bench", "-worker"}, args...)...)
		}
	}
	r, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "socketio bench:", err)
		return 1
	}
	if *jsonOut {
		if err := r.WriteJSON(stdout); err != nil {
			fmt.Fprintln(stderr, "socketio bench:", err)
			return 1
		}
		return 0
	}
	printResult(stdout, r)
	return 0
}

// printResult writes r for a human.
func printResult(w io.Writer, r *loadgen.Result) {
	fmt.Fprintf(w, "%s: %d connections", r.Scenario, r.Conns)
	if r.Transport != "" {
		fmt.Fprintf(w, " (%s)", r.Transport)
	}
	if r.Size > 0 {
		fmt.Fprintf(w, ", %d B", r.Size)
	}
	fmt.Fprintf(w, ", %d load generator process(es), load %.2f -> %.2f\n", r.Procs, r.LoadBefore, r.LoadAfter)
	if r.Scenario == loadgen.Idle {
		for _, p := range r.Memory {
			fmt.Fprintf(w, "  %6d connections: server RSS %.1f MB\n", p.Conns, float64(p.RSS)/1e6)
		}
		fmt.Fprintf(w, "  %.2f KB per connection (slope); idle server CPU %.2f us/s per connection\n", r.BytesPerConn/1024, r.IdleCPUMicros)
		return
	}
	fmt.Fprintf(w, "  %d %s in %.2f s: %.0f/s", r.Ops, r.Unit, r.Seconds, r.PerSec)
	if r.ServerCPU > 0 {
		fmt.Fprintf(w, ", %.0f per server CPU-second (server %.2f s CPU)", r.PerServerCPUSec, r.ServerCPU)
	}
	fmt.Fprintf(w, ", client %.2f s CPU\n", r.ClientCPU)
	fmt.Fprintf(w, "  latency p50 %.2f ms, p99 %.2f ms\n", r.P50Ms, r.P99Ms)
}
