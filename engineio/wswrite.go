package engineio

import (
	"encoding/binary"
	"net"
	"sync"

	"github.com/gobwas/ws"
)

// The WebSocket write path. A Send that finds no writer running claims the
// writer role (Session.writing) and writes at once, on its own goroutine,
// without waiting: on Linux one non-blocking write or writev on the fd.
// Only what the socket does not take (or everything, elsewhere and for
// TLS) goes to a writer goroutine, which then writes everything queued
// meanwhile, in one write per batch, and exits when the queue is empty.

// frames is one batch of WebSocket frames ready to write: buf holds the
// headers and small payloads, large payloads are written from the
// messages' own bytes; out lists the pieces not written yet.
type frames struct {
	buf    []byte
	pieces net.Buffers // out's backing array when large payloads are pieces of their own
	one    [1][]byte   // out's backing array when buf is the only piece
	out    net.Buffers
	locked bool // wmu is held: written partially, no other frame may come in between
}

var framesPool = sync.Pool{New: func() any { return &frames{buf: make([]byte, 0, 1024)} }}

// buildFrames encodes pkts as WebSocket frames (server frames are unmasked)
// behind prefix (usually nil).
func buildFrames(prefix []byte, pkts []Packet) *frames {
	f := framesPool.Get().(*frames)
	b, pieces := append(f.buf[:0], prefix...), f.pieces[:0]
	mark := 0
	for _, p := range pkts {
		n, op := len(p.Data), ws.OpBinary
		if !p.Binary {
			n, op = n+1, ws.OpText
		}
		b = appendFrameHeader(b, op, n)
		if !p.Binary {
			b = append(b, '0'+byte(p.Type))
		}
		if len(p.Data) < largeFrame {
			b = append(b, p.Data...)
			continue
		}
		pieces = append(pieces, b[mark:], p.Data)
		mark = len(b)
	}
	f.buf, f.pieces = b, pieces
	if len(pieces) == 0 {
		f.one[0] = b
		f.out = f.one[:]
		return f
	}
	if mark < len(b) {
		f.pieces = append(f.pieces, b[mark:])
	}
	f.out = f.pieces
	return f
}

func (f *frames) release() {
	clear(f.pieces)
	f.one[0], f.out, f.locked = nil, nil, false
	if cap(f.buf) <= 64<<10 && cap(f.pieces) <= 256 {
		f.buf, f.pieces = f.buf[:0], f.pieces[:0]
		framesPool.Put(f)
	}
}

// consume drops the first n bytes of f.out.
func (f *frames) consume(n int) {
	for n > 0 && len(f.out) > 0 {
		if n < len(f.out[0]) {
			f.out[0] = f.out[0][n:]
			return
		}
		n -= len(f.out[0])
		f.out = f.out[1:]
	}
	for len(f.out) > 0 && len(f.out[0]) == 0 {
		f.out = f.out[1:]
	}
}

// tryWrite writes f without waiting. It reports whether everything was
// written (f is then released); otherwise f holds the rest, with f.locked
// telling whether wmu is still held for it.
func (c *wsConn) tryWrite(f *frames) (bool, error) {
	if c.fd < 0 || !c.wmu.TryLock() { // no raw socket, or a control frame is being written
		return false, nil
	}
	if c.wclosed {
		c.wmu.Unlock()
		f.release()
		return false, net.ErrClosed
	}
	n, err := writeNow(int(c.fd), f.out)
	if err != nil {
		c.wmu.Unlock()
		f.release()
		return false, err
	}
	f.consume(n)
	if len(f.out) > 0 {
		f.locked = true // the writer goroutine finishes the frame and unlocks
		return false, nil
	}
	c.wmu.Unlock()
	f.release()
	return true, nil
}

// writeFrames writes f, waiting as long as the connection's write deadline
// allows, and releases it.
func (c *wsConn) writeFrames(f *frames) error {
	if !f.locked {
		c.wmu.Lock()
	}
	var err error
	if len(f.out) == 1 {
		_, err = c.conn.Write(f.out[0])
	} else {
		_, err = f.out.WriteTo(c.conn)
	}
	c.wmu.Unlock()
	f.release()
	return err
}

// writePackets writes pkts in one write (one writev when large payloads
// are not copied), waiting as needed.
func (c *wsConn) writePackets(pkts []Packet) error {
	return c.writeFrames(buildFrames(nil, pkts))
}

// claimWriterLocked makes the transport write what is queued. When a
// WebSocket has no writer, the caller becomes it: it gets the connection
// and the packets, and must call writeInline once s.mu is unlocked.
func (s *Session) claimWriterLocked() (*wsConn, []Packet) {
	if s.onWS && !s.writing && s.ws != nil && len(s.queue) > 0 && s.state != stateClosed {
		s.writing, s.inWrite = true, true
		return s.ws, s.takeQueueLocked()
	}
	s.kickLocked()
	return nil, nil
}

// writeInline writes pkts without waiting, as the claimed writer, then
// hands the rest, whatever was queued meanwhile, and any close (a write
// error, an orderly close now drained) to a writer goroutine: Send never
// calls the Handler.
func (s *Session) writeInline(c *wsConn, pkts []Packet) { s.writeInlineAfter(c, nil, pkts) }

// writeInlineAfter is writeInline with prefix written first, in the same
// write.
func (s *Session) writeInlineAfter(c *wsConn, prefix []byte, pkts []Packet) {
	f := buildFrames(prefix, pkts)
	done, err := c.tryWrite(f)
	if done || err != nil {
		f = nil // released by tryWrite
	}
	s.mu.Lock()
	s.recycleLocked(pkts)
	switch {
	case done:
		s.inWrite = false
		if s.ws != c || s.state == stateClosed || s.state == stateOpen && len(s.queue) == 0 {
			s.writing = false
			s.mu.Unlock()
			return
		}
	case s.ws != c || s.state == stateClosed: // closed meanwhile: the rest is dropped, as the queue was
		s.writing, s.inWrite = false, false
		s.mu.Unlock()
		if f != nil {
			if f.locked {
				c.wmu.Unlock()
			}
			f.release()
		}
		return
	}
	s.srv.wg.Add(1)
	s.mu.Unlock()
	go s.writeLoop(c, f, err)
}

// stopWriterLocked ends the writer role when nothing is left to write, and
// then unlocks s.mu (closing the session if an orderly close was waiting
// for the queue to drain); otherwise it keeps s.mu locked and reports false.
func (s *Session) stopWriterLocked(c *wsConn) bool {
	if s.ws == c && s.state != stateClosed && len(s.queue) > 0 {
		return false
	}
	s.writing = false
	finish := s.ws == c && s.state == stateClosing && len(s.queue) == 0
	s.mu.Unlock()
	if finish {
		s.closeNow("", nil, 0) // orderly close: everything is written
	}
	return true
}

// maxSpareQueue bounds the queue array a busy session keeps for reuse.
const maxSpareQueue = 1024

// recycleLocked keeps pkts' backing array as the next queue's while more
// is queued (a busy session writes batch after batch without allocating);
// a session whose queue is empty lets it go to spareQueues: most sessions
// are idle most of the time, and the next Send takes one from there.
func (s *Session) recycleLocked(pkts []Packet) {
	clear(pkts)
	switch {
	case pkts == nil || cap(pkts) > maxSpareQueue:
	case s.spare == nil && len(s.queue) > 0:
		s.spare = pkts[:0]
	default:
		putQueue(pkts)
	}
}

// spareQueues recycles the queue arrays that idle sessions let go, so that
// a burst to many sessions (a broadcast) does not allocate and grow a queue
// for each one.
var spareQueues = make(freeList[[]Packet], 1024)

func getQueue() []Packet {
	if q, ok := spareQueues.get(); ok {
		return q
	}
	return make([]Packet, 0, 8)
}

func putQueue(q []Packet) {
	if cap(q) <= 64 {
		spareQueues.put(q[:0])
	}
}

// writeLoop is the writer goroutine: it writes f (the rest of an inline
// write; may be nil), then everything queued on c, as few writes as
// possible, and exits when the queue is empty. A non-nil err (of an inline
// write) closes the session at once.
func (s *Session) writeLoop(c *wsConn, f *frames, err error) {
	defer s.srv.wg.Done()
	var pkts []Packet // the batch f was built from, recycled once written
	for {
		if f != nil {
			err = c.writeFrames(f)
		}
		s.mu.Lock()
		s.inWrite = false
		s.recycleLocked(pkts)
		if err != nil {
			s.writing = false
			s.mu.Unlock()
			s.closeNow(ReasonTransportError, err, 0)
			return
		}
		if s.stopWriterLocked(c) {
			return
		}
		pkts = s.takeQueueLocked()
		s.inWrite = true
		s.mu.Unlock()
		f = buildFrames(nil, pkts)
	}
}

func appendFrameHeader(b []byte, op ws.OpCode, n int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
}

func (c *wsConn) writeControl(op ws.OpCode, payload []byte) error {
	var buf [2 + 125]byte
	b := appendFrameHeader(buf[:0], op, len(payload))
	b = append(b, payload...)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.conn.Write(b)
	return err
}
