package engineio

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client defaults.
const (
	DefaultMaxMessageSize     = 100 << 20
	DefaultClientQueuePackets = 4096
	DefaultClientQueueBytes   = 32 << 20
	// probeTimeout bounds the WebSocket probe of an upgrade (the server's
	// default upgradeTimeout).
	probeTimeout = DefaultUpgradeTimeout
	// closeTimeout bounds the close POST of a polling connection.
	closeTimeout = 5 * time.Second
)

// Client errors.
var (
	// ErrMessageTooBig: a polling response or WebSocket message exceeded
	// DialOptions.MaxMessageSize.
	ErrMessageTooBig = errors.New("engineio: message too big")
	// ErrBadHandshake: the server's first packet was not a valid open packet.
	ErrBadHandshake = errors.New("engineio: bad handshake")
	// ErrNoTransports: DialOptions.Transports holds no known transport.
	ErrNoTransports = errors.New("engineio: no transports available")
)

// priorWebSocketSuccess remembers, for the whole process as in JS, whether
// the last connection ended up on WebSocket (used by RememberUpgrade).
var priorWebSocketSuccess atomic.Bool

// DialOptions configures Dial. A nil *DialOptions, and every zero field,
// means the default of the official JavaScript client (engine.io-client).
type DialOptions struct {
	// Path is the endpoint path used when the dialed URL has none ("" or
	// "/"). Default "/engine.io/". A trailing slash is added when missing.
	Path string
	// Query holds extra query parameters sent on every request, added to
	// those of the URL. EIO, transport, sid and t are set by the client.
	Query url.Values
	// Header holds extra headers sent on every polling request and on the
	// WebSocket handshake. Default none.
	Header http.Header
	// HTTPClient sends the polling requests. Default: a client of its own,
	// using TLSConfig, whose idle connections are closed with the connection.
	HTTPClient *http.Client
	// TLSConfig is used for https and wss. Default nil (system roots).
	TLSConfig *tls.Config
	// Transports lists the transports in order: the first one opens the
	// connection, the others are upgrade targets. Default {"polling","websocket"}.
	Transports []string
	// DisableUpgrade keeps the first transport (JS upgrade=false). Default false.
	DisableUpgrade bool
	// RememberUpgrade opens with WebSocket directly when the previous
	// connection of this process succeeded on WebSocket. Default false.
	RememberUpgrade bool
	// MaxMessageSize bounds a polling response body and a WebSocket message
	// received; more closes the connection. Default 100 MiB.
	MaxMessageSize int64
	// MaxQueuePackets and MaxQueueBytes bound the outbound queue; Send fails
	// with ErrQueueFull past them. Defaults 4096 packets and 32 MiB.
	MaxQueuePackets int
	MaxQueueBytes   int
	// OnMessage receives every message, in order, never concurrently, from
	// a goroutine of the connection. Blocking it delays reading (and so the
	// heartbeat). Default: messages are dropped.
	OnMessage func(Message)
	// OnPing is called for each ping of the server, on the goroutine and
	// with the guarantees of OnMessage. Default none.
	OnPing func()
	// OnClose is called once, after the last OnMessage, with the JS reason
	// ("transport close", "transport error", "ping timeout", "parse error",
	// "forced close" after Close) and its cause, if any.
	OnClose func(reason string, err error)
	// Logger receives debug logs. Default silent.
	Logger *slog.Logger
}

func (o *DialOptions) withDefaults() (DialOptions, error) {
	var r DialOptions
	if o != nil {
		r = *o
	}
	if r.Path == "" {
		r.Path = DefaultPath
	}
	if !strings.HasSuffix(r.Path, "/") {
		r.Path += "/"
	}
	if len(r.Transports) == 0 {
		r.Transports = []string{transportPolling, transportWebSocket}
	}
	var ts []string
	for _, t := range r.Transports {
		if (t == transportPolling || t == transportWebSocket) && !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return r, ErrNoTransports
	}
	r.Transports = ts
	if r.MaxMessageSize <= 0 {
		r.MaxMessageSize = DefaultMaxMessageSize
	}
	if r.MaxQueuePackets <= 0 {
		r.MaxQueuePackets = DefaultClientQueuePackets
	}
	if r.MaxQueueBytes <= 0 {
		r.MaxQueueBytes = DefaultClientQueueBytes
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// ClientConn is the client side of one Engine.IO session.
type ClientConn struct {
	opts    DialOptions
	log     *slog.Logger
	hc      *http.Client
	ownHC   bool
	pollURL string // scheme://host/path?<query>&EIO=4&transport=polling
	wsURL   string // same for websocket, without sid

	sid          string
	upgrades     []string
	pingInterval time.Duration
	pingTimeout  time.Duration
	maxPayload   int

	ctx    context.Context // canceled when the connection closes: aborts requests
	cancel context.CancelFunc

	mu         sync.Mutex
	changed    sync.Cond // signalled when reading, writing or closed change
	closing    bool      // Close called: Send refused
	closed     bool      // close decided
	notified   bool      // OnClose called (or being called)
	reason     string
	cause      error
	transport  string
	queue      []Packet
	queueBytes int
	writing    bool      // a writer goroutine runs
	reading    bool      // a reader goroutine (poll loop or WebSocket read loop) runs
	paused     bool      // polling paused for the upgrade
	ws         *clientWS // the WebSocket transport, once in use
	probe      *clientWS // the WebSocket being probed
	pingGen    uint64
	pingTimer  *time.Timer

	wg   sync.WaitGroup // goroutines of the connection
	done chan struct{}
}

// openData is the JSON of the open packet.
type openData struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// Dial opens an Engine.IO connection to rawURL (http, https, ws or wss) with
// the first transport of opts.Transports, then, unless disabled, probes an
// upgrade to WebSocket in the background. ctx bounds the handshake only.
// opts may be nil.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*ClientConn, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &ClientConn{opts: o, log: o.Logger, hc: o.HTTPClient, done: make(chan struct{})}
	c.changed.L = &c.mu
	if err := c.buildURLs(rawURL); err != nil {
		return nil, err
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     o.TLSConfig,
			MaxIdleConnsPerHost: 2,
		}}
		c.ownHC = true
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())

	first := o.Transports[0]
	if o.RememberUpgrade && priorWebSocketSuccess.Load() && slices.Contains(o.Transports, transportWebSocket) {
		first = transportWebSocket
	}
	var rest []Packet
	if first == transportWebSocket {
		err = c.openWebSocket(ctx)
	} else {
		rest, err = c.openPolling(ctx)
	}
	if err != nil {
		c.cancel()
		if c.ownHC {
			c.hc.CloseIdleConnections()
		}
		return nil, err
	}
	priorWebSocketSuccess.Store(first == transportWebSocket)

	c.mu.Lock()
	c.transport = first
	c.reading = true
	c.resetPingLocked()
	c.wg.Add(1)
	if first == transportWebSocket {
		go c.wsReadLoop(c.ws)
	} else {
		go c.pollLoop(rest)
		if !o.DisableUpgrade && slices.Contains(c.upgrades, transportWebSocket) && slices.Contains(o.Transports, transportWebSocket) {
			c.wg.Add(1)
			go c.upgrade()
		}
	}
	c.mu.Unlock()
	c.log.Debug("engineio: client open", "sid", c.sid, "transport", first)
	return c, nil
}

// buildURLs derives the polling and WebSocket endpoints from rawURL.
func (c *ClientConn) buildURLs(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("engineio: bad URL: %w", err)
	}
	var secure bool
	switch u.Scheme {
	case "http", "ws":
	case "https", "wss":
		secure = true
	default:
		return fmt.Errorf("engineio: bad URL scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("engineio: URL %q has no host", rawURL)
	}
	path := u.EscapedPath()
	if path == "" || path == "/" {
		path = c.opts.Path
	} else if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	q := u.Query()
	for k, vs := range c.opts.Query {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	for _, k := range []string{"EIO", "transport", "sid", "t"} {
		q.Del(k)
	}
	query := q.Encode()
	if query != "" {
		query += "&"
	}
	query += "EIO=4&transport="
	httpScheme, wsScheme := "http", "ws"
	if secure {
		httpScheme, wsScheme = "https", "wss"
	}
	c.pollURL = httpScheme + "://" + u.Host + path + "?" + query + transportPolling
	c.wsURL = wsScheme + "://" + u.Host + path + "?" + query + transportWebSocket
	return nil
}

// parseOpen validates the open packet and records its parameters.
func (c *ClientConn) parseOpen(p Packet) error {
	if p.Type != PacketOpen {
		return fmt.Errorf("%w: first packet is %v", ErrBadHandshake, p.Type)
	}
	var d openData
	if err := json.Unmarshal(p.Data, &d); err != nil {
		return fmt.Errorf("%w: %v", ErrBadHandshake, err)
	}
	// Timers beyond 2^31 ms do not work in JS either; refusing them here
	// also keeps the durations from overflowing.
	if d.SID == "" || d.PingInterval <= 0 || d.PingTimeout <= 0 || d.PingInterval > math.MaxInt32 || d.PingTimeout > math.MaxInt32 {
		return fmt.Errorf("%w: %s", ErrBadHandshake, p.Data)
	}
	c.sid, c.upgrades = d.SID, d.Upgrades
	c.pingInterval = time.Duration(d.PingInterval) * time.Millisecond
	c.pingTimeout = time.Duration(d.PingTimeout) * time.Millisecond
	c.maxPayload = d.MaxPayload
	return nil
}

// ID returns the session id given by the server.
func (c *ClientConn) ID() string { return c.sid }

// Transport returns the transport in use: "polling" or "websocket".
func (c *ClientConn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// PingInterval and PingTimeout return the server's heartbeat parameters.
func (c *ClientConn) PingInterval() time.Duration { return c.pingInterval }

// PingTimeout returns the server's ping timeout.
func (c *ClientConn) PingTimeout() time.Duration { return c.pingTimeout }

// MaxPayload returns the server's maxPayload (bytes per polling POST).
func (c *ClientConn) MaxPayload() int { return c.maxPayload }

// Context is canceled as soon as the connection closes (Close, a transport
// error, a ping timeout...), before OnClose is called: an OnMessage that
// waits can watch it to give up, since OnClose waits for OnMessage.
func (c *ClientConn) Context() context.Context { return c.ctx }

// Done is closed once the connection is closed, OnClose has returned and
// every goroutine of the connection has ended.
func (c *ClientConn) Done() <-chan struct{} { return c.done }

// Send queues messages, in order, without blocking. It fails with ErrClosed
// once the connection is closing and with ErrQueueFull (nothing queued) when
// the bounds of the outbound queue would be exceeded.
func (c *ClientConn) Send(msgs ...Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.closed {
		return ErrClosed
	}
	n := 0
	for _, m := range msgs {
		n += len(m.Data)
	}
	if len(c.queue)+len(msgs) > c.opts.MaxQueuePackets || c.queueBytes+n > c.opts.MaxQueueBytes {
		return ErrQueueFull
	}
	for _, m := range msgs {
		c.queue = append(c.queue, Packet{Type: PacketMessage, Data: m.Data, Binary: m.Binary})
	}
	c.queueBytes += n
	c.startWriterLocked()
	return nil
}

// Close flushes what is queued, tells the server (a close packet on polling,
// a close frame on WebSocket) and closes the connection with reason "forced
// close". It does not wait for the goroutines: see Done.
func (c *ClientConn) Close() error {
	c.mu.Lock()
	if c.closing || c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	expired := false // the queue flush is bounded too: the server may be gone
	t := time.AfterFunc(closeTimeout, func() {
		c.mu.Lock()
		expired = true
		c.changed.Broadcast()
		c.mu.Unlock()
	})
	// Flush the queue, including across an upgrade under way (the writer
	// resumes on the WebSocket).
	for (c.writing || len(c.queue) > 0) && !c.closed && !expired {
		c.changed.Wait()
	}
	t.Stop()
	polling := !c.closed && c.transport == transportPolling && !c.paused
	c.mu.Unlock()
	if polling {
		ctx, cancel := context.WithTimeout(c.ctx, closeTimeout)
		if err := c.post(ctx, []Packet{{Type: PacketClose}}); err != nil {
			c.log.Debug("engineio: close packet not sent", "sid", c.sid, "err", err)
		}
		cancel()
	}
	c.fail(ReasonForcedClose, nil)
	return nil
}

// fail closes the connection at once with reason (the first call wins).
func (c *ClientConn) fail(reason string, cause error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.reason, c.cause = true, reason, cause
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	c.pingGen++
	c.queue, c.queueBytes = nil, 0
	ws, probe := c.ws, c.probe
	notify := c.takeNotifyLocked()
	c.changed.Broadcast()
	c.mu.Unlock()
	c.log.Debug("engineio: client closed", "sid", c.sid, "reason", reason, "err", cause)
	c.cancel()
	if ws != nil {
		ws.close(reason == ReasonForcedClose)
	}
	if probe != nil {
		probe.close(false)
	}
	if notify {
		c.notifyClose()
	}
}

// takeNotifyLocked reports whether the caller must call OnClose: the
// connection is closed, no reader can still deliver a message, and nobody
// did it yet.
func (c *ClientConn) takeNotifyLocked() bool {
	if !c.closed || c.reading || c.notified {
		return false
	}
	c.notified = true
	return true
}

// readerDone is called by a reader goroutine when it stops.
func (c *ClientConn) readerDone() {
	c.mu.Lock()
	c.reading = false
	notify := c.takeNotifyLocked()
	c.changed.Broadcast()
	c.mu.Unlock()
	if notify {
		c.notifyClose()
	}
}

func (c *ClientConn) notifyClose() {
	c.mu.Lock()
	reason, cause := c.reason, c.cause
	c.mu.Unlock()
	if c.opts.OnClose != nil {
		c.opts.OnClose(reason, cause)
	}
	go func() {
		c.wg.Wait()
		if c.ownHC {
			c.hc.CloseIdleConnections()
		}
		close(c.done)
	}()
}

// resetPingLocked (re)arms the heartbeat: the server is dead when no ping
// arrives within pingInterval + pingTimeout.
func (c *ClientConn) resetPingLocked() {
	c.pingGen++
	gen := c.pingGen
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	c.pingTimer = time.AfterFunc(c.pingInterval+c.pingTimeout, func() {
		c.mu.Lock()
		stale := gen != c.pingGen
		c.mu.Unlock()
		if !stale {
			c.fail(ReasonPingTimeout, nil)
		}
	})
}

// onPacket handles one received packet on the reader goroutine and reports
// whether reading goes on.
func (c *ClientConn) onPacket(p Packet) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	switch p.Type {
	case PacketPing:
		c.resetPingLocked()
		if !c.closing {
			c.queue = append(c.queue, Packet{Type: PacketPong, Data: p.Data})
			c.startWriterLocked()
		}
		c.mu.Unlock()
		if c.opts.OnPing != nil {
			c.opts.OnPing()
		}
		return true
	case PacketClose:
		c.mu.Unlock()
		c.fail(ReasonTransportClose, nil)
		return false
	case PacketMessage:
		c.mu.Unlock()
		if c.opts.OnMessage != nil {
			c.opts.OnMessage(Message{Data: p.Data, Binary: p.Binary})
		}
		return true
	}
	c.mu.Unlock()
	return true
}

func (c *ClientConn) startWriterLocked() {
	if c.writing || c.closed || c.paused || len(c.queue) == 0 {
		return
	}
	c.writing = true
	c.wg.Add(1)
	go c.writeLoop()
}

// writeLoop sends the queue, one POST batch or one WebSocket write at a
// time, until it is empty.
func (c *ClientConn) writeLoop() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		if c.closed || c.paused || len(c.queue) == 0 {
			c.writing = false
			c.changed.Broadcast()
			c.mu.Unlock()
			return
		}
		ws := c.ws
		batch := c.takeBatchLocked(ws == nil)
		c.mu.Unlock()
		var err error
		if ws != nil {
			err = ws.writePackets(batch)
		} else {
			err = c.post(c.ctx, batch)
		}
		if err != nil {
			c.mu.Lock()
			c.writing = false
			c.changed.Broadcast()
			c.mu.Unlock()
			c.fail(ReasonTransportError, err)
			return
		}
	}
}

// takeBatchLocked removes the next batch from the queue: everything for
// WebSocket; for polling, as many packets as fit in the server's maxPayload
// (at least one), sized as engine.io-client does.
func (c *ClientConn) takeBatchLocked(polling bool) []Packet {
	n := len(c.queue)
	if polling && c.maxPayload > 0 {
		size := 1
		for i, p := range c.queue {
			size += EncodedLen(p)
			if i > 0 {
				size += 2
				if size > c.maxPayload {
					n = i
					break
				}
			}
		}
	}
	batch := slices.Clone(c.queue[:n])
	for _, p := range batch {
		if p.Type == PacketMessage {
			c.queueBytes -= len(p.Data)
		}
	}
	clear(c.queue[:n])
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	return batch
}

// randomString returns 8 URL-safe random characters for the "t" cache buster.
func randomString() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
	var b [8]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[b[i]&63]
	}
	return string(b[:])
}
