package engineio

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func openWS(t *testing.T, opts *ServerOptions) (*echoHandler, *Server, *wsClient, string) {
	t.Helper()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, opts)
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	return h, srv, c, c.expectOpen()
}

func TestWebSocketMessageTooBig(t *testing.T) {
	t.Parallel()
	h, _, c, _ := openWS(t, &ServerOptions{MaxHTTPBufferSize: 100})
	c.sendText("4" + strings.Repeat("a", 99)) // exactly the limit
	c.expectText("4" + strings.Repeat("a", 99))
	c.sendText("4" + strings.Repeat("a", 100))
	if code := c.expectClose(); code != ws.StatusMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	if reason := h.waitClose(t); reason != ReasonTransportError {
		t.Fatalf("reason %q", reason)
	}
}

func TestWebSocketFragmentedTooBig(t *testing.T) {
	t.Parallel()
	_, _, c, _ := openWS(t, &ServerOptions{MaxHTTPBufferSize: 100})
	for i := 0; i < 3; i++ {
		op := ws.OpContinuation
		if i == 0 {
			op = ws.OpText
		}
		if err := ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewFrame(op, false, []byte(strings.Repeat("4", 40))))); err != nil {
			t.Fatal(err)
		}
	}
	if code := c.expectClose(); code != ws.StatusMessageTooBig {
		t.Fatalf("close code %d", code)
	}
}

func TestWebSocketFragmentsAndControlFrames(t *testing.T) {
	t.Parallel()
	_, _, c, _ := openWS(t, nil)
	write := func(f ws.Frame) {
		if err := ws.WriteFrame(c.conn, ws.MaskFrame(f)); err != nil {
			t.Fatal(err)
		}
	}
	write(ws.NewFrame(ws.OpText, false, []byte("4hel")))
	write(ws.NewPingFrame([]byte("x"))) // control frames may interleave
	write(ws.NewFrame(ws.OpContinuation, true, []byte("lo")))
	f, err := c.next()
	if err != nil || f.Header.OpCode != ws.OpPong || string(f.Payload) != "x" {
		t.Fatalf("pong: %v %v %q", err, f.Header.OpCode, f.Payload)
	}
	c.expectText("4hello")
}

func TestWebSocketProtocolErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		frame  ws.Frame
		masked bool
		code   ws.StatusCode
	}{
		"unmasked":           {ws.NewTextFrame([]byte("4x")), false, ws.StatusProtocolError},
		"invalid utf8":       {ws.NewTextFrame([]byte("4\xff")), true, ws.StatusInvalidFramePayloadData},
		"bare continuation":  {ws.NewFrame(ws.OpContinuation, true, []byte("x")), true, ws.StatusProtocolError},
		"reserved opcode":    {ws.NewFrame(0x3, true, []byte("x")), true, ws.StatusProtocolError},
		"fragmented control": {ws.NewFrame(ws.OpPing, false, nil), true, ws.StatusProtocolError},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, _, c, _ := openWS(t, nil)
			f := tc.frame
			if tc.masked {
				f = ws.MaskFrame(f)
			}
			if err := ws.WriteFrame(c.conn, f); err != nil {
				t.Fatal(err)
			}
			if code := c.expectClose(); code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
			if reason := h.waitClose(t); reason != ReasonTransportError {
				t.Fatalf("reason %q", reason)
			}
		})
	}
}

func TestWebSocketParseError(t *testing.T) {
	t.Parallel()
	h, _, c, _ := openWS(t, nil)
	c.sendText("abc")
	if code := c.expectClose(); code != 1005 {
		t.Fatalf("close code %d", code)
	}
	if reason := h.waitClose(t); reason != ReasonParseError {
		t.Fatalf("reason %q", reason)
	}
}

func TestWebSocketClientClose(t *testing.T) {
	t.Parallel()
	h, srv, c, sid := openWS(t, nil)
	c.send(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	if code := c.expectClose(); code != ws.StatusNormalClosure {
		t.Fatalf("echoed close code %d", code)
	}
	if reason := h.waitClose(t); reason != ReasonTransportClose {
		t.Fatalf("reason %q", reason)
	}
	if srv.lookup(sid) != nil {
		t.Fatal("sid still known")
	}
}

func TestWebSocketClientDisconnect(t *testing.T) {
	t.Parallel()
	h, _, c, _ := openWS(t, nil)
	c.conn.Close()
	if reason := h.waitClose(t); reason != ReasonTransportClose {
		t.Fatalf("reason %q", reason)
	}
}

func TestWebSocketClosePacket(t *testing.T) {
	t.Parallel()
	h, _, c, _ := openWS(t, nil)
	c.sendText("1")
	c.expectClose()
	if reason := h.waitClose(t); reason != ReasonTransportClose {
		t.Fatalf("reason %q", reason)
	}
}

func TestWebSocketServerCloseFlushesFirst(t *testing.T) {
	t.Parallel()
	h, srv, c, sid := openWS(t, nil)
	s := srv.lookup(sid)
	if err := s.Send(Message{Data: []byte("a")}, Message{Data: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	c.expectText("4a")
	c.expectText("4b")
	if code := c.expectClose(); code != 1005 {
		t.Fatalf("close code %d", code)
	}
	if reason := h.waitClose(t); reason != ReasonForcedClose {
		t.Fatalf("reason %q", reason)
	}
}

func TestWebSocketLargeMessagesInOrder(t *testing.T) {
	t.Parallel()
	_, srv, c, sid := openWS(t, nil)
	s := srv.lookup(sid)
	big := strings.Repeat("z", 70000)
	msgs := []Message{{Data: []byte("small")}, {Data: []byte(big)}, {Data: []byte{1, 2}, Binary: true}, {Data: []byte(big[:3000]), Binary: true}}
	if err := s.Send(msgs...); err != nil {
		t.Fatal(err)
	}
	c.expectText("4small")
	c.expectText("4" + big)
	for _, want := range msgs[2:] {
		f, err := c.next()
		if err != nil || f.Header.OpCode != ws.OpBinary || string(f.Payload) != string(want.Data) {
			t.Fatalf("binary frame: %v %v len %d", err, f.Header.OpCode, len(f.Payload))
		}
	}
}

// Frames of every size around the read buffers' (a 1 KB frame moves the
// connection to the big buffer), several per write, so that bytes are
// buffered when it would change buffers: all arrive whole and in order.
func TestWebSocketReadBufferSizes(t *testing.T) {
	t.Parallel()
	_, _, c, _ := openWS(t, nil)
	sizes := []int{10, 1000, 5, readBufSize, 3, bigReadBufSize - 20, bigReadBufSize + 100, 7, 70000, 1}
	var batch bytes.Buffer
	for i, n := range sizes {
		p := append([]byte{'4'}, bytes.Repeat([]byte{'a' + byte(i)}, n)...)
		if err := ws.WriteFrame(&batch, ws.MaskFrame(ws.NewFrame(ws.OpText, true, p))); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 { // three frames per write
			if _, err := c.conn.Write(batch.Bytes()); err != nil {
				t.Fatal(err)
			}
			batch.Reset()
		}
	}
	if _, err := c.conn.Write(batch.Bytes()); err != nil {
		t.Fatal(err)
	}
	for i, n := range sizes {
		c.expectText("4" + strings.Repeat(string(rune('a'+i)), n))
	}
}

func TestSlowClientQueueBound(t *testing.T) {
	t.Parallel()
	h, srv, _, sid := openWS(t, &ServerOptions{MaxQueuePackets: 10, MaxQueueBytes: 1 << 20})
	srv.closeTimeout = 200 * time.Millisecond
	s := srv.lookup(sid)
	// The client never reads: the kernel buffers fill, then the queue.
	chunk := Message{Data: make([]byte, 64<<10), Binary: true}
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		err = s.Send(chunk)
		if err == nil {
			time.Sleep(time.Millisecond / 10)
		}
	}
	if err != ErrQueueFull {
		t.Fatalf("Send never reported ErrQueueFull: %v", err)
	}
	s.mu.Lock()
	n, b := len(s.queue), s.queueBytes
	s.mu.Unlock()
	if n > 10 || b > 1<<20 {
		t.Fatalf("queue %d packets %d bytes exceeds the bound", n, b)
	}
	if s.SendVolatile(Message{Data: []byte("v")}) {
		t.Fatal("volatile message queued on a blocked writer")
	}
	// the orderly close cannot flush to a client that does not read: it is bounded
	s.CloseWithReason("slow")
	if reason := h.waitClose(t); reason != "slow" {
		t.Fatalf("reason %q", reason)
	}
}

func TestWebSocketTruncatedFrame(t *testing.T) {
	t.Parallel()
	h, _, c, _ := openWS(t, nil)
	// a 100-byte masked text frame of which only 10 bytes arrive
	if _, err := c.conn.Write(append([]byte{0x81, 0x80 | 100, 1, 2, 3, 4}, make([]byte, 10)...)); err != nil {
		t.Fatal(err)
	}
	c.conn.Close()
	if reason := h.waitClose(t); reason != ReasonTransportClose {
		t.Fatalf("reason %q", reason)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.messages) != 0 {
		t.Fatalf("partial frame delivered: %v", h.messages)
	}
}

// A client that reads late: Sends write what the socket takes at once and
// never block; the writer goroutine finishes the frames cut by a partial
// write, and the client gets every message intact and in order, control
// frames (pong) never inside a data frame.
func TestWebSocketPartialWritesInOrder(t *testing.T) {
	t.Parallel()
	_, srv, c, sid := openWS(t, &ServerOptions{MaxQueuePackets: 1 << 16, MaxQueueBytes: 64 << 20})
	s := srv.lookup(sid)
	var want []Message
	for i := range 400 { // ~13 MB: more than the socket buffers hold
		var m Message
		switch i % 4 {
		case 0:
			m = Message{Data: []byte(fmt.Sprintf("small %d", i))}
		case 1:
			m = Message{Data: bytes.Repeat([]byte{byte(i)}, 64<<10), Binary: true}
		case 2:
			m = Message{Data: []byte(strings.Repeat(string(rune('a'+i%26)), 3000+i))}
		default:
			m = Message{Data: bytes.Repeat([]byte{byte(i), 1}, 200), Binary: true}
		}
		want = append(want, m)
		if err := s.Send(m); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i%50 == 0 {
			c.send(ws.OpPing, []byte("p")) // its pong must not cut a data frame
		}
	}
	for i := 0; i < len(want); {
		f, err := c.next()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if f.Header.OpCode == ws.OpPong {
			continue
		}
		m := want[i]
		got, wantOp := f.Payload, ws.OpBinary
		if !m.Binary {
			wantOp = ws.OpText
			if len(got) == 0 || got[0] != '4' {
				t.Fatalf("message %d: %q...", i, got[:min(len(got), 10)])
			}
			got = got[1:]
		}
		if f.Header.OpCode != wantOp || !bytes.Equal(got, m.Data) {
			t.Fatalf("message %d: op %v, %d bytes, want op %v, %d bytes", i, f.Header.OpCode, len(got), wantOp, len(m.Data))
		}
		i++
	}
}

// blockingCloser's OnClose waits until the test lets it return.
type blockingCloser struct {
	opened  chan *Session
	release chan struct{}
	closed  chan string
}

func (h *blockingCloser) OnOpen(s *Session)           { h.opened <- s }
func (h *blockingCloser) OnMessage(*Session, Message) {}
func (h *blockingCloser) OnClose(_ *Session, reason string, _ error) {
	select {
	case <-h.release:
	case <-time.After(5 * time.Second):
		reason = "OnClose ran inside Send"
	}
	h.closed <- reason
}

// A write error met by Send's own write closes the session on another
// goroutine: Send never calls the Handler (the caller may hold its locks).
func TestWebSocketWriteErrorClosesOffSend(t *testing.T) {
	t.Parallel()
	h := &blockingCloser{opened: make(chan *Session, 1), release: make(chan struct{}), closed: make(chan string, 1)}
	_, ts := newTestServer(t, h, nil)
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	c.expectOpen()
	s := <-h.opened
	s.mu.Lock()
	conn := s.ws.conn.(*net.TCPConn)
	s.mu.Unlock()
	if err := conn.CloseWrite(); err != nil { // our next write fails with EPIPE
		t.Fatal(err)
	}
	if err := s.Send(Message{Data: []byte("lost")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	close(h.release)
	if reason := <-h.closed; reason != ReasonTransportError {
		t.Fatalf("close reason %q, want %q", reason, ReasonTransportError)
	}
}

// Only the wait for a new frame times out (and parks): a frame whose bytes
// trickle in over many parkAfter periods is read whole.
func TestWebSocketSlowFrameBody(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, quietOpts())
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	c.expectOpen()
	msg := "4" + strings.Repeat("slow ", 400)
	var frame bytes.Buffer
	if err := ws.WriteFrame(&frame, ws.MaskFrame(ws.NewFrame(ws.OpText, true, []byte(msg)))); err != nil {
		t.Fatal(err)
	}
	b := frame.Bytes()
	for _, part := range [][]byte{b[:1], b[1:6], b[6:700], b[700:]} { // header split too
		if _, err := c.conn.Write(part); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * parkAfter)
	}
	c.expectText(msg)
	c.sendText("4again") // and the loop goes on reading, deadline and all
	c.expectText("4again")
}

// An inline write that fails on a connection closed meanwhile releases its
// frames once: a second release would hand the same buffer to two writers.
func TestInlineWriteFailureReleasesOnce(t *testing.T) {
	c := &wsConn{fd: 0, wclosed: true}
	s := &Session{ws: c, state: stateClosed}
	c.s = s
	for range 100 {
		s.writing, s.inWrite = true, true
		s.writeInline(c, []Packet{{Type: PacketMessage, Data: []byte("x")}})
		a, b := framesPool.Get().(*frames), framesPool.Get().(*frames)
		if a == b {
			t.Fatal("the same frames came out of the pool twice")
		}
		framesPool.Put(a)
		framesPool.Put(b)
	}
}
