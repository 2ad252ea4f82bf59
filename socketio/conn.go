package socketio

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/seed9706/socketio/engineio"
	"github.com/seed9706/socketio/parser"
)

// prepared is a packet encoded once: the text message followed by its
// binary attachments, shared by every recipient.
type prepared struct {
	pkt  *parser.Packet
	name string // event name for OnAnyOutgoing, "" for other packets
	msgs []engineio.Message
}

func (p *prepared) Packet() *parser.Packet { return p.pkt }

func encode(p *parser.Packet) *prepared {
	return &prepared{pkt: p, msgs: encodeMsgs(p)}
}

// encodeMsgs encodes p as Engine.IO messages: the text packet, then its
// binary attachments.
func encodeMsgs(p *parser.Packet) []engineio.Message {
	msgs := make([]engineio.Message, 1, 1+len(p.Attachments))
	msgs[0] = engineio.Message{Data: p.AppendText(make([]byte, 0, p.TextLen()))}
	for _, a := range p.Attachments {
		msgs = append(msgs, engineio.Message{Data: a, Binary: true})
	}
	return msgs
}

// session is what a conn uses of its *engineio.Session (an interface so
// that benchmarks can run sockets without transports).
type session interface {
	ID() string
	Request() *http.Request // a new copy at each call, the caller's to modify
	Transport() string
	Send(msgs ...engineio.Message) error
	SendVolatile(msgs ...engineio.Message) bool
	Close()
	CloseWithReason(reason string)
	Abort(reason string)
}

// closedChan is a closed channel: no CONNECT to wait for.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// conn is one Engine.IO session and its sockets, one per namespace (JS Client).
type conn struct {
	srv  *Server
	sess session
	dec  parser.Decoder // read path only

	mu              sync.Mutex
	sockets         map[string]*Socket // connected, by namespace name
	connecting      map[string]bool    // namespaces whose middlewares run
	lastConnect     chan struct{}      // closed once the latest CONNECT is handled
	pendingConnects int                // CONNECTs not handled yet
	closed          bool
	connectTimer    *time.Timer
}

func newConn(srv *Server, sess session) *conn {
	c := &conn{
		srv:        srv,
		sess:       sess,
		dec:        parser.Decoder{MaxAttachments: srv.opts.MaxAttachments},
		sockets:    make(map[string]*Socket),
		connecting: make(map[string]bool),
	}
	c.lastConnect = closedChan
	c.connectTimer = time.AfterFunc(srv.opts.ConnectTimeout, func() {
		c.mu.Lock()
		idle := len(c.sockets) == 0 && !c.closed
		c.mu.Unlock()
		if idle {
			c.srv.log.Debug("socketio: no namespace joined in time", "sid", sess.ID())
			c.sess.CloseWithReason(ReasonForcedServerClose)
		}
	})
	return c
}

// send queues msgs on the session. A client whose queue is full is
// disconnected (backpressure): one slow client never holds up the others.
func (c *conn) send(msgs []engineio.Message, volatile bool) error {
	if volatile {
		c.sess.SendVolatile(msgs...)
		return nil
	}
	err := c.sess.Send(msgs...)
	if errors.Is(err, engineio.ErrQueueFull) {
		c.srv.log.Warn("socketio: outbound queue full, disconnecting slow client",
			"sid", c.sess.ID(), "transport", c.sess.Transport(), "reason", ReasonForcedServerClose)
		// At once: an orderly close would wait, up to its 30 s limit, for
		// the client that is not reading to drain the full queue first.
		c.sess.Abort(ReasonForcedServerClose)
	}
	return err
}

// onMessage decodes one Engine.IO message, on the read path.
func (c *conn) onMessage(m engineio.Message) {
	p, err := c.dec.Add(m.Data, m.Binary)
	if err != nil {
		c.srv.log.Debug("socketio: invalid packet, closing", "sid", c.sess.ID(), "err", err)
		for _, s := range c.socketList() {
			s.queue.Push(func() { s.emitError(err) })
		}
		c.sess.Close()
		return
	}
	if p == nil {
		return // attachments pending
	}
	c.mu.Lock()
	s := c.sockets[p.Namespace]
	c.mu.Unlock()
	switch {
	case s == nil && p.Type == parser.Connect:
		c.connect(p)
	case s != nil && p.Type != parser.Connect && p.Type != parser.ConnectError:
		s.onPacket(p)
	default:
		c.srv.log.Debug("socketio: packet in invalid state, closing", "sid", c.sess.ID(), "nsp", p.Namespace)
		c.sess.CloseWithReason(ReasonForcedServerClose)
	}
}

func (c *conn) connect(p *parser.Packet) {
	name := p.Namespace
	auth := json.RawMessage(p.Data)
	if len(auth) == 0 {
		auth = json.RawMessage(`{}`)
	}
	nsp := c.srv.lookup(name, auth)
	c.mu.Lock()
	if c.closed || c.pendingConnects >= c.srv.opts.MaxPendingEvents || (nsp != nil && c.connecting[name]) {
		c.mu.Unlock()
		c.sess.CloseWithReason(ReasonForcedServerClose)
		return
	}
	if nsp != nil {
		c.connecting[name] = true
	}
	// CONNECTs are answered in arrival order, as Node does: each waits for
	// the previous one (its middlewares and connection handlers) to finish.
	prev, done := c.lastConnect, make(chan struct{})
	c.lastConnect = done
	c.pendingConnects++
	c.mu.Unlock()
	finish := func() {
		c.mu.Lock()
		c.pendingConnects--
		c.mu.Unlock()
		close(done)
	}
	if nsp == nil {
		refuse := func() {
			defer finish()
			<-prev
			c.sendConnectError(name, "Invalid namespace", nil)
		}
		select {
		case <-prev:
			refuse()
		default:
			go refuse() // at most MaxPendingEvents per connection
		}
		return
	}
	s := newSocket(nsp, c, auth)
	s.queue.Push(func() {
		defer finish()
		<-prev
		nsp.connect(s)
	})
}

func (c *conn) sendConnectError(nsp, message string, data any) {
	p, err := parser.NewConnectError(nsp, message, data)
	if err != nil {
		p, _ = parser.NewConnectError(nsp, message, nil)
	}
	_ = c.send(encodeMsgs(p), false)
}

// connected moves s from connecting to connected. It reports false when the
// connection closed meanwhile.
func (c *conn) connected(s *Socket) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.connecting, s.nsp.name)
	if c.closed {
		return false
	}
	c.sockets[s.nsp.name] = s
	c.connectTimer.Stop()
	return true
}

func (c *conn) connectFailed(s *Socket) {
	c.mu.Lock()
	delete(c.connecting, s.nsp.name)
	c.mu.Unlock()
}

func (c *conn) removeSocket(s *Socket) {
	c.mu.Lock()
	if c.sockets[s.nsp.name] == s {
		delete(c.sockets, s.nsp.name)
	}
	c.mu.Unlock()
}

func (c *conn) socketList() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		out = append(out, s)
	}
	return out
}

// disconnectAll is Socket.Disconnect(true): each socket is disconnected
// (the client gets DISCONNECT for each), then the connection is closed.
func (c *conn) disconnectAll() {
	for _, s := range c.socketList() {
		s.Disconnect(false)
	}
	c.sess.CloseWithReason(ReasonForcedServerClose)
}

// onClose closes every socket of the connection with the engine's reason.
func (c *conn) onClose(reason string) {
	c.mu.Lock()
	c.closed = true
	c.connectTimer.Stop()
	c.mu.Unlock()
	for _, s := range c.socketList() {
		s.closeAsync(reason)
	}
}
