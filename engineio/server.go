package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Message is one Engine.IO "message" packet: text, or binary when Binary is set.
type Message struct {
	Data   []byte
	Binary bool
}

// Handler receives the events of every session of a Server (the Socket.IO
// layer implements it). Calls for one session never overlap.
type Handler interface {
	// OnOpen is called once per session, before any OnMessage; it may call s.Send.
	OnOpen(s *Session)
	// OnMessage is called in arrival order, never concurrently for one
	// session; m.Data is owned by the callee.
	OnMessage(s *Session, m Message)
	// OnClose is called once, after the last OnMessage; reason is one of the
	// Reason* strings (or the one given to CloseWithReason), cause may be nil.
	OnClose(s *Session, reason string, cause error)
}

// Server is an Engine.IO v4 server; it is an http.Handler.
type Server struct {
	h            Handler
	opts         ServerOptions
	log          *slog.Logger
	closeTimeout time.Duration // bound of an orderly close; a field for tests
	parkAfter    time.Duration // idle time before a chatty WebSocket's read loop parks; a field for tests
	parkSoon     time.Duration // the same for other WebSockets; a field for tests
	hb           *heartbeats   // the sessions' heartbeat deadlines
	corkLimit    time.Duration // longest delay of the flusher by Cork; a field for tests
	corkStep     time.Duration // delay by Cork when nothing more is queued; a field for tests
	corkPerList  time.Duration // corkLimit's growth per listed session; a field for tests

	mu       sync.Mutex
	sessions map[string]*Session
	closed   bool
	// lingering holds, briefly, sids that a polling client closed while no
	// GET was pending: a GET the client sent before its close but that lost
	// the race to the server gets the noop it would have got, not a 400.
	lingering map[string]time.Time

	// The flusher (flusher.go): sessions whose queue it is to write.
	flushMu      sync.Mutex
	flushList    []*Session
	flushSince   time.Time // when the first session of flushList was listed
	flushing     bool      // the flusher goroutine runs
	corks        atomic.Int64
	laterCount   atomic.Uint64 // SendLater calls, ever
	flushWaiting atomic.Bool   // the flusher waits for the last Uncork
	uncorked     chan struct{} // capacity 1
	corkTimer    *time.Timer   // flusher goroutine only

	// wg counts sessions until their OnClose returned, WebSocket read loops,
	// writers and the flusher. Add happens under mu while !closed, or while
	// a counted session is not yet closed, so never on a zero counter after
	// Close.
	wg sync.WaitGroup
}

// NewServer returns a Server delivering session events to h. opts may be nil.
func NewServer(h Handler, opts *ServerOptions) *Server {
	srv := &Server{h: h, opts: opts.withDefaults(), sessions: make(map[string]*Session), closeTimeout: defaultCloseTimeout,
		parkAfter: parkAfter, parkSoon: parkSoon, hb: newHeartbeats(), corkLimit: corkLimit, corkStep: corkStep,
		corkPerList: corkPerSession,
		uncorked:    make(chan struct{}, 1)}
	srv.log = srv.opts.Logger
	return srv
}

// Options returns the effective options, defaults filled in.
func (srv *Server) Options() ServerOptions {
	o := srv.opts
	o.Transports = append([]string(nil), o.Transports...)
	return o
}

// ClientsCount returns the number of open sessions.
func (srv *Server) ClientsCount() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.sessions)
}

// Close closes every session with ReasonServerShuttingDown (queued packets
// are flushed first where a transport can take them) and waits until every
// OnClose has returned and every connection is closed, or ctx is done.
// Requests arriving afterwards are answered 503. Call it before
// http.Server.Shutdown, which waits for held polling requests.
func (srv *Server) Close(ctx context.Context) error {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		return ErrServerClosed
	}
	srv.closed = true
	all := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	srv.mu.Unlock()
	for _, s := range all {
		s.shutdown()
	}
	done := make(chan struct{})
	go func() {
		srv.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ServeHTTP handles Engine.IO requests: polling GET/POST and WebSocket upgrades.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, srv.opts.Path) {
		http.NotFound(w, r)
		return
	}
	upgrade := isWebSocketUpgrade(r)
	if !upgrade && srv.opts.CORS != nil && srv.opts.CORS.apply(w, r) {
		return // preflight answered
	}
	srv.mu.Lock()
	closed := srv.closed
	srv.mu.Unlock()
	if closed {
		http.Error(w, "engineio: server closed", http.StatusServiceUnavailable)
		return
	}

	transport, sid, eio := queryParams(r.URL.RawQuery)
	s, e := srv.verify(r, upgrade, transport, sid, eio)
	switch {
	case e != nil && e.Code == CodeUnknownSID && !upgrade && r.Method == http.MethodGet && srv.takeLingering(sid):
		srv.writePayload(w, r, []Packet{{Type: PacketNoop}})
	case e != nil:
		srv.reject(w, r, upgrade, e)
	case s == nil:
		srv.handshake(w, r, transport)
	case upgrade:
		srv.serveUpgrade(w, r, s)
	default:
		s.servePolling(w, r)
	}
}

// verify checks a request in Node's order (PROTOCOL A2) and returns the
// session it addresses, nil for a valid handshake.
func (srv *Server) verify(r *http.Request, upgrade bool, transport, sid, eio string) (*Session, *RequestError) {
	if !srv.opts.transportEnabled(transport) {
		return nil, requestError(CodeUnknownTransport)
	}
	if invalidHeaderValue(r.Header.Get("Origin")) {
		return nil, requestError(CodeBadRequest)
	}
	if sid != "" {
		s := srv.lookup(sid)
		switch {
		case s == nil:
			return nil, requestError(CodeUnknownSID)
		case upgrade && transport != transportWebSocket,
			!upgrade && (transport != transportPolling || s.Transport() != transportPolling):
			return nil, requestError(CodeBadRequest)
		}
		return s, nil
	}
	switch {
	case r.Method != http.MethodGet:
		return nil, requestError(CodeBadHandshakeMethod)
	case transport == transportWebSocket && !upgrade:
		return nil, requestError(CodeBadRequest)
	}
	if srv.opts.AllowRequest != nil {
		if err := srv.opts.AllowRequest(r); err != nil {
			return nil, &RequestError{Code: CodeForbidden, Message: err.Error()}
		}
	}
	switch {
	case eio != "4":
		return nil, requestError(CodeUnsupportedProtocol)
	case upgrade && transport != transportWebSocket:
		return nil, requestError(CodeBadRequest)
	}
	return nil, nil
}

// reject answers a refused request: JSON for plain HTTP, a bare 400 text
// response for a WebSocket upgrade (written before upgrading).
func (srv *Server) reject(w http.ResponseWriter, r *http.Request, upgrade bool, e *RequestError) {
	if srv.log.Enabled(r.Context(), slog.LevelDebug) {
		srv.log.Debug("engineio: request rejected", "code", e.Code, "message", e.Message, "url", r.URL.String())
	}
	h := w.Header()
	if upgrade {
		h.Set("Connection", "close")
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(e.Message)))
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(e.Message))
		return
	}
	status := http.StatusBadRequest
	if e.Code == CodeForbidden {
		status = http.StatusForbidden
	}
	body := appendJSONError(nil, e)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func appendJSONError(b []byte, e *RequestError) []byte {
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(e.Code), 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.Message)
	return append(b, '}')
}

// appendJSONString quotes s the way JavaScript's JSON.stringify does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// invalidHeaderValue reports characters Node rejects in a header value.
func invalidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c != '\t' && (c < 0x20 || c == 0x7f) {
			return true
		}
	}
	return false
}

func isWebSocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// lookup returns the open session sid, or nil. A session whose pong is
// overdue is closed here, so an unknown-sid answer never depends on timer latency.
func (srv *Server) lookup(sid string) *Session {
	srv.mu.Lock()
	s := srv.sessions[sid]
	srv.mu.Unlock()
	if s == nil || s.expire(time.Now()) {
		return nil
	}
	return s
}

func (srv *Server) remove(s *Session) {
	srv.mu.Lock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
	}
	srv.mu.Unlock()
}

const (
	lingerTime = time.Second
	maxLinger  = 1024
)

func (srv *Server) linger(sid string) {
	now := time.Now()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.lingering) >= maxLinger {
		for k, t := range srv.lingering {
			if now.After(t) {
				delete(srv.lingering, k)
			}
		}
		if len(srv.lingering) >= maxLinger {
			return
		}
	}
	if srv.lingering == nil {
		srv.lingering = make(map[string]time.Time)
	}
	srv.lingering[sid] = now.Add(lingerTime)
}

func (srv *Server) takeLingering(sid string) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	t, ok := srv.lingering[sid]
	delete(srv.lingering, sid)
	return ok && time.Now().Before(t)
}

// newSID returns 20 URL-safe base64 characters of crypto randomness.
func newSID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// openPacketData is the JSON of the open packet for sid.
func (srv *Server) openPacketData(sid, transport string) []byte {
	b := make([]byte, 0, 128)
	b = append(b, `{"sid":"`...)
	b = append(b, sid...)
	b = append(b, `","upgrades":[`...)
	if transport == transportPolling && !srv.opts.DisableUpgrades && srv.opts.transportEnabled(transportWebSocket) {
		b = append(b, `"websocket"`...)
	}
	b = append(b, `],"pingInterval":`...)
	b = strconv.AppendInt(b, srv.opts.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, srv.opts.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, srv.opts.MaxHTTPBufferSize, 10)
	return append(b, '}')
}

// handshake opens a new session on an already validated request.
func (srv *Server) handshake(w http.ResponseWriter, r *http.Request, transport string) {
	var (
		c     *wsConn
		hello []byte // the 101 response, written with the open packet
	)
	if transport == transportWebSocket {
		var ok bool
		if c, hello, ok = srv.acceptWebSocket(w, r, true); !ok {
			return
		}
	}
	s := srv.openSession(r, transport, c, hello)
	switch {
	case s == nil && c != nil: // closed meanwhile
		c.conn.Close()
		srv.wg.Done()
	case s == nil:
		http.Error(w, "engineio: server closed", http.StatusServiceUnavailable)
	case c != nil:
		// The read loop runs on net/http's goroutine, whose stack has grown
		// already: a goroutine of its own would start small and grow it
		// again for each connection (some 10% of a connection's setup).
		// What net/http keeps for the hijacked connection is freed once the
		// loop parks (parkSoon after the last frame) or ends.
		c.serve()
	default:
		if ck := srv.opts.Cookie; ck != nil {
			http.SetCookie(w, &http.Cookie{Name: ck.Name, Value: s.id, Path: ck.Path, Domain: ck.Domain,
				MaxAge: ck.MaxAge, Secure: ck.Secure, HttpOnly: ck.HTTPOnly, SameSite: ck.SameSite})
		}
		s.serveGet(w, r) // answers the open packet at once
	}
}

// openSession registers a new session with the open packet queued, starts
// its heartbeat and calls OnOpen. c is its WebSocket, nil for polling;
// hello goes first on c, in the write of the open packet (what OnOpen
// sends waits for it). It returns nil when the server is closed.
func (srv *Server) openSession(r *http.Request, transport string, c *wsConn, hello []byte) *Session {
	s := newSession(srv, newSID(), r, transport)
	s.queue = append(s.queue, Packet{Type: PacketOpen, Data: srv.openPacketData(s.id, transport)})
	if srv.opts.InitialPacket != nil {
		s.queue = append(s.queue, Packet{Type: PacketMessage, Data: srv.opts.InitialPacket})
	}
	if c != nil {
		s.ws, c.s = c, s
		s.writing = true // this goroutine writes first, below
	}
	s.recvMu.Lock() // no OnMessage nor OnClose before OnOpen returned

	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		return nil
	}
	srv.sessions[s.id] = s
	srv.wg.Add(1)
	srv.mu.Unlock()

	s.debug("engineio: session opened", "transport", transport)
	s.mu.Lock()
	s.schedulePingLocked(time.Now())
	s.mu.Unlock()
	srv.h.OnOpen(s)
	s.endDispatch()
	if c != nil {
		s.mu.Lock()
		s.inWrite = true
		pkts := s.takeQueueLocked()
		s.mu.Unlock()
		s.writeInlineAfter(c, hello, pkts)
	}
	return s
}
