package suite

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// wsClient is a raw WebSocket client speaking Engine.IO packets, like the
// official Socket.IO v5 test suite does.
type wsClient struct {
	t    *testing.T
	conn net.Conn
	rw   io.ReadWriter // conn, after what the dialer buffered
}

type frame struct {
	text   string
	binary []byte
}

func dialWS(t *testing.T, ts *httptest.Server) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn, rw: conn}
	if br != nil {
		c.rw = struct {
			io.Reader
			io.Writer
		}{io.MultiReader(br, conn), conn}
	}
	if f := c.read(); !strings.HasPrefix(f.text, `0{"sid":`) {
		t.Fatalf("handshake %q", f.text)
	}
	return c
}

// read returns the next frame that is not a ping (pings are answered).
func (c *wsClient) read() frame {
	c.t.Helper()
	for {
		f, ok := c.readFrame()
		if !ok {
			c.t.Fatal("connection closed")
		}
		if f.text == "2" {
			c.sendText("3")
			continue
		}
		return f
	}
}

func (c *wsClient) readFrame() (frame, bool) {
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	data, op, err := wsutil.ReadServerData(c.rw)
	if err != nil {
		return frame{}, false
	}
	if op == ws.OpBinary {
		return frame{binary: data}, true
	}
	return frame{text: string(data)}, true
}

func (c *wsClient) sendText(s string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.conn, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	if err := wsutil.WriteClientBinary(c.conn, b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		f := c.read()
		if pre, ok := strings.CutSuffix(w, "*"); ok && strings.HasPrefix(f.text, pre) {
			continue
		}
		if f.text != w {
			c.t.Fatalf("got %q (binary %v), want %q", f.text, f.binary, w)
		}
	}
}

func (c *wsClient) expectBinary(want []byte) {
	c.t.Helper()
	if f := c.read(); !bytes.Equal(f.binary, want) {
		c.t.Fatalf("got %q %v, want binary %v", f.text, f.binary, want)
	}
}

// expectClose reads (answering pings) until the server closes.
func (c *wsClient) expectClose() {
	c.t.Helper()
	for {
		f, ok := c.readFrame()
		if !ok {
			return
		}
		if f.text == "2" {
			c.sendText("3")
			continue
		}
		c.t.Fatalf("got %q while waiting for the close", f.text)
	}
}

func newSuiteServer(t *testing.T) *httptest.Server {
	srv := New()
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	return ts
}

// The cases of the official Socket.IO v5 test suite, over WebSocket.
func TestSocketIOSuite(t *testing.T) {
	ts := newSuiteServer(t)
	connect := func(t *testing.T) *wsClient {
		c := dialWS(t, ts)
		c.sendText("40")
		c.expect(`40{"sid":"*`, `42["auth",{}]`)
		return c
	}
	t.Run("connect", func(t *testing.T) {
		cases := []struct{ send, reply, auth string }{
			{"40", `40{"sid":"*`, `42["auth",{}]`},
			{`40{"token":"123"}`, `40{"sid":"*`, `42["auth",{"token":"123"}]`},
			{"40/custom,", `40/custom,{"sid":"*`, `42/custom,["auth",{}]`},
			{`40/custom,{"token":"abc"}`, `40/custom,{"sid":"*`, `42/custom,["auth",{"token":"abc"}]`},
		}
		for _, tc := range cases {
			c := dialWS(t, ts)
			c.sendText(tc.send)
			c.expect(tc.reply, tc.auth)
		}
	})
	t.Run("unknown namespace", func(t *testing.T) {
		c := dialWS(t, ts)
		c.sendText("40/random")
		c.expect(`44/random,{"message":"Invalid namespace"}`)
	})
	t.Run("invalid handshake", func(t *testing.T) {
		c := dialWS(t, ts)
		c.sendText("4abc")
		c.expectClose()
	})
	t.Run("no handshake", func(t *testing.T) {
		dialWS(t, ts).expectClose() // connectTimeout 1000 ms
	})
	t.Run("disconnect main namespace", func(t *testing.T) {
		c := connect(t)
		c.sendText("41")
		// Nothing is sent back; the next packet is a ping.
		f, ok := c.readFrame()
		if !ok || f.text != "2" {
			t.Fatalf("got %q, want the ping", f.text)
		}
	})
	t.Run("connect then disconnect custom namespace", func(t *testing.T) {
		c := connect(t)
		c.sendText("40/custom")
		c.expect(`40/custom,{"sid":"*`, `42/custom,["auth",{}]`)
		c.sendText("41/custom")
		c.sendText(`42["message","message to main namespace"]`)
		c.expect(`42["message-back","message to main namespace"]`)
	})
	t.Run("plain-text message", func(t *testing.T) {
		c := connect(t)
		c.sendText(`42["message",1,"2",{"3":[true]}]`)
		c.expect(`42["message-back",1,"2",{"3":[true]}]`)
	})
	t.Run("binary message", func(t *testing.T) {
		c := connect(t)
		c.sendText(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		c.sendBinary([]byte{1, 2, 3})
		c.sendBinary([]byte{4, 5, 6})
		c.expect(`452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		c.expectBinary([]byte{1, 2, 3})
		c.expectBinary([]byte{4, 5, 6})
	})
	t.Run("plain-text message with ack", func(t *testing.T) {
		c := connect(t)
		c.sendText(`42456["message-with-ack",1,"2",{"3":[false]}]`)
		c.expect(`43456[1,"2",{"3":[false]}]`)
	})
	t.Run("binary message with ack", func(t *testing.T) {
		c := connect(t)
		c.sendText(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		c.sendBinary([]byte{1, 2, 3})
		c.sendBinary([]byte{4, 5, 6})
		c.expect(`462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		c.expectBinary([]byte{1, 2, 3})
		c.expectBinary([]byte{4, 5, 6})
	})
	for _, bad := range []string{"4abc", "42{}", `42abc["message-with-ack",1,"2",{"3":[false]}]`} {
		t.Run("invalid "+bad, func(t *testing.T) {
			c := connect(t)
			c.sendText(bad)
			c.expectClose()
		})
	}
}
