package client

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of the official client, and of this client's bounds.
const (
	DefaultPath                 = "/socket.io/"
	DefaultReconnectionDelay    = time.Second
	DefaultReconnectionDelayMax = 5 * time.Second
	DefaultRandomizationFactor  = 0.5
	DefaultTimeout              = 20 * time.Second
	DefaultMaxPendingEvents     = 1024
	DefaultMaxBufferedPackets   = 4096
)

// Options configures Connect: the Manager's options and the Socket's.
type Options struct {
	ManagerOptions
	SocketOptions
}

// ManagerOptions configures a Manager. A nil *ManagerOptions, and every zero
// field, means the default of the official JavaScript client.
type ManagerOptions struct {
	// Path is the Engine.IO endpoint path. Default "/socket.io/"; a trailing
	// slash is added when missing.
	Path string
	// Query holds extra query parameters sent on every request. Default none.
	Query url.Values
	// Header holds extra headers for polling requests and the WebSocket
	// handshake. Default none.
	Header http.Header
	// HTTPClient sends the polling requests. Default: one per connection.
	HTTPClient *http.Client
	// TLSConfig is used for https and wss. Default nil (system roots).
	TLSConfig *tls.Config
	// Transports in order of use, "polling" and "websocket": the first opens
	// the connection, the next is the upgrade. Default {"polling","websocket"}.
	Transports []string
	// DisableUpgrade stays on the first transport (JS upgrade=false). Default false.
	DisableUpgrade bool
	// RememberUpgrade opens with WebSocket when the previous connection of
	// this process succeeded on WebSocket. Default false.
	RememberUpgrade bool

	// DisableReconnection turns automatic reconnection off (JS
	// reconnection=false). Default false: reconnect.
	DisableReconnection bool
	// ReconnectionAttempts bounds the reconnection attempts. Default 0: unlimited.
	ReconnectionAttempts int
	// ReconnectionDelay is the first delay between attempts. Default 1s.
	ReconnectionDelay time.Duration
	// ReconnectionDelayMax caps the delay. Default 5s.
	ReconnectionDelayMax time.Duration
	// RandomizationFactor is the jitter of each delay (0.5 = ±50%).
	// Default 0.5; a negative value means no jitter.
	RandomizationFactor float64
	// Timeout bounds each connection attempt (JS timeout). Default 20s.
	Timeout time.Duration

	// MaxPendingEvents bounds the received events waiting for their
	// handlers; when full, reading waits. Default 1024.
	MaxPendingEvents int
	// Logger receives debug logs. Default silent.
	Logger *slog.Logger
}

// SocketOptions configures a Socket. A nil *SocketOptions, and every zero
// field, means the default of the official JavaScript client.
type SocketOptions struct {
	// Auth is sent in the CONNECT packet; it must marshal to a JSON object.
	// Default none.
	Auth any
	// AuthFunc, when set, is called (from the callback goroutine) before
	// every connection and reconnection of the socket, so credentials can be
	// refreshed; its result replaces Auth. An error is reported to
	// OnConnectError and the socket gives up, as after a refusal.
	AuthFunc func() (any, error)
	// AckTimeout is the default timeout of EmitWithAck and of each try of a
	// retried emit. Default 0: none (the context decides).
	AckTimeout time.Duration
	// Retries makes every non-volatile emit at-least-once: emits are queued,
	// sent one at a time with an acknowledgement and retried up to Retries
	// times (after AckTimeout or a disconnection). Default 0: at-most-once.
	Retries int
	// MaxBufferedPackets bounds the packets emitted while disconnected (and
	// those queued for retries), and the events received before the
	// connection is acknowledged. Default 4096.
	MaxBufferedPackets int
}

func (o *ManagerOptions) withDefaults() ManagerOptions {
	var r ManagerOptions
	if o != nil {
		r = *o
	}
	if r.Path == "" {
		r.Path = DefaultPath
	}
	if !strings.HasSuffix(r.Path, "/") {
		r.Path += "/"
	}
	if r.ReconnectionDelay <= 0 {
		r.ReconnectionDelay = DefaultReconnectionDelay
	}
	if r.ReconnectionDelayMax <= 0 {
		r.ReconnectionDelayMax = DefaultReconnectionDelayMax
	}
	switch {
	case r.RandomizationFactor == 0:
		r.RandomizationFactor = DefaultRandomizationFactor
	case r.RandomizationFactor < 0:
		r.RandomizationFactor = 0
	}
	if r.Timeout <= 0 {
		r.Timeout = DefaultTimeout
	}
	if r.MaxPendingEvents <= 0 {
		r.MaxPendingEvents = DefaultMaxPendingEvents
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return r
}

func (o *SocketOptions) withDefaults() SocketOptions {
	var r SocketOptions
	if o != nil {
		r = *o
	}
	if r.MaxBufferedPackets <= 0 {
		r.MaxBufferedPackets = DefaultMaxBufferedPackets
	}
	if r.Retries < 0 {
		r.Retries = 0
	}
	return r
}
