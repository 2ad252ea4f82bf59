package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seed9706/socketio/internal/demo"
)

func init() {
	commands["serve"] = func(ctx context.Context, args []string) int {
		return serve(ctx, args, os.Stdout, os.Stderr)
	}
}

// clientDistDir is where npm installs the official browser client.
const clientDistDir = "node_modules/socket.io-client/dist"

// shutdownTimeout bounds the graceful stop after SIGINT/SIGTERM.
const shutdownTimeout = 5 * time.Second

// serve runs the demo app until ctx is done: the customer chat at /, the
// agent desk at /agent and order tracking at /orders.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	addr := fl.String("addr", "127.0.0.1:3000", "listen address `HOST:PORT`")
	redisURL := fl.String("redis", "", "Redis `URL` (redis://HOST:PORT/DB) that makes several instances one app")
	token := fl.String("agent-token", "", "the `TOKEN` agents sign in with (default: a random one, printed at startup)")
	dist := fl.String("client-dist", "", "`DIR` holding the official browser client (default: "+clientDistDir+" in this directory or above)")
	verbose := fl.Bool("v", false, "log connections and errors to stderr")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: socketio serve [flags]\n\nThe live support chat and order tracking demo.\n\nflags:")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "socketio serve: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if *token == "" {
		*token = randomToken()
	}

	opts := demo.Options{AgentToken: *token}
	var redisAddr string // printed rather than the URL, which may hold a password
	if *redisURL != "" {
		rdb, err := dialRedis(ctx, *redisURL)
		if err != nil {
			fmt.Fprintf(stderr, "socketio serve: -redis: %v\n", err)
			return 1
		}
		defer rdb.Close()
		opts.Redis, redisAddr = rdb, rdb.Options().Addr
	}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	distDir, err := findClientDist(*dist)
	if err != nil {
		fmt.Fprintf(stderr, "socketio serve: %v\n", err)
		return 1
	}
	if distDir != "" {
		opts.ClientDist = os.DirFS(distDir)
		opts.ClientVersion = clientVersion(distDir)
	}
	app, err := demo.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "socketio serve: %v\n", err)
		return 1
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		_ = app.Close(context.Background())
		fmt.Fprintf(stderr, "socketio serve: %v\n", err)
		return 1
	}
	hs := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	base := "http://" + displayAddr(ln.Addr().(*net.TCPAddr))
	fmt.Fprintf(stdout, "socketio serve: listening on %s\n", base)
	fmt.Fprintf(stdout, "  customers:   %s/\n", base)
	fmt.Fprintf(stdout, "  agents:      %s/agent#token=%s\n", base, *token)
	fmt.Fprintf(stdout, "  orders:      %s/orders\n", base)
	fmt.Fprintf(stdout, "  agent token: %s\n", *token)
	if redisAddr != "" {
		fmt.Fprintf(stdout, "  cluster:     every instance on Redis %s is one app\n", redisAddr)
	}
	if distDir != "" {
		fmt.Fprintf(stdout, "  client:      %s/socket.io/socket.io.min.js from %s\n", base, distDir)
	} else {
		fmt.Fprintf(stdout, "  client:      %s not found (run scripts/setup.sh): the pages load %s\n", clientDistDir, demo.CDNClientURL)
	}

	status := 0
	select {
	case <-ctx.Done():
	case err := <-served:
		fmt.Fprintf(stderr, "socketio serve: %v\n", err)
		status = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// Close the app first: its clients get their connections closed and
	// reconnect to whatever serves the address next.
	if err := app.Close(sctx); err != nil {
		fmt.Fprintf(stderr, "socketio serve: close: %v\n", err)
	}
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if status == 0 {
		fmt.Fprintln(stdout, "socketio serve: stopped")
	}
	return status
}

// dialRedis connects to url and checks that Redis answers.
func dialRedis(ctx context.Context, url string) (*redis.Client, error) {
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	rdb := redis.NewClient(ro)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return rdb, nil
}

func randomToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// displayAddr is addr as a browser on this machine reaches it.
func displayAddr(addr *net.TCPAddr) string {
	if addr.IP.IsUnspecified() {
		return net.JoinHostPort("localhost", fmt.Sprint(addr.Port))
	}
	return addr.String()
}

// findClientDist returns dir when set (it must hold socket.io.min.js), else
// node_modules/socket.io-client/dist in the working directory or a parent,
// else "" (not installed).
func findClientDist(dir string) (string, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "socket.io.min.js")); err != nil {
			return "", fmt.Errorf("-client-dist: %w", err)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", nil
	}
	for {
		candidate := filepath.Join(wd, clientDistDir)
		if _, err := os.Stat(filepath.Join(candidate, "socket.io.min.js")); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(wd)
		if parent == wd {
			return "", nil
		}
		wd = parent
	}
}

// clientVersion reads the version of the npm package holding distDir, the
// ETag of the served files; "" (the default version) when unknown.
func clientVersion(distDir string) string {
	raw, err := fs.ReadFile(os.DirFS(filepath.Dir(distDir)), "package.json")
	if err != nil {
		return ""
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(raw, &pkg) != nil {
		return ""
	}
	return pkg.Version
}
