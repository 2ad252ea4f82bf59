package socketio

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
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
	SendLater(msgs ...engineio.Message) error
	CanRunInline() bool
	RunInline(r engineio.InlineRunner) bool
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
	sockets         socketsByNsp    // connected
	connecting      map[string]bool // namespaces whose middlewares run; nil when none
	lastConnect     chan struct{}   // closed once the latest CONNECT is handled
	pendingConnects int32           // CONNECTs not handled yet
	closed          bool
	connectTimer    *time.Timer // nil once a namespace is joined
}

func newConn(srv *Server, sess session) *conn {
	c := &conn{
		srv:  srv,
		sess: sess,
		dec:  parser.Decoder{MaxAttachments: srv.opts.MaxAttachments},
	}
	c.lastConnect = closedChan
	c.connectTimer = time.AfterFunc(srv.opts.ConnectTimeout, func() {
		c.mu.Lock()
		idle := c.sockets.len() == 0 && !c.closed
		c.mu.Unlock()
		if idle {
			c.srv.log.Debug("socketio: no namespace joined in time", "sid", sess.ID())
			c.sess.CloseWithReason(ReasonForcedServerClose)
		}
	})
	return c
}

// sendMode says how conn.send queues.
type sendMode uint8

const (
	sendNow      sendMode = iota // written at once when the transport can
	sendVolatile                 // dropped unless the transport can take it now
	sendLater                    // written by the engine's flusher, coalesced with what follows (broadcasts)
)

// send queues msgs on the session. A client whose queue is full is
// disconnected (backpressure): one slow client never holds up the others.
func (c *conn) send(msgs []engineio.Message, mode sendMode) error {
	var err error
	switch mode {
	case sendVolatile:
		c.sess.SendVolatile(msgs...)
		return nil
	case sendLater:
		err = c.sess.SendLater(msgs...)
	default:
		err = c.sess.Send(msgs...)
	}
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
	s := c.sockets.get(p.Namespace)
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
	if c.closed || int(c.pendingConnects) >= c.srv.opts.MaxPendingEvents || (nsp != nil && c.connecting[name]) {
		c.mu.Unlock()
		c.sess.CloseWithReason(ReasonForcedServerClose)
		return
	}
	if nsp != nil {
		if c.connecting == nil {
			c.connecting = make(map[string]bool, 1)
		}
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
		if c.lastConnect == done {
			c.lastConnect = closedChan // as closed as done, which can go
		}
		close(done)
		c.mu.Unlock()
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
	kept := `{}` // a constant: no allocation for the usual empty auth
	if len(p.Data) > 0 {
		kept = string(p.Data)
	}
	s := newSocket(nsp, c, kept)
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
	_ = c.send(encodeMsgs(p), sendNow)
}

// connected moves s from connecting to connected. It reports false when the
// connection closed meanwhile.
func (c *conn) connected(s *Socket) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.doneConnectingLocked(s)
	if c.closed {
		return false
	}
	c.sockets.set(s)
	c.stopConnectTimerLocked()
	return true
}

func (c *conn) connectFailed(s *Socket) {
	c.mu.Lock()
	c.doneConnectingLocked(s)
	c.mu.Unlock()
}

func (c *conn) doneConnectingLocked(s *Socket) {
	delete(c.connecting, s.nsp.name)
	if len(c.connecting) == 0 {
		c.connecting = nil // a map keeps its memory when emptied
	}
}

// stopConnectTimerLocked stops the connect timeout and lets the timer go.
func (c *conn) stopConnectTimerLocked() {
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
}

func (c *conn) removeSocket(s *Socket) {
	c.mu.Lock()
	c.sockets.del(s)
	c.mu.Unlock()
}

func (c *conn) socketList() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sockets.appendTo(make([]*Socket, 0, c.sockets.len()))
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
	c.stopConnectTimerLocked()
	c.mu.Unlock()
	for _, s := range c.socketList() {
		s.closeAsync(reason)
	}
}

// socketsByNsp holds a connection's sockets by namespace name: a slice
// searched linearly while short (clients use one or a few namespaces), a
// map past maxListedSockets.
type socketsByNsp struct {
	list []*Socket
	m    map[string]*Socket
}

const maxListedSockets = 8

func (b *socketsByNsp) len() int {
	if b.m != nil {
		return len(b.m)
	}
	return len(b.list)
}

func (b *socketsByNsp) get(name string) *Socket {
	if b.m != nil {
		return b.m[name]
	}
	for _, s := range b.list {
		if s.nsp.name == name {
			return s
		}
	}
	return nil
}

// set adds s, replacing the socket of the same namespace.
func (b *socketsByNsp) set(s *Socket) {
	if b.m != nil {
		b.m[s.nsp.name] = s
		return
	}
	for i, old := range b.list {
		if old.nsp.name == s.nsp.name {
			b.list[i] = s
			return
		}
	}
	if len(b.list) < maxListedSockets {
		b.list = append(b.list, s)
		return
	}
	b.m = make(map[string]*Socket, 2*maxListedSockets)
	for _, old := range b.list {
		b.m[old.nsp.name] = old
	}
	b.m[s.nsp.name] = s
	b.list = nil
}

// del removes s if it is the socket of its namespace.
func (b *socketsByNsp) del(s *Socket) {
	if b.m != nil {
		if b.m[s.nsp.name] == s {
			delete(b.m, s.nsp.name)
		}
		return
	}
	for i, old := range b.list {
		if old == s {
			b.list = slices.Delete(b.list, i, i+1) // clears the freed slot
			if len(b.list) == 0 {
				b.list = nil
			}
			return
		}
	}
}

func (b *socketsByNsp) appendTo(out []*Socket) []*Socket {
	if b.m != nil {
		for _, s := range b.m {
			out = append(out, s)
		}
		return out
	}
	return append(out, b.list...)
}
