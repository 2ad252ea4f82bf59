package engineio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// asyncGet starts a GET and returns a channel with its response.
func asyncGet(t *testing.T, url string) <-chan response {
	t.Helper()
	ch := make(chan response, 1)
	go func() {
		res, err := http.Get(url)
		if err != nil {
			ch <- response{status: -1, body: err.Error()}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		ch <- response{res.StatusCode, res.Header, string(b)}
	}()
	return ch
}

func recv(t *testing.T, ch <-chan response) response {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no response")
		return response{}
	}
}

// waitHeld waits until the session has a GET pending.
func waitHeld(t *testing.T, srv *Server, sid string) *Session {
	t.Helper()
	for i := 0; i < 500; i++ {
		srv.mu.Lock()
		s := srv.sessions[sid]
		srv.mu.Unlock()
		if s != nil {
			s.mu.Lock()
			held := s.get != nil
			s.mu.Unlock()
			if held {
				return s
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("GET not held")
	return nil
}

func expectUnknown(t *testing.T, base, sid string) {
	t.Helper()
	r := do(t, "GET", pollURL(base, sid), "")
	if r.status != 400 || r.body != `{"code":1,"message":"Session ID unknown"}` {
		t.Fatalf("after close: %d %q", r.status, r.body)
	}
}

func TestPollingBatchesQueue(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	get := asyncGet(t, pollURL(ts.URL, sid))
	s := waitHeld(t, srv, sid)
	if err := s.Send(Message{Data: []byte("a")}, Message{Data: []byte{0xff}, Binary: true}); err != nil {
		t.Fatal(err)
	}
	r := recv(t, get)
	if r.status != 200 || r.body != "4a\x1eb/w==" || r.header.Get("Content-Type") != "text/plain; charset=UTF-8" ||
		r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Length") != "8" {
		t.Fatalf("GET: %d %q %v", r.status, r.body, r.header)
	}
}

func TestPollingPutIs500(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, newEchoHandler(), nil)
	sid := handshake(t, ts.URL)
	if r := do(t, "PUT", pollURL(ts.URL, sid), "4x"); r.status != 500 || r.body != "" {
		t.Fatalf("PUT: %d %q", r.status, r.body)
	}
	if r := do(t, "POST", pollURL(ts.URL, sid), "4x"); r.status != 200 || r.body != "ok" {
		t.Fatalf("session not kept: %d %q", r.status, r.body)
	}
}

func TestPollingConcurrentGet(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	first := asyncGet(t, pollURL(ts.URL, sid))
	waitHeld(t, srv, sid)
	if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.status != 400 || r.body != "" {
		t.Fatalf("second GET: %d %q", r.status, r.body)
	}
	if r := recv(t, first); r.status != 200 || r.body != "1" {
		t.Fatalf("pending GET: %d %q", r.status, r.body)
	}
	if reason := h.waitClose(t); reason != ReasonTransportError {
		t.Fatalf("reason %q", reason)
	}
	expectUnknown(t, ts.URL, sid)
}

func TestPollingConcurrentPost(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	pr, pw := io.Pipe()
	defer pw.Close()
	first := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", pollURL(ts.URL, sid), pr)
		req.ContentLength = -1
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		first <- err
	}()
	if _, err := pw.Write([]byte("4partial")); err != nil {
		t.Fatal(err)
	}
	s := srv.lookup(sid)
	for i := 0; ; i++ {
		s.mu.Lock()
		posting := s.posting
		s.mu.Unlock()
		if posting {
			break
		}
		if i > 1000 {
			t.Fatal("first POST not in progress")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := do(t, "POST", pollURL(ts.URL, sid), "4x"); r.status != 400 {
		t.Fatalf("second POST: %d %q", r.status, r.body)
	}
	if reason := h.waitClose(t); reason != ReasonTransportError {
		t.Fatalf("reason %q", reason)
	}
	pw.Close()
	<-first
	expectUnknown(t, ts.URL, sid)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.messages) != 0 {
		t.Fatalf("messages of the aborted POST delivered: %v", h.messages)
	}
}

func TestPollingOctetStreamPost(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	if r := do(t, "POST", pollURL(ts.URL, sid), "4x", "Content-Type", "application/octet-stream"); r.status != 400 {
		t.Fatalf("status %d", r.status)
	}
	if reason := h.waitClose(t); reason != ReasonTransportError {
		t.Fatalf("reason %q", reason)
	}
	expectUnknown(t, ts.URL, sid)
}

func TestPollingOversizePost(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, &ServerOptions{MaxHTTPBufferSize: 100})
	sid := handshake(t, ts.URL)
	if r := do(t, "POST", pollURL(ts.URL, sid), "4"+strings.Repeat("a", 100)); r.status != 413 {
		t.Fatalf("status %d", r.status)
	}
	// chunked body without Content-Length
	req, _ := http.NewRequest("POST", pollURL(ts.URL, sid), io.MultiReader(strings.NewReader("4"), strings.NewReader(strings.Repeat("b", 200))))
	req.ContentLength = -1
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("chunked: status %d", res.StatusCode)
	}
	// exactly at the limit is fine, and the session was kept
	if r := do(t, "POST", pollURL(ts.URL, sid), "4"+strings.Repeat("a", 99)); r.status != 200 {
		t.Fatalf("at limit: %d", r.status)
	}
}

func TestPollingClientClose(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	h.noEcho = true // an echo of "last" could reach the held GET before the close
	srv, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	get := asyncGet(t, pollURL(ts.URL, sid))
	waitHeld(t, srv, sid)
	if r := do(t, "POST", pollURL(ts.URL, sid), "4last\x1e1\x1e4never"); r.status != 200 || r.body != "ok" {
		t.Fatalf("POST: %d %q", r.status, r.body)
	}
	if r := recv(t, get); r.body != "6" {
		t.Fatalf("pending GET got %q, want noop", r.body)
	}
	if reason := h.waitClose(t); reason != ReasonTransportClose {
		t.Fatalf("reason %q", reason)
	}
	h.mu.Lock()
	if len(h.messages) != 1 || string(h.messages[0].Data) != "last" {
		t.Errorf("messages %v", h.messages)
	}
	h.mu.Unlock()
	expectUnknown(t, ts.URL, sid)
}

// The official suite sends a GET and a POST "1" at the same time; when the
// POST wins the race, the GET still gets the noop (once).
func TestPollingClientCloseRacingGet(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	if r := do(t, "POST", pollURL(ts.URL, sid), "1"); r.status != 200 || r.body != "ok" {
		t.Fatalf("POST: %d %q", r.status, r.body)
	}
	if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.status != 200 || r.body != "6" {
		t.Fatalf("racing GET: %d %q", r.status, r.body)
	}
	expectUnknown(t, ts.URL, sid)
	if reason := h.waitClose(t); reason != ReasonTransportClose {
		t.Fatalf("reason %q", reason)
	}
}

func TestPollingClientPingIsError(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	do(t, "POST", pollURL(ts.URL, sid), "2")
	if reason := h.waitClose(t); reason != ReasonTransportError {
		t.Fatalf("reason %q", reason)
	}
	expectUnknown(t, ts.URL, sid)
}

func TestPollingParseError(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	get := asyncGet(t, pollURL(ts.URL, sid))
	waitHeld(t, srv, sid)
	h.mu.Lock()
	h.noEcho = true
	h.mu.Unlock()
	if r := do(t, "POST", pollURL(ts.URL, sid), "4ok\x1eabc\x1e4no"); r.status != 200 || r.body != "ok" {
		t.Fatalf("POST: %d %q", r.status, r.body)
	}
	if r := recv(t, get); r.body != "1" {
		t.Fatalf("pending GET got %q", r.body)
	}
	if reason := h.waitClose(t); reason != ReasonParseError {
		t.Fatalf("reason %q", reason)
	}
	h.mu.Lock()
	if len(h.messages) != 1 || string(h.messages[0].Data) != "ok" {
		t.Errorf("messages %v", h.messages)
	}
	h.mu.Unlock()
	expectUnknown(t, ts.URL, sid)
}

func TestPollingAbortedGet(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", pollURL(ts.URL, sid), nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	waitHeld(t, srv, sid)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client err %v", err)
	}
	if reason := h.waitClose(t); reason != ReasonTransportError {
		t.Fatalf("reason %q", reason)
	}
	expectUnknown(t, ts.URL, sid)
}

func TestPollingServerClose(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)

	// a GET is pending: it gets the queue then the close packet
	sid := handshake(t, ts.URL)
	get := asyncGet(t, pollURL(ts.URL, sid))
	s := waitHeld(t, srv, sid)
	s.Close()
	if r := recv(t, get); r.body != "1" {
		t.Fatalf("pending GET got %q", r.body)
	}
	if reason := h.waitClose(t); reason != ReasonForcedClose {
		t.Fatalf("reason %q", reason)
	}
	expectUnknown(t, ts.URL, sid)

	// no GET pending: the next GET gets the queue, the one after it the
	// close (as Node: a client handles the packets before the close)
	sid = handshake(t, ts.URL)
	s = srv.lookup(sid)
	if err := s.Send(Message{Data: []byte("bye")}); err != nil {
		t.Fatal(err)
	}
	s.CloseWithReason("forced server close")
	if err := s.Send(Message{Data: []byte("late")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.body != "4bye" {
		t.Fatalf("next GET got %q", r.body)
	}
	if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.body != "6\x1e1" {
		t.Fatalf("GET after the queue got %q", r.body)
	}
	if reason := h.waitClose(t); reason != "forced server close" {
		t.Fatalf("reason %q", reason)
	}
	expectUnknown(t, ts.URL, sid)

	// a GET pending, a message and the close right behind it: the same
	sid = handshake(t, ts.URL)
	get = asyncGet(t, pollURL(ts.URL, sid))
	s = waitHeld(t, srv, sid)
	if err := s.Send(Message{Data: []byte("bye")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if r := recv(t, get); r.body != "4bye" {
		t.Fatalf("pending GET got %q", r.body)
	}
	if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.body != "6\x1e1" {
		t.Fatalf("GET after the queue got %q", r.body)
	}
	if reason := h.waitClose(t); reason != ReasonForcedClose {
		t.Fatalf("reason %q", reason)
	}
	expectUnknown(t, ts.URL, sid)

	// nothing queued and no GET pending: 6\x1e1
	sid = handshake(t, ts.URL)
	srv.lookup(sid).Close()
	if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.body != "6\x1e1" {
		t.Fatalf("next GET got %q", r.body)
	}
	h.waitClose(t)
	expectUnknown(t, ts.URL, sid)
}

func TestPollingTruncatedPost(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	req := "POST /engine.io/?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n4only-part"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if reason := h.waitClose(t); reason != ReasonTransportError {
		t.Fatalf("reason %q", reason)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.messages) != 0 {
		t.Fatalf("partial body delivered: %v", h.messages)
	}
}

func TestPollingCompression(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	big := "4" + strings.Repeat("abc", 400)
	do(t, "POST", pollURL(ts.URL, sid), big+"\x1e4small")
	// Go's transport asks for gzip and decompresses transparently.
	res, err := http.Get(pollURL(ts.URL, sid))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !res.Uncompressed || string(body) != big+"\x1e4small" {
		t.Fatalf("compressed=%v body %d bytes", res.Uncompressed, len(body))
	}
	// small payloads and clients not accepting gzip get plain bodies
	do(t, "POST", pollURL(ts.URL, sid), "4small")
	if r := do(t, "GET", pollURL(ts.URL, sid), "", "Accept-Encoding", "gzip"); r.header.Get("Content-Encoding") != "" || r.body != "4small" {
		t.Fatalf("small payload: %v %q", r.header, r.body)
	}
	do(t, "POST", pollURL(ts.URL, sid), big)
	if r := do(t, "GET", pollURL(ts.URL, sid), "", "Accept-Encoding", "gzip;q=0, identity"); r.header.Get("Content-Encoding") != "" || r.body != big {
		t.Fatalf("gzip refused: %v %d", r.header, len(r.body))
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"": false, "gzip": true, "deflate, gzip;q=1.0, *;q=0.5": true, "br": false,
		"GZIP": true, "gzip;q=0": false, "*": true, "identity": false} {
		r, _ := http.NewRequest("GET", "/", nil)
		if v != "" {
			r.Header.Set("Accept-Encoding", v)
		}
		if got := acceptsGzip(r); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

// Abort closes at once: OnClose comes with the reason, the queue is
// dropped and the session is gone, with no GET needed.
func TestPollingAbort(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	s := srv.lookup(sid)
	if err := s.Send(Message{Data: []byte("dropped")}); err != nil {
		t.Fatal(err)
	}
	s.Abort("transport close")
	if reason := h.waitClose(t); reason != "transport close" {
		t.Fatalf("reason %q", reason)
	}
	expectUnknown(t, ts.URL, sid)
}
