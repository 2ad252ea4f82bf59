package engineio

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// clientWS is the client end of a WebSocket: frames we send are masked.
type clientWS struct {
	conn  net.Conn
	br    *bufio.Reader
	limit int64

	wmu       sync.Mutex // serializes writes
	closeOnce sync.Once
}

// dialWS opens a WebSocket to the endpoint, for the session sid when not "".
func (c *ClientConn) dialWS(ctx context.Context, sid string) (*clientWS, error) {
	u := c.wsURL
	if sid != "" {
		u += "&sid=" + sid
	}
	d := ws.Dialer{TLSConfig: c.opts.TLSConfig}
	if len(c.opts.Header) > 0 {
		d.Header = ws.HandshakeHeaderHTTP(c.opts.Header)
	}
	conn, br, _, err := d.Dial(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("engineio: websocket: %w", err)
	}
	var rd io.Reader = conn
	if br != nil { // frames sent right behind the handshake
		rd = io.MultiReader(br, conn)
	}
	return &clientWS{conn: conn, br: bufio.NewReaderSize(rd, 4096), limit: c.opts.MaxMessageSize}, nil
}

// openWebSocket performs a WebSocket-only handshake: the first message is
// the open packet.
func (c *ClientConn) openWebSocket(ctx context.Context) error {
	w, err := c.dialWS(ctx, "")
	if err != nil {
		priorWebSocketSuccess.Store(false)
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = w.conn.SetReadDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = w.conn.SetReadDeadline(time.Unix(1, 0)) })
	p, err := w.readPacket()
	stop()
	_ = w.conn.SetReadDeadline(time.Time{})
	if err == nil {
		err = c.parseOpen(p)
	}
	if err != nil {
		w.close(false)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return err
	}
	c.ws = w
	return nil
}

// upgrade probes a WebSocket for the session and, when the server answers
// the probe, pauses polling and switches to it. A failed probe leaves the
// connection on polling.
func (c *ClientConn) upgrade() {
	defer c.wg.Done()
	w, err := c.dialWS(c.ctx, c.sid)
	if err != nil {
		c.log.Debug("engineio: probe error", "sid", c.sid, "err", err)
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		w.close(false)
		return
	}
	c.probe = w
	c.mu.Unlock()

	ok := c.probeWS(w)
	c.mu.Lock()
	c.probe = nil
	if ok && !c.closed {
		// Pause polling: the in-flight POST finishes and the pending GET
		// returns (the server answers it with a noop).
		c.paused = true
		for (c.reading || c.writing) && !c.closed {
			c.changed.Wait()
		}
	}
	if !ok || c.closed {
		c.mu.Unlock()
		w.close(false)
		return
	}
	c.mu.Unlock()

	if err := w.writePackets([]Packet{{Type: PacketUpgrade}}); err != nil {
		w.close(false)
		c.fail(ReasonTransportError, err)
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		w.close(false)
		return
	}
	c.transport, c.ws, c.paused, c.reading = transportWebSocket, w, false, true
	priorWebSocketSuccess.Store(true)
	c.wg.Add(1)
	go c.wsReadLoop(w)
	c.startWriterLocked()
	c.mu.Unlock()
	c.log.Debug("engineio: client upgraded", "sid", c.sid, "transport", transportWebSocket)
}

// probeWS sends "2probe" and expects "3probe".
func (c *ClientConn) probeWS(w *clientWS) bool {
	if err := w.writePackets([]Packet{{Type: PacketPing, Data: []byte("probe")}}); err != nil {
		c.log.Debug("engineio: probe error", "sid", c.sid, "err", err)
		w.close(false)
		return false
	}
	_ = w.conn.SetReadDeadline(time.Now().Add(probeTimeout))
	p, err := w.readPacket()
	_ = w.conn.SetReadDeadline(time.Time{})
	if err != nil || p.Type != PacketPong || string(p.Data) != "probe" {
		c.log.Debug("engineio: probe error", "sid", c.sid, "err", err, "packet", p.Type)
		priorWebSocketSuccess.Store(false)
		return false
	}
	return true
}

// wsReadLoop is the WebSocket reader.
func (c *ClientConn) wsReadLoop(w *clientWS) {
	defer c.wg.Done()
	defer c.readerDone()
	for {
		p, err := w.readPacket()
		if err != nil {
			reason := ReasonTransportClose
			switch {
			case errors.Is(err, ErrInvalidPacket):
				reason = ReasonParseError
			case errors.Is(err, ErrMessageTooBig), errors.Is(err, errWSProtocol):
				reason = ReasonTransportError
			}
			c.fail(reason, err)
			return
		}
		if !c.onPacket(p) {
			return
		}
	}
}

var errWSProtocol = errors.New("engineio: websocket protocol error")

// readPacket reads the next message, answering pings on the way. A close
// frame from the server is io.EOF.
func (w *clientWS) readPacket() (Packet, error) {
	var (
		msg   []byte
		msgOp ws.OpCode
		inMsg bool
		ctl   [125]byte
	)
	for {
		h, err := ws.ReadHeader(w.br)
		if err != nil {
			return Packet{}, err
		}
		if h.Rsv != 0 || h.Masked {
			return Packet{}, fmt.Errorf("%w: reserved bits or masked frame", errWSProtocol)
		}
		if h.OpCode.IsControl() {
			if h.Length > 125 || !h.Fin {
				return Packet{}, fmt.Errorf("%w: invalid control frame", errWSProtocol)
			}
			p := ctl[:h.Length]
			if _, err := io.ReadFull(w.br, p); err != nil {
				return Packet{}, err
			}
			switch h.OpCode {
			case ws.OpPing:
				if err := w.writeFrame(ws.OpPong, p); err != nil {
					return Packet{}, err
				}
			case ws.OpClose:
				return Packet{}, io.EOF
			}
			continue
		}
		switch h.OpCode {
		case ws.OpText, ws.OpBinary:
			if inMsg {
				return Packet{}, fmt.Errorf("%w: new message inside a fragmented one", errWSProtocol)
			}
			inMsg, msgOp, msg = true, h.OpCode, nil
		case ws.OpContinuation:
			if !inMsg {
				return Packet{}, fmt.Errorf("%w: continuation without a message", errWSProtocol)
			}
		default:
			return Packet{}, fmt.Errorf("%w: reserved opcode", errWSProtocol)
		}
		if h.Length > w.limit-int64(len(msg)) {
			return Packet{}, ErrMessageTooBig
		}
		if msg, err = appendRead(msg, w.br, h.Length); err != nil {
			return Packet{}, err
		}
		if !h.Fin {
			continue
		}
		if msgOp == ws.OpBinary {
			return Packet{Type: PacketMessage, Data: msg, Binary: true}, nil
		}
		return DecodePacket(msg)
	}
}

// appendRead appends n bytes read from r to dst, growing dst as the data
// arrives, so a large declared length costs memory only once it is sent.
func appendRead(dst []byte, r io.Reader, n int64) ([]byte, error) {
	const chunk = 64 << 10
	for n > 0 {
		k := int(min(n, chunk))
		dst = slices.Grow(dst, k)
		if _, err := io.ReadFull(r, dst[len(dst):len(dst)+k]); err != nil {
			return dst, err
		}
		dst = dst[:len(dst)+k]
		n -= int64(k)
	}
	return dst, nil
}

// writePackets writes one frame per packet in a single write.
func (w *clientWS) writePackets(pkts []Packet) error {
	n := 0
	for _, p := range pkts {
		n += ws.MaxHeaderSize + EncodedLen(p)
	}
	buf := make([]byte, 0, n)
	for _, p := range pkts {
		op := ws.OpText
		start := len(buf)
		if p.Binary {
			op = ws.OpBinary
			buf = append(buf, p.Data...)
		} else {
			buf = AppendPacket(buf, p)
		}
		buf = appendMasked(buf, start, op)
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_, err := w.conn.Write(buf)
	return err
}

// appendMasked turns buf[start:] (a payload) into a masked frame.
func appendMasked(buf []byte, start int, op ws.OpCode) []byte {
	payload := buf[start:]
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(payload)), Masked: true, Mask: ws.NewMask()}
	hdr := headerBytes(h)
	ws.Cipher(payload, h.Mask, 0)
	buf = append(buf, hdr...) // grow, then move the payload behind the header
	copy(buf[start+len(hdr):], payload)
	copy(buf[start:], hdr)
	return buf
}

func headerBytes(h ws.Header) []byte {
	var b [ws.MaxHeaderSize]byte
	wr := fixedWriter{buf: b[:0]}
	_ = ws.WriteHeader(&wr, h)
	return wr.buf
}

type fixedWriter struct{ buf []byte }

func (f *fixedWriter) Write(p []byte) (int, error) {
	f.buf = append(f.buf, p...)
	return len(p), nil
}

func (w *clientWS) writeFrame(op ws.OpCode, payload []byte) error {
	buf := appendMasked(append([]byte(nil), payload...), 0, op)
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_, err := w.conn.Write(buf)
	return err
}

// close closes the connection, with a normal close frame first when polite.
func (w *clientWS) close(polite bool) {
	w.closeOnce.Do(func() {
		if polite {
			_ = w.conn.SetWriteDeadline(time.Now().Add(closeGrace))
			_ = w.writeFrame(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
		}
		w.conn.Close()
	})
}
