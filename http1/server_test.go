package http1

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// start serves h on 127.0.0.1:0 until the test ends.
func start(t *testing.T, h http.Handler) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != ErrServerClosed {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return s, ln.Addr().String()
}

// rawConn is a client connection writing requests by hand.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatal(err)
	}
}

// response reads one response to a request of method.
func (c *rawConn) response(method string) (*http.Response, string) {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading the response: %v", err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("reading the body: %v", err)
	}
	return res, string(b)
}

func (c *rawConn) expectClosed() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := c.br.ReadByte(); err != io.EOF {
		c.t.Fatalf("read %q, %v; want the connection closed", b, err)
	}
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "%s %s %s host=%s q=%s body=%s", r.Method, r.URL.Path, r.Proto, r.Host, r.URL.RawQuery, body)
}

func TestKeepAliveRequests(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(echoHandler))
	c := dial(t, addr)
	c.send("GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n")
	res, body := c.response("GET")
	if res.StatusCode != 200 || body != "GET /a HTTP/1.1 host=h q=x=1 body=" || res.ContentLength != int64(len(body)) || res.Header.Get("Date") == "" {
		t.Fatalf("first: %d %q length %d date %q", res.StatusCode, body, res.ContentLength, res.Header.Get("Date"))
	}
	// Two requests in one write (pipelined), a body each.
	c.send("POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloPOST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
	if _, body := c.response("POST"); body != "POST /b HTTP/1.1 host=h q= body=hello" {
		t.Fatalf("second: %q", body)
	}
	if _, body := c.response("POST"); body != "POST /c HTTP/1.1 host=h q= body=abcde" {
		t.Fatalf("third: %q", body)
	}
	c.send("GET /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	if res, _ := c.response("GET"); !res.Close {
		t.Fatal("no Connection: close in the response")
	}
	c.expectClosed()
}

func TestHTTP10(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(echoHandler))
	c := dial(t, addr)
	c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	if res, body := c.response("GET"); body != "GET / HTTP/1.0 host= q= body=" || res.Header.Get("Connection") != "keep-alive" {
		t.Fatalf("%q %q", body, res.Header.Get("Connection"))
	}
	c.send("GET / HTTP/1.0\r\n\r\n")
	c.response("GET")
	c.expectClosed()
}

func TestMalformedRequests(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(echoHandler))
	for _, tc := range []struct {
		req    string
		status int
	}{
		{"GET /\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\n\r\n", 400}, // no Host
		{"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
		{"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n", 400},
		{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
		{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
		{"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: magic\r\n\r\n", 417},
		{"GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("a", 17<<10) + "\r\n\r\n", 431},
	} {
		c := dial(t, addr)
		c.send(tc.req)
		if res, _ := c.response("GET"); res.StatusCode != tc.status {
			t.Errorf("%.50q: status %d, want %d", tc.req, res.StatusCode, tc.status)
		}
		c.expectClosed()
	}
}

func TestTruncatedRequest(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(echoHandler))
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\r\nHost: h\r\n")
	_ = c.nc.(*net.TCPConn).CloseWrite()
	if res, _ := c.response("GET"); res.StatusCode != 400 {
		t.Fatalf("status %d, want 400", res.StatusCode)
	}
	c.expectClosed()
}

func TestUnreadBody(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	c := dial(t, addr)
	c.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	c.response("POST")
	if _, body := c.response("GET"); body != "ok" {
		t.Fatalf("second body %q", body)
	}
	// A body too large to drain closes the connection after the response.
	c.send(fmt.Sprintf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n", 10<<20))
	go func() { _, _ = c.nc.Write(make([]byte, 1<<20)) }()
	c.response("POST")
	c.expectClosed()
}

func TestExpectContinue(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(echoHandler))
	c := dial(t, addr)
	c.send("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := c.br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("interim %q %v", line, err)
	}
	if blank, _ := c.br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("after the interim response %q", blank)
	}
	c.send("ok")
	if _, body := c.response("POST"); body != "POST /e HTTP/1.1 host=h q= body=ok" {
		t.Fatalf("%q", body)
	}
}

func TestStreamingAndPanics(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stream":
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			io.WriteString(w, "b")
		case "/big":
			w.Write(make([]byte, maxBuffered+1))
		case "/panic":
			panic("boom")
		case "/panic-late": // nothing went out yet: still a 500
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, "partial")
			panic("late boom")
		case "/nobody":
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	c := dial(t, addr)
	c.send("GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
	if res, body := c.response("GET"); body != "ab" || res.TransferEncoding == nil {
		t.Fatalf("stream: %q, transfer encoding %v", body, res.TransferEncoding)
	}
	c.send("GET /big HTTP/1.1\r\nHost: h\r\n\r\n")
	if _, body := c.response("GET"); len(body) != maxBuffered+1 {
		t.Fatalf("big: %d bytes", len(body))
	}
	c.send("HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n")
	if res, body := c.response("HEAD"); res.StatusCode != 200 || body != "" {
		t.Fatalf("head: %d %q", res.StatusCode, body)
	}
	c.send("GET /nobody HTTP/1.1\r\nHost: h\r\n\r\n")
	if res, _ := c.response("GET"); res.StatusCode != 204 {
		t.Fatalf("nobody: %d", res.StatusCode)
	}
	c.send("GET /panic HTTP/1.1\r\nHost: h\r\n\r\n")
	if res, _ := c.response("GET"); res.StatusCode != 500 {
		t.Fatalf("panic: %d", res.StatusCode)
	}
	c.expectClosed()
	late := dial(t, addr)
	late.send("GET /panic-late HTTP/1.1\r\nHost: h\r\n\r\n")
	if res, body := late.response("GET"); res.StatusCode != 500 || body != "" {
		t.Fatalf("late panic: %d %q", res.StatusCode, body)
	}
	late.expectClosed()
}

// A held request's context ends when the client goes away, and when the
// handler returns otherwise; a request that never asks costs no watcher.
func TestContextCanceledWhenClientLeaves(t *testing.T) {
	ended := make(chan error, 1)
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-r.Context().Done()
			ended <- r.Context().Err()
			return
		}
		io.WriteString(w, "quick")
	}))
	c := dial(t, addr)
	c.send("GET /quick HTTP/1.1\r\nHost: h\r\n\r\n")
	c.response("GET")
	c.send("GET /hold HTTP/1.1\r\nHost: h\r\n\r\n")
	time.Sleep(20 * time.Millisecond)
	c.nc.Close()
	select {
	case err := <-ended:
		if err != context.Canceled {
			t.Fatalf("Err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the held request's context was not canceled")
	}
}

// The net/http client works against the server, and Shutdown waits for a
// request in progress.
func TestNetHTTPClientAndShutdown(t *testing.T) {
	release := make(chan struct{})
	s, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, "done "+r.URL.Path)
	}))
	for i := range 3 {
		res, err := http.Get("http://" + addr + "/x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != "done /x" {
			t.Fatalf("request %d: %q", i, b)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	got := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got <- string(b)
	}()
	time.Sleep(50 * time.Millisecond)
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if b := <-got; b != "done /slow" {
		t.Fatalf("slow request: %q", b)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
}

func FuzzReadHead(f *testing.F) {
	f.Add([]byte("GET /a?b HTTP/1.1\r\nHost: h\r\nX-A:  v \r\n\r\n"))
	f.Add([]byte("\r\nPOST * HTTP/1.0\nContent-Length: 3\n\nabc"))
	f.Add([]byte("GET http://x/y HTTP/1.1\r\nHost: h\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h head
		err := readHead(bufio.NewReaderSize(strings.NewReader(string(b)), 64), 1024, &h)
		if err != nil {
			return
		}
		if h.method == "" || h.target == "" || len(h.fields)%2 != 0 {
			t.Fatalf("accepted %q as %+v", b, h)
		}
		r, err := h.request("1.2.3.4:5")
		if err != nil {
			return
		}
		if _, _, err := bodyKind(r); err == nil && r.URL == nil {
			t.Fatalf("no URL for %q", b)
		}
	})
}

// A client that starts a request head and stalls loses its connection
// after ReadHeaderTimeout; one that waits between requests keeps it for
// IdleTimeout.
func TestSlowHeadTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: http.HandlerFunc(echoHandler), ReadHeaderTimeout: 50 * time.Millisecond, IdleTimeout: time.Minute}
	go func() { _ = s.Serve(ln) }()
	defer s.Close()
	c := dial(t, ln.Addr().String())
	c.send("GET / HTTP/1.1\r\nHost: h\r\n")
	start := time.Now()
	c.expectClosed()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %v", d)
	}
	idle := dial(t, ln.Addr().String())
	time.Sleep(100 * time.Millisecond) // longer than ReadHeaderTimeout, before any byte
	idle.send("GET /late HTTP/1.1\r\nHost: h\r\n\r\n")
	if _, body := idle.response("GET"); body != "GET /late HTTP/1.1 host=h q= body=" {
		t.Fatalf("late request: %q", body)
	}
}

func TestConcurrentClients(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(echoHandler))
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	errs := make(chan error, 16)
	for g := range 16 {
		go func() {
			for i := range 25 {
				body := fmt.Sprintf("g%d-%d", g, i)
				res, err := client.Post("http://"+addr+"/p", "text/plain", strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if want := "POST /p HTTP/1.1 host=" + addr + " q= body=" + body; string(b) != want {
					errs <- fmt.Errorf("got %q, want %q", b, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
