package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/seed9706/socketio/engineio"
	"github.com/seed9706/socketio/internal/taskqueue"
	"github.com/seed9706/socketio/parser"
)

// Manager is one Engine.IO connection to a server, shared by the sockets of
// every namespace, and its reconnection (the JS Manager).
type Manager struct {
	url      string // scheme://host/path/ of the Engine.IO endpoint
	opts     ManagerOptions
	engine   engineio.DialOptions
	log      *slog.Logger
	dispatch dispatcher

	mu            sync.Mutex
	conn          *engineConn        // the open connection, nil otherwise
	cancelDial    context.CancelFunc // set while an attempt is under way
	dialGen       uint64             // identifies the attempt under way
	sockets       map[string]*Socket
	backoff       backoff
	reconnecting  bool
	skipReconnect bool
	reconnectT    *time.Timer
	closed        bool // Close called
	handlers      managerHandlers
}

type managerHandlers struct {
	open             []func()
	close            []func(reason string)
	err              []func(error)
	ping             []func()
	reconnectAttempt []func(attempt int)
	reconnect        []func(attempt int)
	reconnectError   []func(error)
	reconnectFailed  []func()
}

// NewManager returns a Manager for the server at rawURL (http, https, ws or
// wss; the path of the URL is ignored, see ManagerOptions.Path; its query is
// sent). It connects when a socket does. opts may be nil.
func NewManager(rawURL string, opts *ManagerOptions) (*Manager, error) {
	o := opts.withDefaults()
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: bad URL: %w", err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return nil, fmt.Errorf("client: bad URL scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("client: URL %q has no host", rawURL)
	}
	q := u.Query()
	for k, vs := range o.Query {
		q[k] = vs
	}
	m := &Manager{
		url:  u.Scheme + "://" + u.Host + o.Path,
		opts: o,
		log:  o.Logger,
		engine: engineio.DialOptions{
			Query:           q,
			Header:          o.Header,
			HTTPClient:      o.HTTPClient,
			TLSConfig:       o.TLSConfig,
			Transports:      o.Transports,
			DisableUpgrade:  o.DisableUpgrade,
			RememberUpgrade: o.RememberUpgrade,
			Logger:          o.Logger,
		},
		sockets: make(map[string]*Socket),
		backoff: newBackoff(o.ReconnectionDelay, o.ReconnectionDelayMax, o.RandomizationFactor),
	}
	m.dispatch.Init(&taskqueue.Config{Max: o.MaxPendingEvents, Log: o.Logger, PanicMsg: "client: callback panicked"}, deliverEvent)
	return m, nil
}

// Socket returns the socket of namespace nsp ("" = "/"), creating it with
// opts (nil = defaults) on the first call. It is not connected: call Connect.
func (m *Manager) Socket(nsp string, opts *SocketOptions) *Socket {
	if nsp == "" {
		nsp = "/"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sockets[nsp]; ok {
		return s
	}
	s := newSocket(m, nsp, opts)
	m.sockets[nsp] = s
	return s
}

// Transport returns the transport in use ("polling" or "websocket"), or ""
// when not connected.
func (m *Manager) Transport() string {
	m.mu.Lock()
	c := m.conn
	m.mu.Unlock()
	if c == nil {
		return ""
	}
	return c.c.Transport()
}

// Close disconnects every socket and closes the connection for good:
// reconnection stops.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	socks := m.socketList()
	m.mu.Unlock()
	for _, s := range socks {
		s.Disconnect()
	}
	m.closeEngine()
}

func (m *Manager) socketList() []*Socket {
	socks := make([]*Socket, 0, len(m.sockets))
	for _, s := range m.sockets {
		socks = append(socks, s)
	}
	slices.SortFunc(socks, func(a, b *Socket) int { return cmp.Compare(a.created, b.created) })
	return socks
}

// OnOpen registers a callback for each successful connection.
func (m *Manager) OnOpen(fn func()) { m.on(func(h *managerHandlers) { h.open = append(h.open, fn) }) }

// OnClose registers a callback for each closed connection, with the reason.
func (m *Manager) OnClose(fn func(reason string)) {
	m.on(func(h *managerHandlers) { h.close = append(h.close, fn) })
}

// OnError registers a callback for connection errors (failed attempts).
func (m *Manager) OnError(fn func(error)) {
	m.on(func(h *managerHandlers) { h.err = append(h.err, fn) })
}

// OnPing registers a callback for each ping of the server.
func (m *Manager) OnPing(fn func()) { m.on(func(h *managerHandlers) { h.ping = append(h.ping, fn) }) }

// OnReconnectAttempt registers a callback for each reconnection attempt
// (numbered from 1).
func (m *Manager) OnReconnectAttempt(fn func(attempt int)) {
	m.on(func(h *managerHandlers) { h.reconnectAttempt = append(h.reconnectAttempt, fn) })
}

// OnReconnect registers a callback for a successful reconnection, with the
// number of attempts it took.
func (m *Manager) OnReconnect(fn func(attempt int)) {
	m.on(func(h *managerHandlers) { h.reconnect = append(h.reconnect, fn) })
}

// OnReconnectError registers a callback for each failed reconnection attempt.
func (m *Manager) OnReconnectError(fn func(error)) {
	m.on(func(h *managerHandlers) { h.reconnectError = append(h.reconnectError, fn) })
}

// OnReconnectFailed registers a callback for when ReconnectionAttempts
// attempts failed.
func (m *Manager) OnReconnectFailed(fn func()) {
	m.on(func(h *managerHandlers) { h.reconnectFailed = append(h.reconnectFailed, fn) })
}

func (m *Manager) on(add func(*managerHandlers)) {
	m.mu.Lock()
	add(&m.handlers)
	m.mu.Unlock()
}

// emitTo runs, on the callback goroutine, the handlers registered now. The
// caller must not hold m.mu.
func emitTo[T any](m *Manager, pick func(*managerHandlers) []T, call func(T)) {
	m.mu.Lock()
	fns := pick(&m.handlers)
	m.mu.Unlock()
	pushEach(&m.dispatch, fns, call)
}

// openLocked starts a connection attempt unless one is open or under way.
func (m *Manager) openLocked(reconnect bool) {
	if m.conn != nil || m.cancelDial != nil || m.closed {
		return
	}
	m.skipReconnect = false
	ctx, cancel := context.WithTimeout(context.Background(), m.opts.Timeout)
	m.cancelDial = cancel
	m.dialGen++
	go m.dial(ctx, cancel, m.dialGen, reconnect)
}

// dial runs one connection attempt.
func (m *Manager) dial(ctx context.Context, cancel context.CancelFunc, gen uint64, reconnect bool) {
	defer cancel()
	ec := &engineConn{m: m, ready: make(chan struct{})}
	opts := m.engine
	opts.OnMessage = ec.onMessage
	opts.OnClose = ec.onClose
	opts.OnPing = func() { emitTo(m, func(h *managerHandlers) []func() { return h.ping }, func(fn func()) { fn() }) }
	c, err := engineio.Dial(ctx, m.url, &opts)
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %w", ErrConnectTimeout, err)
	}
	m.mu.Lock()
	// closeEngine moves dialGen on when it cancels the attempt.
	current := m.dialGen == gen && !m.closed
	if current {
		m.cancelDial = nil
	}
	if err != nil {
		m.mu.Unlock()
		if current {
			m.onOpenError(err, reconnect)
		}
		return
	}
	ec.c = c
	m.dispatch.WakeOn(c.Context())
	close(ec.ready)
	if !current {
		m.mu.Unlock()
		c.Close()
		return
	}
	m.conn = ec
	socks := m.socketList()
	m.mu.Unlock()
	m.log.Debug("client: open", "sid", c.ID(), "transport", c.Transport())

	emitTo(m, func(h *managerHandlers) []func() { return h.open }, func(fn func()) { fn() })
	for _, s := range socks {
		s.onOpen(ec)
	}
	if reconnect {
		m.mu.Lock()
		attempt := m.backoff.attempts
		m.reconnecting = false
		m.backoff.reset()
		m.mu.Unlock()
		emitTo(m, func(h *managerHandlers) []func(int) { return h.reconnect }, func(fn func(int)) { fn(attempt) })
	}
}

// onOpenError reports a failed attempt and schedules the next one.
func (m *Manager) onOpenError(err error, reconnect bool) {
	m.log.Debug("client: connection attempt failed", "err", err)
	emitTo(m, func(h *managerHandlers) []func(error) { return h.err }, func(fn func(error)) { fn(err) })
	m.mu.Lock()
	socks := m.socketList()
	m.mu.Unlock()
	for _, s := range socks {
		s.onManagerError(err)
	}
	m.mu.Lock()
	if reconnect {
		m.reconnecting = false
	} else if m.reconnecting || m.opts.DisableReconnection || m.backoff.attempts != 0 {
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	m.reconnect()
	if reconnect {
		emitTo(m, func(h *managerHandlers) []func(error) { return h.reconnectError }, func(fn func(error)) { fn(err) })
	}
}

// reconnect schedules the next attempt with the backoff delay, or gives up.
func (m *Manager) reconnect() {
	m.mu.Lock()
	if m.reconnecting || m.skipReconnect || m.closed || m.opts.DisableReconnection {
		m.mu.Unlock()
		return
	}
	if m.opts.ReconnectionAttempts > 0 && m.backoff.attempts >= m.opts.ReconnectionAttempts {
		m.backoff.reset()
		socks := m.socketList()
		m.mu.Unlock()
		m.log.Debug("client: reconnection failed")
		for _, s := range socks {
			s.hookReconnectFailed()
		}
		emitTo(m, func(h *managerHandlers) []func() { return h.reconnectFailed }, func(fn func()) { fn() })
		return
	}
	delay := m.backoff.duration()
	m.reconnecting = true
	m.reconnectT = time.AfterFunc(delay, m.attemptReconnect)
	m.mu.Unlock()
	m.log.Debug("client: reconnecting", "delay", delay)
}

func (m *Manager) attemptReconnect() {
	m.mu.Lock()
	if m.skipReconnect || m.closed {
		m.mu.Unlock()
		return
	}
	attempt := m.backoff.attempts
	m.mu.Unlock()
	emitTo(m, func(h *managerHandlers) []func(int) { return h.reconnectAttempt }, func(fn func(int)) { fn(attempt) })
	m.mu.Lock()
	if !m.skipReconnect {
		m.openLocked(true)
	}
	m.mu.Unlock()
}

// onEngineClose handles the end of connection ec.
func (m *Manager) onEngineClose(ec *engineConn, reason string) {
	m.mu.Lock()
	if m.conn != ec {
		m.mu.Unlock()
		return
	}
	m.conn = nil
	m.backoff.reset()
	socks := m.socketList()
	m.mu.Unlock()
	m.log.Debug("client: close", "reason", reason)
	emitTo(m, func(h *managerHandlers) []func(string) { return h.close }, func(fn func(string)) { fn(reason) })
	for _, s := range socks {
		s.onClose(reason)
	}
	m.reconnect()
}

// destroyed is called when socket s stops being active: without an active
// socket left, the connection is closed (JS Manager._destroy).
func (m *Manager) destroyed() {
	m.mu.Lock()
	socks := m.socketList()
	m.mu.Unlock()
	for _, s := range socks {
		if s.Active() {
			return
		}
	}
	m.closeEngine()
}

// closeEngine closes the connection without reconnecting ("forced close").
func (m *Manager) closeEngine() {
	m.mu.Lock()
	m.skipReconnect = true
	m.reconnecting = false
	if m.reconnectT != nil {
		m.reconnectT.Stop()
	}
	if m.cancelDial != nil {
		m.cancelDial()
		m.cancelDial = nil
		m.dialGen++
	}
	ec := m.conn
	m.mu.Unlock()
	if ec != nil {
		m.onEngineClose(ec, ReasonForcedClose)
		ec.c.Close()
	}
}

// engineConn is one Engine.IO connection of the Manager and its decoder.
type engineConn struct {
	m     *Manager
	c     *engineio.ClientConn
	ready chan struct{} // closed once c is set
	dec   parser.Decoder
}

// send writes p and its attachments.
func (ec *engineConn) send(p *parser.Packet) error {
	msgs := make([]engineio.Message, 1, 1+len(p.Attachments))
	msgs[0] = engineio.Message{Data: p.AppendText(make([]byte, 0, p.TextLen()))}
	for _, a := range p.Attachments {
		msgs = append(msgs, engineio.Message{Data: a, Binary: true})
	}
	return ec.c.Send(msgs...)
}

func (ec *engineConn) onMessage(msg engineio.Message) {
	<-ec.ready
	p, err := ec.dec.Add(msg.Data, msg.Binary)
	if err != nil {
		ec.m.log.Debug("client: parse error", "err", err)
		ec.m.onEngineClose(ec, ReasonParseError)
		ec.c.Close()
		return
	}
	if p == nil {
		return
	}
	ec.m.mu.Lock()
	s := ec.m.sockets[p.Namespace]
	ec.m.mu.Unlock()
	if s != nil {
		s.onPacket(ec, p)
	}
}

func (ec *engineConn) onClose(reason string, _ error) {
	<-ec.ready
	ec.m.onEngineClose(ec, reason)
}
