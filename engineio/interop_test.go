package engineio_test

// The official engine.io-client (npm, pinned in package-lock.json) against
// our server, over polling only, WebSocket only and polling upgraded to
// WebSocket. The script is testdata/interop/client.mjs.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/seed9706/socketio/engineio"
	"github.com/seed9706/socketio/internal/interop"
)

const clientScript = "testdata/interop/client.mjs"

// testLimit is the MaxHTTPBufferSize of these tests: small enough to keep
// near-limit messages cheap under -race.
const testLimit = 100_000

type mode struct {
	name       string
	transports []string
	upgrade    bool
	final      string // the transport once connected (and upgraded)
}

var modes = []mode{
	{"polling", []string{"polling"}, false, "polling"},
	{"websocket", []string{"websocket"}, false, "websocket"},
	{"upgrade", []string{"polling", "websocket"}, true, "websocket"},
}

// closed is one OnClose call.
type closed struct {
	reason string
	cause  error
}

// echoHandler sends every message back as it came; the text "close-me"
// makes the server close the session instead.
type echoHandler struct {
	t      testing.TB
	opened chan *engineio.Session
	closed chan closed
}

func (h *echoHandler) OnOpen(s *engineio.Session) { h.opened <- s }

func (h *echoHandler) OnMessage(s *engineio.Session, m engineio.Message) {
	if !m.Binary && string(m.Data) == "close-me" {
		s.Close()
		return
	}
	if err := s.Send(m); err != nil {
		h.t.Errorf("echo: %v", err)
	}
}

func (h *echoHandler) OnClose(_ *engineio.Session, reason string, cause error) {
	h.closed <- closed{reason, cause}
}

// peer is our server with one engine.io-client connected to it.
type peer struct {
	url  string
	h    *echoHandler
	p    *interop.Process
	sess *engineio.Session
}

func startPeer(t *testing.T, m mode, opts *engineio.ServerOptions, reportPings bool) *peer {
	t.Helper()
	interop.Require(t) // skip before starting a server when node is missing
	h := &echoHandler{t: t, opened: make(chan *engineio.Session, 4), closed: make(chan closed, 4)}
	srv := engineio.NewServer(h, opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("server close: %v", err)
		}
		hs.Close()
	})
	clientOpts, err := json.Marshal(map[string]any{
		"transports":  m.transports,
		"upgrade":     m.upgrade,
		"reportPings": reportPings,
	})
	if err != nil {
		t.Fatal(err)
	}
	pr := &peer{url: hs.URL, h: h, p: interop.Start(t, clientScript, hs.URL, string(clientOpts))}

	var hello struct {
		Data struct {
			SID          string
			Upgrades     []string
			PingInterval int
			PingTimeout  int
			MaxPayload   int
		}
	}
	if err := pr.p.Expect(t, "handshake").Decode(&hello); err != nil {
		t.Fatal(err)
	}
	// The JS defaults, unless the test set an option.
	wantInterval, wantTimeout, wantMax := 25000, 20000, 1000000
	if opts != nil && opts.PingInterval > 0 {
		wantInterval = int(opts.PingInterval / time.Millisecond)
	}
	if opts != nil && opts.PingTimeout > 0 {
		wantTimeout = int(opts.PingTimeout / time.Millisecond)
	}
	if opts != nil && opts.MaxHTTPBufferSize > 0 {
		wantMax = int(opts.MaxHTTPBufferSize)
	}
	wantUpgrades := "[websocket]"
	if m.transports[0] == "websocket" {
		wantUpgrades = "[]"
	}
	if d := hello.Data; d.SID == "" || fmt.Sprint(d.Upgrades) != wantUpgrades ||
		d.PingInterval != wantInterval || d.PingTimeout != wantTimeout || d.MaxPayload != wantMax {
		t.Fatalf("handshake %+v, want upgrades %s, pingInterval %d, pingTimeout %d, maxPayload %d",
			d, wantUpgrades, wantInterval, wantTimeout, wantMax)
	}
	var open struct{ Transport string }
	if err := pr.p.Expect(t, "open").Decode(&open); err != nil {
		t.Fatal(err)
	}
	if open.Transport != m.transports[0] {
		t.Fatalf("opened on %q, want %q", open.Transport, m.transports[0])
	}
	select {
	case pr.sess = <-h.opened:
	case <-time.After(10 * time.Second):
		t.Fatal("OnOpen not called")
	}
	if pr.sess.ID() != hello.Data.SID {
		t.Fatalf("session %q, client got sid %q", pr.sess.ID(), hello.Data.SID)
	}
	return pr
}

// upgraded waits for the client's upgrade in upgrade mode.
func (pr *peer) upgraded(t *testing.T, m mode) {
	t.Helper()
	if !m.upgrade {
		return
	}
	var u struct{ Transport string }
	if err := pr.p.Await(t, "upgrade").Decode(&u); err != nil {
		t.Fatal(err)
	}
	if u.Transport != "websocket" {
		t.Fatalf("upgraded to %q", u.Transport)
	}
}

// sidForgotten checks that the closed session cannot be resumed: its sid is
// unknown to the server.
func (pr *peer) sidForgotten(t *testing.T) {
	t.Helper()
	get := func() (int, string) {
		res, err := http.Get(pr.url + "/engine.io/?EIO=4&transport=polling&sid=" + url.QueryEscape(pr.sess.ID()))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(body)
	}
	status, body := get()
	if status == http.StatusOK && body == "6" {
		// The client's close packet came while no GET was held: the server
		// answers one GET with the noop a GET racing the close would have
		// got (Server.lingering), then forgets the sid.
		status, body = get()
	}
	if want := `{"code":1,"message":"Session ID unknown"}`; status != http.StatusBadRequest || body != want {
		t.Fatalf("GET with the closed sid: %d %s, want 400 %s", status, body, want)
	}
}

func (pr *peer) send(t *testing.T, cmd map[string]any) {
	t.Helper()
	if err := pr.p.Send(cmd); err != nil {
		t.Fatal(err)
	}
}

// message is what the script prints for a received message.
type message struct {
	Kind, Type string
	Size       int
	SHA256     string
	Text, B64  *string
}

func (pr *peer) expectMessage(t *testing.T) message {
	t.Helper()
	var msg message
	if err := pr.p.Expect(t, "message").Decode(&msg); err != nil {
		t.Fatal(err)
	}
	return msg
}

func (pr *peer) expectClose(t *testing.T) (client, server string) {
	t.Helper()
	var c struct{ Reason string }
	if err := pr.p.Await(t, "close").Decode(&c); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-pr.h.closed:
		return c.Reason, s.reason
	case <-time.After(10 * time.Second):
		t.Fatalf("client closed (%q) but OnClose was not called", c.Reason)
		return "", ""
	}
}

// pattern builds the same content as pattern() in client.mjs.
func pattern(binary bool, size, seed int) []byte {
	b := make([]byte, size)
	for i := range b {
		if binary {
			b[i] = byte(i*31 + seed)
		} else {
			b[i] = byte('a' + (i*7+seed)%26)
		}
	}
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func kind(binary bool) string {
	if binary {
		return "binary"
	}
	return "text"
}

// atLimit is the largest message of this kind that fits the limit on the
// given transport (the limit itself is allowed, as in Node): a polling POST
// carries "4"+text or "b"+base64(bytes), a WebSocket frame "4"+text or the
// raw bytes.
func atLimit(transport string, binary bool) int {
	switch {
	case transport == "websocket" && binary:
		return testLimit
	case binary:
		return (testLimit - 1) / 4 * 3
	default:
		return testLimit - 1
	}
}

func limitOptions() *engineio.ServerOptions {
	return &engineio.ServerOptions{MaxHTTPBufferSize: testLimit}
}

func TestInteropEchoTextAndBinary(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			pr := startPeer(t, m, limitOptions(), false)
			pr.upgraded(t, m)

			// Non-ASCII text comes back exactly.
			const utf8Text = "héllo wörld 😀 \u2028 <&> \"q\""
			pr.send(t, map[string]any{"op": "send", "text": utf8Text})
			if msg := pr.expectMessage(t); msg.Kind != "text" || msg.Text == nil || *msg.Text != utf8Text {
				t.Fatalf("got %+v, want text %q", msg, utf8Text)
			}
			raw := []byte{0, 1, 0xfe, 0xff, '4', 'b'}
			pr.send(t, map[string]any{"op": "send", "b64": base64.StdEncoding.EncodeToString(raw)})
			if msg := pr.expectMessage(t); msg.Kind != "binary" || msg.B64 == nil || *msg.B64 != base64.StdEncoding.EncodeToString(raw) {
				t.Fatalf("got %+v, want binary %x", msg, raw)
			}

			for _, binary := range []bool{false, true} {
				for i, size := range []int{1, 3000, atLimit(m.final, binary)} {
					pr.send(t, map[string]any{"op": "send-pattern", "kind": kind(binary), "size": size, "seed": i})
					msg := pr.expectMessage(t)
					want := pattern(binary, size, i)
					if msg.Kind != kind(binary) || msg.Size != size || msg.SHA256 != sum(want) {
						t.Fatalf("sent %s of %d bytes, got %s (%s) of %d bytes, sha256 %s", kind(binary), size, msg.Kind, msg.Type, msg.Size, msg.SHA256)
					}
					if binary && msg.Type != "Buffer" && msg.Type != "ArrayBuffer" {
						t.Fatalf("binary message arrived as %s", msg.Type)
					}
					if !binary && msg.Type != "string" {
						t.Fatalf("text message arrived as %s", msg.Type)
					}
				}
			}
		})
	}
}

func TestInteropOrdering(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			pr := startPeer(t, m, nil, false)
			// In upgrade mode the messages cross the upgrade.
			const n = 300
			pr.send(t, map[string]any{"op": "send-many", "count": n, "prefix": "m"})
			for i := range n {
				msg := pr.p.Await(t, "message")
				var got message
				if err := msg.Decode(&got); err != nil {
					t.Fatal(err)
				}
				if i%2 == 0 {
					if want := "m" + strconv.Itoa(i); got.Kind != "text" || got.Text == nil || *got.Text != want {
						t.Fatalf("message %d: got %s, want text %q", i, msg, want)
					}
				} else if want := base64.StdEncoding.EncodeToString([]byte{byte(i)}); got.Kind != "binary" || got.B64 == nil || *got.B64 != want {
					t.Fatalf("message %d: got %s, want binary %q", i, msg, want)
				}
			}
		})
	}
}

func TestInteropHeartbeat(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			// The server schedules each ping after the previous pong, so 20
			// pings prove 19 pongs arrived. The timeout is generous because
			// the machine may be loaded; it does not weaken that proof.
			opts := &engineio.ServerOptions{PingInterval: 50 * time.Millisecond, PingTimeout: 5 * time.Second}
			pr := startPeer(t, m, opts, true)
			const pings = 20
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for seen := 0; seen < pings; {
				l, err := pr.p.Next(ctx)
				if err != nil {
					t.Fatalf("after %d pings: %v", seen, err)
				}
				switch l.Event {
				case "ping":
					seen++
				case "upgrade":
				default:
					t.Fatalf("after %d pings: unexpected %s", seen, l)
				}
			}
			select {
			case c := <-pr.h.closed:
				t.Fatalf("session closed during the heartbeats: %q %v", c.reason, c.cause)
			default:
			}
			if got := pr.sess.Transport(); got != m.final {
				t.Fatalf("transport %q, want %q", got, m.final)
			}
			pr.send(t, map[string]any{"op": "send", "text": "still here"})
			if msg := pr.p.Await(t, "message"); !jsonHas(msg, "text", "still here") {
				t.Fatalf("got %s", msg)
			}
		})
	}
}

func jsonHas(l interop.Line, key, want string) bool {
	var m map[string]any
	return l.Decode(&m) == nil && m[key] == want
}

func TestInteropServerClose(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			pr := startPeer(t, m, nil, false)
			pr.upgraded(t, m)
			pr.send(t, map[string]any{"op": "send", "text": "close-me"})
			client, server := pr.expectClose(t)
			if client != "transport close" || server != engineio.ReasonForcedClose {
				t.Fatalf("close reasons: client %q, server %q; want %q and %q", client, server, "transport close", engineio.ReasonForcedClose)
			}
			pr.sidForgotten(t)
		})
	}
}

func TestInteropClientClose(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			pr := startPeer(t, m, nil, false)
			pr.upgraded(t, m)
			pr.send(t, map[string]any{"op": "send", "text": "bye"})
			pr.expectMessage(t)
			pr.send(t, map[string]any{"op": "close"})
			client, server := pr.expectClose(t)
			if client != "forced close" || server != engineio.ReasonTransportClose {
				t.Fatalf("close reasons: client %q, server %q; want %q and %q", client, server, "forced close", engineio.ReasonTransportClose)
			}
			pr.sidForgotten(t)
		})
	}
}

// An oversize message closes a WebSocket session at once (code 1009). Over
// polling the POST is refused with 413; the client then closes with
// "transport error" and posts a close packet. The reasons on both sides are
// those seen with the official engine.io server.
func TestInteropOversizeMessage(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			pr := startPeer(t, m, limitOptions(), false)
			pr.upgraded(t, m)
			// One byte over the limit: a WebSocket frame or a POST body of
			// testLimit+1 bytes.
			size := atLimit(m.final, false) + 1
			pr.send(t, map[string]any{"op": "send-pattern", "kind": "text", "size": size, "seed": 1})
			client, server := pr.expectClose(t)
			wantClient, wantServer := "transport close", engineio.ReasonTransportError
			if m.final == "polling" {
				wantClient, wantServer = "transport error", engineio.ReasonTransportClose
			}
			if client != wantClient || server != wantServer {
				t.Fatalf("close reasons: client %q, server %q; want %q and %q", client, server, wantClient, wantServer)
			}
			pr.sidForgotten(t)
		})
	}
}
