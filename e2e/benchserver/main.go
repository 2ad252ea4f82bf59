// Command benchserver is the Socket.IO server that benchmarks and cluster
// tests start (CONTRACTS.md section 2): default options, CORS reflecting any
// origin with credentials, and the event set of the contract on "/",
// "/private" and the dynamic namespaces "^/dyn-[0-9]+$".
//
//	go run ./e2e/benchserver -addr 127.0.0.1:3000 [-redis redis://127.0.0.1:6379] [-recovery]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/adapter/redisadapter"
	"github.com/seed9706/socketio/engineio"
	"github.com/seed9706/socketio/internal/serve"
	"github.com/seed9706/socketio/socketio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	redisURL := flag.String("redis", "", "Redis URL (redis://HOST:PORT): join the cluster of servers sharing it, Go and Node.js alike")
	recovery := flag.Bool("recovery", false, "enable connection state recovery with its defaults (2 minutes, middlewares skipped)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile (go tool pprof) to this file until exit (bench/)")
	memProfile := flag.String("memprofile", "", "on SIGUSR2, after the garbage collection, write a heap profile (go tool pprof) to this file")
	flag.Parse()
	if *memProfile != "" {
		runtime.MemProfileRate = 1 // every allocation: exact bytes per connection
	}
	var csr *socketio.ConnectionStateRecovery
	if *recovery {
		csr = &socketio.ConnectionStateRecovery{}
	}
	var factory adapter.Factory // nil: in-memory
	if *redisURL != "" {
		ropts, err := redis.ParseURL(*redisURL)
		if err != nil {
			log.Fatal("benchserver: -redis: ", err)
		}
		rdb := redis.NewClient(ropts)
		defer rdb.Close()
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		if *recovery { // sessions and offsets live in a Redis stream
			factory = redisadapter.NewStreams(rdb, &redisadapter.StreamsOptions{Logger: logger})
		} else {
			factory = redisadapter.New(rdb, &redisadapter.Options{Logger: logger})
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	collectGarbageOnSIGUSR2(*memProfile)
	stopProfile := startCPUProfile(*cpuProfile)
	err := run(ctx, *addr, os.Stdout, factory, csr)
	stopProfile()
	if err != nil {
		log.Fatal("benchserver: ", err)
	}
}

// startCPUProfile writes a CPU profile (go tool pprof) to path, when set,
// until the returned function is called.
func startCPUProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		log.Fatal("benchserver: -cpuprofile: ", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// collectGarbageOnSIGUSR2 makes SIGUSR2 run a full garbage collection and
// return the freed memory to the OS, so that the benchmarks (bench/) read
// the memory of live objects only, as they do with the Node.js server's gc().
// It then prints where the memory goes to stderr and, when memProfile is
// set, writes a heap profile there.
func collectGarbageOnSIGUSR2(memProfile string) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR2)
	go func() {
		for range c {
			debug.FreeOSMemory() // runs a GC first
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			fmt.Fprintf(os.Stderr, "benchserver: heap in use %d KB, stacks %d KB, other runtime %d KB, %d goroutines\n",
				m.HeapInuse>>10, m.StackInuse>>10, (m.Sys-m.HeapSys-m.StackSys)>>10, runtime.NumGoroutine())
			if memProfile != "" {
				writeHeapProfile(memProfile)
			}
		}
	}()
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchserver: -memprofile:", err)
	}
}

// run serves the contract on addr until ctx is done; factory creates the
// namespaces' adapters (nil: in-memory); csr turns recovery on.
func run(ctx context.Context, addr string, out io.Writer, factory adapter.Factory, csr *socketio.ConnectionStateRecovery) error {
	return serve.Run(ctx, "benchserver", addr, newServer(factory, csr), out)
}

func newServer(factory adapter.Factory, csr *socketio.ConnectionStateRecovery) *socketio.Server {
	srv := socketio.NewServer(&socketio.ServerOptions{
		CORS:                    &engineio.CORSOptions{AllowedOrigins: []string{"*"}, AllowCredentials: true},
		Adapter:                 factory,
		ConnectionStateRecovery: csr,
	})
	root := srv.Of("/")
	root.OnConnection(registerEvents)

	private := srv.Of("/private")
	private.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token any `json:"token"`
		}
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		if auth.Token != "secret" {
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
		}
		return nil
	})
	private.OnConnection(func(s *socketio.Socket) { _ = s.Emit("welcome", s.ID()) })

	dyn := srv.OfRegexp(regexp.MustCompile(`^/dyn-[0-9]+$`))
	dyn.OnConnection(func(s *socketio.Socket) { _ = s.Emit("welcome", s.Namespace().Name()) })
	return srv
}

// registerEvents installs the event set of the main namespace on s. The
// handlers are package-level funcs that find their socket and namespace in
// the event: no closure per socket and handler, which with ten handlers
// is some 150 bytes of every idle connection.
func registerEvents(s *socketio.Socket) {
	for _, h := range events {
		s.On(h.name, h.fn)
	}
}

var events = [...]struct {
	name string
	fn   func(*socketio.Event)
}{
	{"echo", onEcho},
	{"join", onJoin},
	{"leave", onLeave},
	{"broadcast", onBroadcast},
	{"broadcast-except", onBroadcastExcept},
	{"sockets", onSockets},
	{"request", onRequest},
	{"rooms", onRooms},
	{"disconnect-me", onDisconnectMe},
}

func onEcho(e *socketio.Event) {
	if e.HasAck() {
		_ = e.Ack(e.Values()...)
		return
	}
	_ = e.Socket().Emit("echo", e.Values()...)
}

func onJoin(e *socketio.Event) {
	room := stringArg(e, 0)
	e.Socket().Join(room)
	_ = e.Ack(room)
}

func onLeave(e *socketio.Event) {
	room := stringArg(e, 0)
	e.Socket().Leave(room)
	_ = e.Ack(room)
}

func onBroadcast(e *socketio.Event) {
	_ = e.Socket().Namespace().To(stringArg(e, 0)).Emit("broadcast", rest(e, 1)...)
	_ = e.Ack()
}

func onBroadcastExcept(e *socketio.Event) {
	_ = e.Socket().Namespace().To(stringArg(e, 0)).Except(stringArg(e, 1)).Emit("broadcast", rest(e, 2)...)
	_ = e.Ack()
}

func onSockets(e *socketio.Event) {
	list, err := e.Socket().Namespace().In(stringArg(e, 0)).FetchSockets(context.Background())
	ids := make([]string, 0, len(list))
	if err == nil {
		for _, r := range list {
			ids = append(ids, r.ID)
		}
	}
	_ = e.Ack(ids)
}

func onRequest(e *socketio.Event) {
	var timeoutMs float64
	if raw := e.Raw(); len(raw) > 1 {
		_ = json.Unmarshal(raw[1], &timeoutMs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeoutMs*float64(time.Millisecond)))
	defer cancel()
	replies, err := e.Socket().Namespace().To(stringArg(e, 0)).EmitWithAck(ctx, "request", rest(e, 2)...)
	responses := make([]any, len(replies))
	for i, r := range replies {
		responses[i] = json.RawMessage("null")
		if v := r.Values(); len(v) > 0 {
			responses[i] = v[0]
		}
	}
	var errText any
	if errors.Is(err, socketio.ErrTimeout) {
		errText = "operation has timed out"
	} else if err != nil {
		errText = err.Error()
	}
	_ = e.Ack(map[string]any{"error": errText, "responses": responses})
}

func onRooms(e *socketio.Event) { _ = e.Ack(e.Socket().Rooms()) }

func onDisconnectMe(e *socketio.Event) {
	var close bool
	_ = e.Args(&close)
	e.Socket().Disconnect(close)
}

// stringArg returns argument i as a string ("" when absent or not a string).
func stringArg(e *socketio.Event, i int) string {
	raw := e.Raw()
	var v string
	if i < len(raw) {
		_ = json.Unmarshal(raw[i], &v)
	}
	return v
}

// rest returns the arguments from i on, ready to be emitted again.
func rest(e *socketio.Event, i int) []any {
	if v := e.Values(); i < len(v) {
		return v[i:]
	}
	return nil
}
