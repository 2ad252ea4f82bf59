package demo

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/seed9706/socketio/adapter/redisadapter"
	"github.com/seed9706/socketio/socketio"
)

// Defaults of Options.
const (
	DefaultOrderStep      = 4 * time.Second
	DefaultReconnectGrace = 2 * time.Minute
)

// CDNClientURL is where the pages load the official client from when the
// server has no copy of it: the same version as package.json pins.
const CDNClientURL = "https://cdn.socket.io/" + socketio.DefaultClientVersion + "/socket.io.min.js"

//go:embed web
var webFiles embed.FS

// Options configure the app. AgentToken is required; every other zero
// field means its default.
type Options struct {
	// AgentToken is the secret agents sign in with (auth.token). Required.
	AgentToken string
	// ClientDist holds the official browser client (socket.io-client's
	// dist/ directory), served at /socket.io/socket.io.min.js. Default nil:
	// the pages load it from CDNClientURL instead.
	ClientDist fs.FS
	// ClientVersion is the version of ClientDist, its ETag. Default
	// socketio.DefaultClientVersion.
	ClientVersion string
	// OrderStep is how long a simulated order stays in each status. Default 4s.
	OrderStep time.Duration
	// ReconnectGrace is how long a ticket survives while its customer is
	// offline. Default 2 minutes.
	ReconnectGrace time.Duration
	// Redis, when set, makes several servers one app: rooms and broadcasts
	// go through the Redis adapter, tickets and orders are kept in Redis.
	// The app does not close it. Default nil: one server, everything in
	// memory.
	Redis redis.UniversalClient
	// Logger receives the server's logs. Default silent.
	Logger *slog.Logger
}

// App is the demo: the pages and the Socket.IO server, an http.Handler.
type App struct {
	srv     *socketio.Server
	support *socketio.Namespace
	agents  *socketio.Namespace
	orders  *socketio.Namespace
	desk    ticketStore
	tracker *tracker
	token   string
	mux     *http.ServeMux

	queueMu sync.Mutex // orders queue snapshots with their broadcasts
}

// New builds the app.
func New(opts Options) (*App, error) {
	if opts.AgentToken == "" {
		return nil, errors.New("demo: an agent token is required")
	}
	if opts.OrderStep <= 0 {
		opts.OrderStep = DefaultOrderStep
	}
	if opts.ReconnectGrace <= 0 {
		opts.ReconnectGrace = DefaultReconnectGrace
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	so := &socketio.ServerOptions{Logger: opts.Logger}
	if opts.ClientDist != nil {
		so.ServeClient = &socketio.ServeClientOptions{FS: opts.ClientDist, Version: opts.ClientVersion}
	}
	var clock orderClock = newMemoryClock(orderLife(opts.OrderStep))
	if opts.Redis != nil {
		so.Adapter = redisadapter.New(opts.Redis, &redisadapter.Options{Logger: opts.Logger})
		clock = redisClock{opts.Redis, orderLife(opts.OrderStep), opts.Logger}
	}
	a := &App{srv: socketio.NewServer(so), token: opts.AgentToken}
	if opts.Redis != nil {
		a.desk = newRedisDesk(opts.Redis, opts.ReconnectGrace, a.ticketExpired, opts.Logger)
	} else {
		a.desk = newDesk(opts.ReconnectGrace, a.ticketExpired)
	}
	// Every server pushes the moves to its own clients (Local): in a
	// cluster, each tracks the orders its clients follow.
	a.tracker = newTracker(opts.OrderStep, clock, func(st OrderStatus) {
		_ = a.orders.To(orderRoom(st.OrderID)).Local().Emit("order:status", st)
	})
	a.support = a.srv.Of("/support")
	a.agents = a.srv.Of("/agents")
	a.orders = a.srv.Of("/orders")
	a.support.OnConnection(a.onCustomer)
	a.agents.Use(a.authenticateAgent)
	a.agents.OnConnection(a.onAgent)
	a.orders.OnConnection(a.onOrders)
	a.routes()
	return a, nil
}

func (a *App) routes() {
	web, _ := fs.Sub(webFiles, "web")
	static := http.StripPrefix("/static/", http.FileServerFS(web))
	a.mux = http.NewServeMux()
	a.mux.Handle("/socket.io/", a.srv)
	a.mux.Handle("GET /static/", static)
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			http.ServeFileFS(w, r, web, name)
		}
	}
	a.mux.Handle("GET /{$}", page("customer.html"))
	a.mux.Handle("GET /agent", page("agent.html"))
	a.mux.Handle("GET /orders", page("orders.html"))
}

// ServeHTTP serves the pages, their assets and Socket.IO.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if !strings.HasPrefix(r.URL.Path, "/socket.io/") {
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' https://cdn.socket.io; "+
			"connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	}
	a.mux.ServeHTTP(w, r)
}

// Close stops the simulations and closes the Socket.IO server: clients see
// the connection drop and reconnect to the next server on the address.
func (a *App) Close(ctx context.Context) error {
	a.desk.shutdown()
	a.tracker.shutdown()
	return a.srv.Close(ctx)
}

func ticketRoom(id string) string { return "ticket:" + id }
func orderRoom(id string) string  { return "order:" + id }

// cleanText trims s and checks it holds 1 to max characters.
func cleanText(s string, max int) (string, bool) {
	s = strings.TrimSpace(s)
	return s, s != "" && utf8.RuneCountInString(s) <= max
}

// errorAck is the acknowledgement of a refused request.
type errorAck struct {
	Error string `json:"error"`
}

// broadcastQueue sends the queue to every agent.
func (a *App) broadcastQueue() {
	a.queueMu.Lock()
	defer a.queueMu.Unlock()
	if q := a.desk.queue(); q != nil {
		_ = a.agents.Emit("queue", q)
	}
}

// authenticateAgent is the /agents middleware: auth.token must be the agent
// token.
func (a *App) authenticateAgent(s *socketio.Socket) error {
	var auth struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(s.Handshake().Auth, &auth)
	if subtle.ConstantTimeCompare([]byte(auth.Token), []byte(a.token)) != 1 {
		return &socketio.ConnectError{Message: "unauthorized"}
	}
	return nil
}

func (a *App) onOrders(s *socketio.Socket) {
	s.On("order:track", func(e *socketio.Event) {
		var req struct {
			OrderID string `json:"orderId"`
		}
		if err := e.Args(&req); err != nil {
			_ = e.Ack(errorAck{"bad request: " + err.Error()})
			return
		}
		if !validOrderID(req.OrderID) {
			_ = e.Ack(errorAck{errBadOrderID.Error()})
			return
		}
		s.Join(orderRoom(req.OrderID)) // before tracking, not to miss the first move
		st, err := a.tracker.track(req.OrderID)
		if err != nil {
			s.Leave(orderRoom(req.OrderID))
			_ = e.Ack(errorAck{err.Error()})
			return
		}
		_ = e.Ack(st)
	})
}
