package socketio

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/engineio"
)

// Defaults of the official server, and of this server's bounds.
const (
	DefaultPath             = "/socket.io/"
	DefaultConnectTimeout   = 45 * time.Second
	DefaultMaxAttachments   = 10
	DefaultMaxPendingEvents = 1024
	DefaultMaxPendingAcks   = 4096
)

// ServerOptions configures a Server. A nil *ServerOptions, and every zero
// field, means the default of the official JavaScript server.
type ServerOptions struct {
	// Path is the URL path prefix served. Default "/socket.io/"; a trailing
	// slash is added when missing.
	Path string
	// ConnectTimeout closes a connection that joined no namespace within it,
	// with reason "forced server close". Default 45s.
	ConnectTimeout time.Duration
	// Adapter creates the adapter of each namespace. Default
	// adapter.NewInMemory, or adapter.NewSessionAware when
	// ConnectionStateRecovery is set.
	Adapter adapter.Factory
	// ConnectionStateRecovery, when set, lets a client that lost its
	// connection get back its socket id, rooms, data and the events it
	// missed. Default nil (off).
	ConnectionStateRecovery *ConnectionStateRecovery
	// CleanupEmptyChildNamespaces removes a child of a dynamic namespace when
	// its last socket leaves. Default false.
	CleanupEmptyChildNamespaces bool
	// MaxAttachments bounds the binary attachments of one packet. Default 10.
	MaxAttachments int
	// MaxPendingEvents bounds the events received by one socket and not yet
	// handled (when full, reading from that client waits for its handlers),
	// and the CONNECT packets of one connection not yet answered (past it,
	// the connection is closed). Default 1024.
	MaxPendingEvents int
	// MaxPendingAcks bounds the acknowledgements one socket may owe the
	// server; past it EmitWithAck fails and broadcasts with acks skip the
	// socket. Default 4096.
	MaxPendingAcks int

	// Engine.IO options, see engineio.ServerOptions for each.

	// PingInterval is the delay between server pings. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long a pong may take after a ping. Default 20s.
	PingTimeout time.Duration
	// UpgradeTimeout bounds a polling -> WebSocket upgrade. Default 10s.
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize is the largest message accepted. Default 1e6.
	MaxHTTPBufferSize int64
	// Transports lists the enabled transports. Default {"polling","websocket"}.
	Transports []string
	// DisableUpgrades advertises no upgrades (JS allowUpgrades=false). Default false.
	DisableUpgrades bool
	// AllowRequest, when set, accepts or rejects each handshake. Default nil.
	AllowRequest func(r *http.Request) error
	// CORS adds CORS headers. Default nil (none).
	CORS *engineio.CORSOptions
	// Cookie sets the sticky-session cookie. Default nil (none).
	Cookie *engineio.CookieOptions
	// InitialPacket is sent right after the open packet when set.
	InitialPacket []byte
	// MaxQueuePackets bounds each connection's outbound queue in packets;
	// a client past it is disconnected (volatile packets are dropped
	// instead). Default engineio's (8192).
	MaxQueuePackets int
	// MaxQueueBytes bounds each connection's outbound queue in bytes.
	// Default engineio's (2*MaxHTTPBufferSize, at least 1 MiB).
	MaxQueueBytes int
	// ServeClient serves the official browser client bundle under Path.
	// Default nil: not served (the JS server serves the copy it bundles; this
	// module bundles none).
	ServeClient *ServeClientOptions
	// Logger receives logs (attrs sid, nsp, transport, reason). Default silent.
	Logger *slog.Logger
}

// ConnectionStateRecovery configures connection state recovery (JS
// connectionStateRecovery). It needs an adapter that stores sessions and
// packets: the default in-memory one does, and so does adapter/redisstreams
// across servers.
type ConnectionStateRecovery struct {
	// MaxDisconnectionDuration is how long a disconnected session and the
	// packets sent meanwhile are kept. Default 2 minutes.
	MaxDisconnectionDuration time.Duration
	// RunMiddlewares runs the namespace middlewares for a recovered socket
	// too. Default false: they are skipped (JS skipMiddlewares: true).
	RunMiddlewares bool
}

// DefaultMaxDisconnectionDuration is ConnectionStateRecovery's default.
const DefaultMaxDisconnectionDuration = 2 * time.Minute

func (o *ServerOptions) withDefaults() ServerOptions {
	var r ServerOptions
	if o != nil {
		r = *o
	}
	if r.Path == "" {
		r.Path = DefaultPath
	}
	if !strings.HasSuffix(r.Path, "/") {
		r.Path += "/"
	}
	if r.ConnectTimeout <= 0 {
		r.ConnectTimeout = DefaultConnectTimeout
	}
	if r.ConnectionStateRecovery != nil {
		csr := *r.ConnectionStateRecovery
		if csr.MaxDisconnectionDuration <= 0 {
			csr.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
		}
		r.ConnectionStateRecovery = &csr
		if r.Adapter == nil {
			r.Adapter = adapter.NewSessionAware(&adapter.SessionAwareOptions{
				MaxDisconnectionDuration: csr.MaxDisconnectionDuration,
			})
		}
	}
	if r.Adapter == nil {
		r.Adapter = adapter.NewInMemory
	}
	if r.MaxAttachments <= 0 {
		r.MaxAttachments = DefaultMaxAttachments
	}
	if r.MaxPendingEvents <= 0 {
		r.MaxPendingEvents = DefaultMaxPendingEvents
	}
	if r.MaxPendingAcks <= 0 {
		r.MaxPendingAcks = DefaultMaxPendingAcks
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return r
}

func (o *ServerOptions) engineOptions() *engineio.ServerOptions {
	return &engineio.ServerOptions{
		Path:              o.Path,
		PingInterval:      o.PingInterval,
		PingTimeout:       o.PingTimeout,
		UpgradeTimeout:    o.UpgradeTimeout,
		MaxHTTPBufferSize: o.MaxHTTPBufferSize,
		Transports:        o.Transports,
		DisableUpgrades:   o.DisableUpgrades,
		AllowRequest:      o.AllowRequest,
		CORS:              o.CORS,
		Cookie:            o.Cookie,
		InitialPacket:     o.InitialPacket,
		MaxQueuePackets:   o.MaxQueuePackets,
		MaxQueueBytes:     o.MaxQueueBytes,
		Logger:            o.Logger,
	}
}
