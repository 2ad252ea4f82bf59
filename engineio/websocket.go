package engineio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// largeFrame is the payload size from which the writer hands the message's
// own bytes to writev instead of copying them into the frame buffer.
const largeFrame = 2048

// closeGrace bounds the close handshake: writing our close frame and
// draining the peer's bytes until it closes too.
const closeGrace = time.Second

var errMessageTooBig = errors.New("engineio: websocket message too big")

// wsConn is one WebSocket connection: the session's transport or a probe.
// Its read loop (first on the goroutine of the request that opened the
// session, see handshake; a probe's on its own) is the only one to close
// the connection. On Linux an idle read loop parks instead of blocking: it
// arms the fd in the poller, releases its read buffer and ends; the poller
// (or requestClose) starts a new one, see park and wake.
type wsConn struct {
	srv  *Server
	s    *Session
	conn net.Conn
	pre  *[]byte       // bytes the client sent right behind the handshake, read first; nil: none (usual)
	br   *bufio.Reader // nil while parked; reads (*wsSource)(c)

	fd      int32        // the socket, for parking and non-blocking writes; -1: not a plain socket, or not Linux
	epfd    int32        // the poller's epoll fd once registered, else -1
	state   atomic.Int32 // readRunning, readParking, readWoken or readParked
	noPark  bool         // read loop only: the poller is unavailable
	chatty  bool         // read side: woken within parkAfter of parking, so wait parkAfter, not parkSoon
	wclosed bool         // guarded by wmu: conn is closed, fd may be reused
	parked  uint32       // read side: when it last parked, monoMillis
	// read loop only: awaitFrame's read deadline, monoMillis, 0 when cleared;
	// and whether the read may time out (awaitFrame's wait, finish's drain)
	idleUntil uint32
	timedRead bool

	hdr [ws.MaxHeaderSize - 2]byte // read loop scratch
	wmu sync.Mutex                 // serializes writes to conn

	inline InlineRunner // read loop only: RunInline's, to run once OnMessage returned

	closeReq  atomic.Bool   // the session asked the read loop to close
	closeCode atomic.Uint32 // status for our close frame; 0 = none (peer sees 1005)
}

// Read loop states. Only the goroutine that moved c to readRunning (or
// readParking) touches the read side; after readParked, the first wake
// does, by moving it back to readRunning.
const (
	readRunning int32 = iota
	readParking       // arming the poller; a wake now makes the loop go on
	readWoken         // woken while parking
	readParked        // no read loop; wake starts one
	readLent          // the read loop runs a handler (inline.go); wake starts another
)

// wsSource feeds the read buffer: first the bytes the client sent right
// behind the handshake, then the connection. A conversion of the wsConn,
// so that it costs no field.
type wsSource wsConn

func (r *wsSource) Read(p []byte) (int, error) {
	if r.pre != nil {
		n := copy(p, *r.pre)
		if *r.pre = (*r.pre)[n:]; len(*r.pre) == 0 {
			r.pre = nil
		}
		return n, nil
	}
	c := (*wsConn)(r)
	n, err := c.conn.Read(p)
	// The idle deadline of awaitFrame stays set while the loop reads (so
	// that it is not set and cleared per frame), but only a wait for a new
	// frame (or finish's drain) may time out: within one, the read goes on
	// without it. The closeReq checks around clearing it are awaitFrame's
	// (requestClose sets closeReq, then a past deadline).
	for n == 0 && !c.timedRead && errors.Is(err, os.ErrDeadlineExceeded) && !c.closeReq.Load() {
		c.idleUntil = 0
		_ = c.conn.SetReadDeadline(time.Time{})
		if c.closeReq.Load() {
			break
		}
		n, err = c.conn.Read(p)
	}
	return n, err
}

// readBufSize is the read buffer of a WebSocket. Once a frame did not fit
// in it, the connection reads into one of bigReadBufSize until it parks:
// a 1 KB message then takes one read syscall instead of two, while idle
// connections, which park, keep buffers small. Larger frames are read
// straight into the message.
const (
	readBufSize    = 512
	bigReadBufSize = 4096
)

// spareReaders and spareBigReaders recycle the read buffers of parked and
// closed connections. Bounded, unlike a sync.Pool, which would keep one per
// parked connection until the second garbage collection after they parked.
var (
	spareReaders    = make(freeList[*bufio.Reader], 256)
	spareBigReaders = make(freeList[*bufio.Reader], 64)
)

func getReader(src io.Reader, size int) *bufio.Reader {
	spare := spareReaders
	if size > readBufSize {
		spare = spareBigReaders
	}
	if br, ok := spare.get(); ok {
		br.Reset(src)
		return br
	}
	return bufio.NewReaderSize(src, size)
}

func putReader(br *bufio.Reader) {
	br.Reset(nil)
	if br.Size() > readBufSize {
		spareBigReaders.put(br)
	} else {
		spareReaders.put(br)
	}
}

// wsEnd says why a read loop ended.
type wsEnd struct {
	reason    string        // session close reason; "" when the close was requested by the session
	err       error         // cause
	code      ws.StatusCode // status of our close frame (0 = none)
	text      string        // close frame reason text
	peerClose bool          // the peer sent a close frame
	parked    bool          // not an end: the read loop parked, a wake resumes it
}

// acceptWebSocket upgrades r; the returned conn counts in srv.wg until its
// read loop ends. With hold set, the 101 response is not written but
// returned, for the caller to send with the open packet: one write instead
// of two per new connection.
func (srv *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request, hold bool) (*wsConn, []byte, bool) {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		http.Error(w, "engineio: server closed", http.StatusServiceUnavailable)
		return nil, nil, false
	}
	srv.wg.Add(1)
	srv.mu.Unlock()
	var hw *holdingWriter
	if hold {
		hw = &holdingWriter{ResponseWriter: w}
		w = hw
	}
	conn, rw, _, err := ws.HTTPUpgrader{}.Upgrade(r, w)
	if err != nil {
		if conn != nil {
			if hw != nil {
				_, _ = conn.Write(hw.held) // the rejection
			}
			conn.Close()
		}
		srv.wg.Done()
		srv.log.Debug("engineio: websocket upgrade failed", "err", err)
		return nil, nil, false
	}
	c := &wsConn{srv: srv, conn: conn, fd: int32(connFD(conn)), epfd: -1}
	if n := rw.Reader.Buffered(); n > 0 { // frames sent right behind the handshake
		pre, _ := rw.Reader.Peek(n)
		pre = bytes.Clone(pre)
		c.pre = &pre
	}
	c.br = getReader((*wsSource)(c), readBufSize)
	if hw != nil {
		return c, hw.held, true
	}
	return c, nil, true
}

// holdingWriter is an http.ResponseWriter whose hijacked connection's
// buffered writer keeps what the upgrader writes (its response) in held.
type holdingWriter struct {
	http.ResponseWriter
	held []byte
}

func (h *holdingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		rw.Writer.Reset((*heldBytes)(h))
	}
	return conn, rw, err
}

type heldBytes holdingWriter

func (b *heldBytes) Write(p []byte) (int, error) {
	b.held = append(b.held, p...)
	return len(p), nil
}

// serveUpgrade handles a WebSocket request carrying the sid of a polling
// session: it becomes the probe of an upgrade (A9), or is closed at once
// when the session is already upgrading or upgraded.
func (srv *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, s *Session) {
	c, _, ok := srv.acceptWebSocket(w, r, false)
	if !ok {
		return
	}
	c.s = s
	s.mu.Lock()
	if s.state != stateOpen || s.onWS || s.probe != nil || s.upgraded {
		s.mu.Unlock()
		c.requestClose(0)
	} else {
		s.probe = c
		s.timersLocked().upgrade = time.AfterFunc(srv.opts.UpgradeTimeout, func() { s.abortUpgrade(c) })
		s.mu.Unlock()
	}
	go c.serve()
}

func (s *Session) abortUpgrade(c *wsConn) {
	s.mu.Lock()
	if s.probe == c {
		s.probe = nil
		s.stopUpgradeLocked()
	}
	s.mu.Unlock()
	c.requestClose(0)
}

func (s *Session) stopUpgradeLocked() {
	if t := s.timers; t != nil && t.upgrade != nil {
		t.upgrade.Stop()
		t.upgrade = nil
	}
	if t := s.timers; t != nil && t.noop != nil {
		t.noop.Stop()
		t.noop = nil
	}
	s.probed = false
}

// onNoopTimer releases a GET held for noopInterval with a noop while the
// upgrade is probed, so the client's polling cycle ends. Not sooner: a GET
// racing the client's "5" is then answered as coming after the upgrade.
func (s *Session) onNoopTimer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.probed || s.state == stateClosed {
		return
	}
	next := noopInterval
	if s.get != nil {
		if held := time.Since(s.get.since); held >= noopInterval {
			s.get.release('6')
		} else {
			next = noopInterval - held
		}
	}
	s.timers.noop.Reset(next)
}

// onProbePacket handles a packet on the probing WebSocket; it reports
// whether to keep reading.
func (s *Session) onProbePacket(c *wsConn, p Packet) bool {
	switch {
	case p.Type == PacketPing && string(p.Data) == "probe":
		if c.writePackets([]Packet{{Type: PacketPong, Data: []byte("probe")}}) != nil {
			s.abortUpgrade(c)
			return false
		}
		s.mu.Lock()
		if s.probe == c && !s.probed {
			s.probed = true
			s.timersLocked().noop = time.AfterFunc(noopInterval, s.onNoopTimer)
		}
		s.mu.Unlock()
		return true
	case p.Type == PacketUpgrade:
		s.mu.Lock()
		if s.probe != c || s.state == stateClosed {
			s.mu.Unlock()
			return false
		}
		s.stopUpgradeLocked()
		s.probe, s.ws = nil, c
		s.upgraded, s.onWS = true, true
		if s.get != nil {
			s.get.release(0) // answered 400, see serveGet
		}
		s.kickLocked()
		s.mu.Unlock()
		s.debug("engineio: upgraded", "transport", transportWebSocket)
		return true
	default:
		s.abortUpgrade(c)
		return false
	}
}

// onWSPacket routes a packet read from c; it reports whether to keep reading.
func (s *Session) onWSPacket(c *wsConn, p Packet) bool {
	s.mu.Lock()
	isMain, isProbe := s.ws == c, s.probe == c
	s.mu.Unlock()
	switch {
	case isMain:
		s.recvMu.Lock()
		s.inlineFrom = c
		keep := s.onPacket(p)
		s.inlineFrom = nil
		s.endDispatch()
		return keep
	case isProbe:
		return s.onProbePacket(c, p)
	}
	return false
}

// requestClose makes the read loop close the connection with status code
// (0 = none) and unblocks pending reads and, within closeGrace, writes.
func (c *wsConn) requestClose(code ws.StatusCode) {
	if c.closeReq.Swap(true) {
		return
	}
	c.closeCode.Store(uint32(code))
	_ = c.conn.SetReadDeadline(time.Unix(1, 0))
	_ = c.conn.SetWriteDeadline(time.Now().Add(closeGrace))
	c.wake()
}

// park is called by the read loop when nothing is left to read: it arms
// the poller and releases the read buffer. It reports whether the loop
// must end (the connection is parked) or go on (woken meanwhile, or the
// poller is unavailable).
func (c *wsConn) park() bool {
	c.state.Store(readParking)
	if c.closeReq.Load() { // requestClose saw readRunning and left the close to us
		c.state.Store(readRunning)
		return false
	}
	if err := c.arm(); err != nil {
		c.srv.log.Debug("engineio: cannot park websocket, keeping its reader", "err", err)
		c.noPark = true
		c.state.Store(readRunning)
		return false
	}
	putReader(c.br)
	c.br = nil
	c.parked = monoMillis()
	if c.state.CompareAndSwap(readParking, readParked) {
		return true // c now belongs to whoever wakes it
	}
	c.state.Store(readRunning)
	c.resumeReader()
	return false
}

func (c *wsConn) resumeReader() {
	c.br = getReader((*wsSource)(c), readBufSize)
}

// wake starts the read loop of a parked connection; the poller calls it
// when the fd is readable, requestClose to close. Waking a running loop
// does nothing; waking a parking one makes it go on; waking a lent one
// starts another read loop.
func (c *wsConn) wake() {
	for {
		switch c.state.Load() {
		case readParked:
			if c.state.CompareAndSwap(readParked, readRunning) {
				c.chatty = time.Duration(monoMillis()-c.parked)*time.Millisecond < c.srv.parkAfter
				c.resumeReader()
				go c.serve()
				return
			}
		case readParking:
			if c.state.CompareAndSwap(readParking, readWoken) {
				return
			}
		case readLent: // its read loop runs a handler: another one reads on
			if c.state.CompareAndSwap(readLent, readRunning) {
				go c.serve()
				return
			}
		default:
			return
		}
	}
}

// serve runs the read loop, then, unless it parked (or lent the
// connection to another read loop), tells the session and closes the
// connection.
func (c *wsConn) serve() {
	end := c.readLoop()
	if end.parked {
		return
	}
	defer c.srv.wg.Done()
	s := c.s
	s.mu.Lock()
	isMain, isProbe := s.ws == c, s.probe == c
	if isProbe {
		s.probe = nil
		s.stopUpgradeLocked()
	}
	s.mu.Unlock()
	if isMain && end.reason != "" {
		s.closeNow(end.reason, end.err, 0)
	}
	c.finish(end)
}

// finish sends our close frame, half-closes, drains what the peer still
// sends (so our close frame is not lost to a reset) and closes.
func (c *wsConn) finish(end wsEnd) {
	code, text := end.code, end.text
	if end.reason == "" && !end.peerClose {
		code = ws.StatusCode(c.closeCode.Load())
	}
	var body []byte
	if code != 0 {
		body = ws.NewCloseFrameBody(code, text)
	}
	deadline := time.Now().Add(closeGrace)
	_ = c.conn.SetWriteDeadline(deadline)
	_ = c.writeControl(ws.OpClose, body)
	if hc, ok := c.conn.(interface{ CloseWrite() error }); ok {
		_ = hc.CloseWrite()
	}
	if !end.peerClose {
		_ = c.conn.SetReadDeadline(deadline)
		c.timedRead = true
		_, _ = io.Copy(io.Discard, c.br)
	}
	c.disarm()
	c.wmu.Lock() // tryWrite writes to the fd number: not once it may be reused
	c.wclosed = true
	c.conn.Close()
	c.wmu.Unlock()
	putReader(c.br)
	c.br = nil
}

// readLoop reads frames until the connection ends, handing every complete
// message to the session.
func (c *wsConn) readLoop() wsEnd {
	limit := c.srv.opts.MaxHTTPBufferSize
	var (
		msg   []byte
		msgOp ws.OpCode
		inMsg bool
		idle  bool // park without waiting parkAfter first
		// a frame did not fit in a small read buffer: read into a big one
		// (a parked loop ends, so its successor starts small)
		bigFrames bool
		ctl       [125]byte
	)
	for {
		if bigFrames && c.br.Buffered() == 0 && c.br.Size() < bigReadBufSize {
			putReader(c.br)
			c.br = getReader((*wsSource)(c), bigReadBufSize)
		}
		if !inMsg && c.fd >= 0 && !c.noPark && c.br.Buffered() == 0 {
			switch err := c.awaitFrame(idle); {
			case err == errParked:
				return wsEnd{parked: true}
			case err != nil:
				return c.readError(err)
			case c.closeReq.Load():
				return wsEnd{}
			}
		}
		h, err := ws.ReadHeaderBuffer(c.br, c.hdr[:])
		if err != nil {
			return c.readError(err)
		}
		if h.Rsv != 0 || !h.Masked {
			return protocolEnd("reserved bits or unmasked frame")
		}
		if h.OpCode.IsControl() {
			if h.Length > 125 || !h.Fin {
				return protocolEnd("invalid control frame")
			}
			p := ctl[:h.Length]
			if _, err := io.ReadFull(c.br, p); err != nil {
				return c.readError(err)
			}
			ws.Cipher(p, h.Mask, 0)
			switch h.OpCode {
			case ws.OpPing:
				if err := c.writeControl(ws.OpPong, p); err != nil {
					return c.readError(err)
				}
			case ws.OpClose:
				end := wsEnd{reason: ReasonTransportClose, peerClose: true}
				if len(p) >= 2 {
					end.code = ws.StatusCode(binary.BigEndian.Uint16(p))
				}
				return end
			case ws.OpPong:
			default:
				return protocolEnd("reserved opcode")
			}
			continue
		}
		switch h.OpCode {
		case ws.OpText, ws.OpBinary:
			if inMsg {
				return protocolEnd("new message inside a fragmented one")
			}
			inMsg, msgOp, msg = true, h.OpCode, nil
		case ws.OpContinuation:
			if !inMsg {
				return protocolEnd("continuation without a message")
			}
		default:
			return protocolEnd("reserved opcode")
		}
		bigFrames = bigFrames || h.Length > readBufSize-ws.MaxHeaderSize
		if h.Length > limit-int64(len(msg)) {
			return wsEnd{reason: ReasonTransportError, err: errMessageTooBig, code: ws.StatusMessageTooBig, text: "message too big"}
		}
		start := len(msg)
		if msg, err = readPayload(c.br, msg, h.Length); err != nil {
			return c.readError(err)
		}
		ws.Cipher(msg[start:], h.Mask, 0)
		if !h.Fin {
			continue
		}
		inMsg = false
		p := Packet{Type: PacketMessage, Data: msg, Binary: true}
		if msgOp == ws.OpText {
			if !utf8.Valid(msg) {
				return wsEnd{reason: ReasonTransportError, err: errors.New("engineio: invalid UTF-8 in text frame"), code: ws.StatusInvalidFramePayloadData}
			}
			if p, err = DecodePacket(msg); err != nil {
				return wsEnd{reason: ReasonParseError, err: &ProtocolError{Reason: "parse error", Err: err}}
			}
		}
		msg = nil
		keep := !c.closeReq.Load() && c.s.onWSPacket(c, p)
		if r := c.inline; r != nil {
			c.inline = nil
			if !c.runLent(r) {
				return wsEnd{parked: true} // not an end: another read loop reads on
			}
		}
		if !keep {
			return wsEnd{}
		}
		idle = p.Type == PacketPong // a heartbeat: the next frame is likely a pingInterval away
	}
}

// parkAfter is how long a read loop waits for the next frame before it
// parks, once the connection proved chatty (woken less than parkAfter after
// it parked): a chatty connection keeps its goroutine (parking costs
// syscalls and a goroutine start per message), an idle one releases it.
// Other connections, new ones included, wait parkSoon: after a burst of
// connections, most go quiet at once, and a second of waiting would keep
// a goroutine and its stack for each (memory the runtime keeps for good).
// New servers copy both (Server.parkAfter, parkSoon); tests park after a
// few milliseconds to exercise parking.
var (
	parkAfter = time.Second
	parkSoon  = 50 * time.Millisecond
)

// monoBase is the origin of monoMillis.
var monoBase = time.Now()

// monoMillis is a coarse monotonic clock (it wraps after 49 days, which
// only makes one parking decision wrong).
func monoMillis() uint32 { return uint32(time.Since(monoBase).Milliseconds()) }

var errParked = errors.New("engineio: read loop parked")

// awaitFrame waits up to Server.parkAfter (parkSoon unless chatty) for the
// next frame's first byte, then parks (errParked); with idle set, it parks at once (the poller wakes it
// at once too if a frame is already there). A nil error with closeReq set
// means stop reading.
func (c *wsConn) awaitFrame(idle bool) error {
	for {
		if c.closeReq.Load() {
			return nil
		}
		if idle {
			idle = false
			if c.park() {
				return errParked
			}
			if c.noPark {
				return nil
			}
			continue
		}
		// The deadline is set again only once half of it has passed: a
		// chatty connection does not reset a timer twice per frame.
		wait := c.srv.parkAfter
		if !c.chatty {
			wait = min(wait, c.srv.parkSoon)
		}
		if now := monoMillis(); c.idleUntil == 0 || time.Duration(int32(c.idleUntil-now))*time.Millisecond < wait/2 {
			c.idleUntil = now + uint32(wait/time.Millisecond) | 1 // 0 means none
			_ = c.conn.SetReadDeadline(time.Now().Add(wait))
		}
		// requestClose sets closeReq, then a past deadline: seeing closeReq
		// unset here means that deadline comes after ours, not before.
		if c.closeReq.Load() {
			return nil
		}
		c.timedRead = true
		_, err := c.br.Peek(1)
		c.timedRead = false
		if !errors.Is(err, os.ErrDeadlineExceeded) || c.closeReq.Load() {
			return err
		}
		c.idleUntil = 0
		_ = c.conn.SetReadDeadline(time.Time{}) // same ordering argument
		if c.closeReq.Load() {
			return nil
		}
		if c.park() {
			return errParked
		}
		if c.noPark { // block as on other systems
			return nil
		}
	}
}

// preallocLimit bounds what a peer's declared frame length makes us
// allocate before the bytes actually arrive.
const preallocLimit = 32 << 10

// readPayload appends n bytes from r to dst, growing dst as data arrives.
func readPayload(r io.Reader, dst []byte, n int64) ([]byte, error) {
	for n > 0 {
		chunk := int(min(n, preallocLimit))
		start := len(dst)
		dst = slices.Grow(dst, chunk)[:start+chunk]
		if _, err := io.ReadFull(r, dst[start:]); err != nil {
			return dst, err
		}
		n -= int64(chunk)
	}
	return dst, nil
}

func (c *wsConn) readError(err error) wsEnd {
	if c.closeReq.Load() {
		return wsEnd{}
	}
	return wsEnd{reason: ReasonTransportClose, err: err}
}

func protocolEnd(what string) wsEnd {
	return wsEnd{reason: ReasonTransportError, err: &ProtocolError{Reason: "websocket: " + what}, code: ws.StatusProtocolError}
}
