package engineio

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// ServerOptions configures a Server. A nil *ServerOptions, and every zero
// field, means the default of the official JavaScript server.
type ServerOptions struct {
	// Path is the URL path prefix served. Default "/engine.io/". A trailing
	// slash is added when missing, so "/engine.io?..." is not handled, as in
	// Node with addTrailingSlash (the default).
	Path string
	// PingInterval is the delay between server pings. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long a pong may take after a ping. Default 20s.
	PingTimeout time.Duration
	// UpgradeTimeout bounds a polling -> WebSocket upgrade. Default 10s.
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize is the largest polling POST body and WebSocket
	// message accepted, advertised to clients as maxPayload. Default 1e6.
	MaxHTTPBufferSize int64
	// Transports lists the enabled transports. Default {"polling","websocket"}.
	Transports []string
	// DisableUpgrades advertises no upgrades (JS allowUpgrades=false). Default false.
	DisableUpgrades bool
	// AllowRequest, when set, is called for handshakes only; a non-nil error
	// rejects the handshake with code 4 ("Forbidden", HTTP 403) and the
	// error's text as message. Default nil (all accepted).
	AllowRequest func(r *http.Request) error
	// CORS adds CORS headers and answers OPTIONS preflights. Default nil (none).
	CORS *CORSOptions
	// Cookie sets a cookie holding the sid on the polling handshake response.
	// Default nil (no cookie).
	Cookie *CookieOptions
	// DisableHTTPCompression turns off gzip of polling responses of at
	// least 1 KiB for clients that accept it (JS httpCompression=false).
	// Default false (compression on, as in Node).
	DisableHTTPCompression bool
	// InitialPacket, when set, is sent as a message right after the open packet.
	InitialPacket []byte
	// MaxQueuePackets bounds the outbound queue of one session in packets.
	// Default 8192: a polling client may take thousands of small packets
	// between two GETs; MaxQueueBytes is what bounds the memory.
	MaxQueuePackets int
	// MaxQueueBytes bounds the outbound queue of one session in bytes of
	// message data. Default 2*MaxHTTPBufferSize, at least 1 MiB.
	MaxQueueBytes int
	// Logger receives debug logs (attrs sid, transport, reason). Default silent.
	Logger *slog.Logger
}

// CORSOptions mirrors the options of the "cors" npm module that Node's
// engine.io installs as a middleware.
type CORSOptions struct {
	// AllowedOrigins lists the accepted origins; "*" accepts any origin
	// (the Origin is reflected when AllowCredentials is set).
	AllowedOrigins []string
	// AllowOriginFunc, when set, decides instead of AllowedOrigins.
	AllowOriginFunc func(origin string) bool
	// AllowCredentials sends Access-Control-Allow-Credentials: true.
	AllowCredentials bool
	// AllowedHeaders for preflights; default: reflect Access-Control-Request-Headers.
	AllowedHeaders []string
	// ExposedHeaders sent as Access-Control-Expose-Headers. Default none.
	ExposedHeaders []string
	// MaxAge of a preflight result. Default 0 (header omitted).
	MaxAge time.Duration
}

// CookieOptions describes the sticky-session cookie. A zero CookieOptions
// (&CookieOptions{}) means the JS default "io=<sid>; Path=/; HttpOnly;
// SameSite=Lax"; otherwise the fields are used as given, with Name and Path
// defaulting to "io" and "/".
type CookieOptions struct {
	Name     string        // default "io"
	Path     string        // default "/"
	HTTPOnly bool          // JS default true (see the type comment)
	SameSite http.SameSite // JS default Lax (see the type comment)
	Secure   bool
	MaxAge   int // seconds; 0 = session cookie
	Domain   string
}

// Defaults of the official server.
const (
	DefaultPath              = "/engine.io/"
	DefaultPingInterval      = 25 * time.Second
	DefaultPingTimeout       = 20 * time.Second
	DefaultUpgradeTimeout    = 10 * time.Second
	DefaultMaxHTTPBufferSize = 1_000_000
	DefaultMaxQueuePackets   = 8192
)

const (
	transportPolling   = "polling"
	transportWebSocket = "websocket"
)

// withDefaults returns a copy of o with every zero field filled in.
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
	if r.PingInterval <= 0 {
		r.PingInterval = DefaultPingInterval
	}
	if r.PingTimeout <= 0 {
		r.PingTimeout = DefaultPingTimeout
	}
	if r.UpgradeTimeout <= 0 {
		r.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if r.MaxHTTPBufferSize <= 0 {
		r.MaxHTTPBufferSize = DefaultMaxHTTPBufferSize
	}
	if len(r.Transports) == 0 {
		r.Transports = []string{transportPolling, transportWebSocket}
	} else {
		r.Transports = append([]string(nil), r.Transports...)
	}
	if r.MaxQueuePackets <= 0 {
		r.MaxQueuePackets = DefaultMaxQueuePackets
	}
	if r.MaxQueueBytes <= 0 {
		r.MaxQueueBytes = int(max(2*r.MaxHTTPBufferSize, 1<<20))
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Cookie != nil {
		c := *r.Cookie
		if c == (CookieOptions{}) {
			c.HTTPOnly, c.SameSite = true, http.SameSiteLaxMode
		}
		if c.Name == "" {
			c.Name = "io"
		}
		if c.Path == "" {
			c.Path = "/"
		}
		r.Cookie = &c
	}
	return r
}

func (o *ServerOptions) transportEnabled(name string) bool {
	for _, t := range o.Transports {
		if t == name {
			return true
		}
	}
	return false
}
