package engineio

import (
	"bufio"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// echoOnly sends messages back and records nothing (fuzzing runs millions of sessions).
type echoOnly struct{}

func (echoOnly) OnOpen(*Session)                 {}
func (echoOnly) OnMessage(s *Session, m Message) { _ = s.Send(m) }
func (echoOnly) OnClose(*Session, string, error) {}

// FuzzPollingPost feeds arbitrary POST bodies to a polling session.
func FuzzPollingPost(f *testing.F) {
	for _, s := range []string{"4hello", "4test1\x1e4test2\x1e4test3", "4hello\x1ebAQIDBA==", "abc", "1", "2", "3",
		"5", "6", "\x1e", "", "b!!", "4a\x1e1\x1e4b", strings.Repeat("4x\x1e", 50) + "4y"} {
		f.Add([]byte(s))
	}
	srv := NewServer(echoOnly{}, &ServerOptions{MaxHTTPBufferSize: 4096})
	f.Cleanup(func() { _ = srv.Close(f.Context()) })
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=polling", nil))
		sid := openRe.FindStringSubmatch(rec.Body.String())[1]
		rec = httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("POST", "/engine.io/?EIO=4&transport=polling&sid="+sid, strings.NewReader(string(body))))
		switch {
		case len(body) > 4096:
			if rec.Code != 413 {
				t.Fatalf("oversize body: %d", rec.Code)
			}
		case rec.Code != 200 || rec.Body.String() != "ok":
			t.Fatalf("POST %q: %d %q", body, rec.Code, rec.Body.String())
		}
		if s := srv.lookup(sid); s != nil {
			s.mu.Lock()
			n, b := len(s.queue), s.queueBytes
			s.mu.Unlock()
			if n > srv.opts.MaxQueuePackets+1 || b > srv.opts.MaxQueueBytes {
				t.Fatalf("queue unbounded: %d packets %d bytes", n, b)
			}
			s.CloseWithReason("done")
			s.closeNow("", nil, 0)
		}
	})
}

// FuzzWebSocketFrames feeds arbitrary bytes to a WebSocket session's read loop.
func FuzzWebSocketFrames(f *testing.F) {
	frame := func(op ws.OpCode, fin bool, p string) []byte {
		var b strings.Builder
		_ = ws.WriteFrame(&b, ws.MaskFrame(ws.NewFrame(op, fin, []byte(p))))
		return []byte(b.String())
	}
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	f.Add(frame(ws.OpText, true, "4hello"))
	f.Add(frame(ws.OpBinary, true, "\x01\x02"))
	f.Add(cat(frame(ws.OpText, false, "4he"), frame(ws.OpPing, true, "p"), frame(ws.OpContinuation, true, "llo")))
	f.Add(frame(ws.OpText, true, "abc"))
	f.Add(frame(ws.OpText, true, "3"))
	f.Add(frame(ws.OpClose, true, "\x03\xe8"))
	f.Add(frame(ws.OpText, true, strings.Repeat("4", 300)))
	f.Add([]byte{0x81, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	srv := NewServer(echoOnly{}, &ServerOptions{MaxHTTPBufferSize: 256})
	f.Cleanup(func() { _ = srv.Close(f.Context()) })
	f.Fuzz(func(t *testing.T, in []byte) {
		client, server := net.Pipe()
		defer client.Close()
		c := &wsConn{srv: srv, conn: server, br: bufio.NewReaderSize(server, 512)}
		srv.wg.Add(1)
		s := srv.openSession(httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=websocket", nil), transportWebSocket, c, nil)
		done := make(chan struct{})
		go func() { c.serve(); close(done) }()
		go func() { _, _ = io.Copy(io.Discard, client) }()
		_ = client.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = client.Write(in)
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("read loop did not end")
		}
		if srv.lookup(s.ID()) != nil {
			t.Fatal("session still open after its connection ended")
		}
	})
}
