package suite

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/rawclient"
)

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
	bin1, bin2 := rawclient.B64([]byte{1, 2, 3}), rawclient.B64([]byte{4, 5, 6})
	connect := func(t *testing.T) *rawclient.Client {
		c := rawclient.WebSocket(t, ts.URL, "/socket.io/")
		c.Send("40")
		c.Expect(`40{"sid":"*`, `42["auth",{}]`)
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
			c := rawclient.WebSocket(t, ts.URL, "/socket.io/")
			c.Send(tc.send)
			c.Expect(tc.reply, tc.auth)
		}
	})
	t.Run("unknown namespace", func(t *testing.T) {
		c := rawclient.WebSocket(t, ts.URL, "/socket.io/")
		c.Send("40/random")
		c.Expect(`44/random,{"message":"Invalid namespace"}`)
	})
	t.Run("invalid handshake", func(t *testing.T) {
		c := rawclient.WebSocket(t, ts.URL, "/socket.io/")
		c.Send("4abc")
		c.ExpectClose()
	})
	t.Run("no handshake", func(t *testing.T) {
		rawclient.WebSocket(t, ts.URL, "/socket.io/").ExpectClose() // connectTimeout 1000 ms
	})
	t.Run("disconnect main namespace", func(t *testing.T) {
		c := connect(t)
		c.Send("41")
		// Nothing is sent back: the next packet (pings aside) is the
		// answer to the next request.
		c.Send("40/custom,")
		c.Expect(`40/custom,{"sid":"*`, `42/custom,["auth",{}]`)
	})
	t.Run("connect then disconnect custom namespace", func(t *testing.T) {
		c := connect(t)
		c.Send("40/custom")
		c.Expect(`40/custom,{"sid":"*`, `42/custom,["auth",{}]`)
		c.Send("41/custom")
		c.Send(`42["message","message to main namespace"]`)
		c.Expect(`42["message-back","message to main namespace"]`)
	})
	t.Run("plain-text message", func(t *testing.T) {
		c := connect(t)
		c.Send(`42["message",1,"2",{"3":[true]}]`)
		c.Expect(`42["message-back",1,"2",{"3":[true]}]`)
	})
	t.Run("binary message", func(t *testing.T) {
		c := connect(t)
		c.Send(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, bin1, bin2)
		c.Expect(`452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, bin1, bin2)
	})
	t.Run("plain-text message with ack", func(t *testing.T) {
		c := connect(t)
		c.Send(`42456["message-with-ack",1,"2",{"3":[false]}]`)
		c.Expect(`43456[1,"2",{"3":[false]}]`)
	})
	t.Run("binary message with ack", func(t *testing.T) {
		c := connect(t)
		c.Send(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, bin1, bin2)
		c.Expect(`462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, bin1, bin2)
	})
	for _, bad := range []string{"4abc", "42{}", `42abc["message-with-ack",1,"2",{"3":[false]}]`} {
		t.Run("invalid "+bad, func(t *testing.T) {
			c := connect(t)
			c.Send(bad)
			c.ExpectClose()
		})
	}
}
