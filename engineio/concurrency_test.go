package engineio

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// orderHandler checks the Handler contract: OnOpen first, calls never
// overlap, OnClose exactly once and last.
type orderHandler struct {
	t       *testing.T
	mu      sync.Mutex
	state   map[*Session]string // "open", "closed"
	busy    map[*Session]*atomic.Bool
	msgs    map[*Session][]string
	closed  chan string
	onMsg   func(s *Session, m Message)
	overlap atomic.Bool
}

func newOrderHandler(t *testing.T) *orderHandler {
	return &orderHandler{t: t, state: map[*Session]string{}, busy: map[*Session]*atomic.Bool{},
		msgs: map[*Session][]string{}, closed: make(chan string, 1000)}
}

func (h *orderHandler) enter(s *Session) func() {
	h.mu.Lock()
	b := h.busy[s]
	if b == nil {
		b = new(atomic.Bool)
		h.busy[s] = b
	}
	h.mu.Unlock()
	if b.Swap(true) {
		h.overlap.Store(true)
	}
	return func() { b.Store(false) }
}

func (h *orderHandler) OnOpen(s *Session) {
	defer h.enter(s)()
	h.mu.Lock()
	if h.state[s] != "" {
		h.t.Errorf("OnOpen in state %q", h.state[s])
	}
	h.state[s] = "open"
	h.mu.Unlock()
}

func (h *orderHandler) OnMessage(s *Session, m Message) {
	defer h.enter(s)()
	h.mu.Lock()
	if h.state[s] != "open" {
		h.t.Errorf("OnMessage in state %q", h.state[s])
	}
	h.msgs[s] = append(h.msgs[s], string(m.Data))
	f := h.onMsg
	h.mu.Unlock()
	if f != nil {
		f(s, m)
	}
}

func (h *orderHandler) OnClose(s *Session, reason string, cause error) {
	defer h.enter(s)()
	h.mu.Lock()
	if h.state[s] != "open" {
		h.t.Errorf("OnClose in state %q", h.state[s])
	}
	h.state[s] = "closed"
	h.mu.Unlock()
	h.closed <- reason
}

func TestHandlerOrderUnderConcurrentPostsAndUpgrade(t *testing.T) {
	t.Parallel()
	h := newOrderHandler(t)
	_, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	c := dialWS(t, upgradeURL(ts.URL, sid))
	c.sendText("2probe")
	c.expectText("3probe")
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", pollURL(ts.URL, sid), strings.NewReader(fmt.Sprintf("4p%d", i)))
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
	}
	c.sendText("5")
	for i := 0; i < 20; i++ {
		c.sendText(fmt.Sprintf("4w%d", i))
	}
	c.sendText("4end")
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		var ws []string
		for _, msgs := range h.msgs {
			for _, m := range msgs {
				if m[0] == 'w' || m == "end" {
					ws = append(ws, m)
				}
			}
		}
		h.mu.Unlock()
		if len(ws) == 21 {
			for i := 0; i < 20; i++ {
				if ws[i] != fmt.Sprintf("w%d", i) {
					t.Fatalf("WebSocket messages out of order: %v", ws)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d WebSocket messages", len(ws))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if h.overlap.Load() {
		t.Fatal("handler calls overlapped")
	}
}

func TestCloseFromInsideOnMessage(t *testing.T) {
	t.Parallel()
	h := newOrderHandler(t)
	h.onMsg = func(s *Session, m Message) {
		if string(m.Data) == "close" {
			s.Close()
			if err := s.Send(Message{Data: []byte("x")}); !errors.Is(err, ErrClosed) {
				t.Errorf("Send after Close: %v", err)
			}
		}
	}
	_, ts := newTestServer(t, h, nil)
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	c.expectOpen()
	c.sendText("4a\xe2\x82\xac")
	c.sendText("4close")
	c.sendText("4after")
	c.expectClose()
	select {
	case r := <-h.closed:
		if r != ReasonForcedClose {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no OnClose")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, msgs := range h.msgs {
		if strings.Join(msgs, ",") != "a€,close" {
			t.Fatalf("messages %q", msgs)
		}
	}
}

func TestConcurrentSendAndClose(t *testing.T) {
	t.Parallel()
	h := newOrderHandler(t)
	srv, ts := newTestServer(t, h, nil)
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	s := srv.lookup(c.expectOpen())
	go func() { // drain everything the server writes
		for {
			if _, err := c.next(); err != nil {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				err := s.Send(Message{Data: []byte("m")}, Message{Data: []byte{1}, Binary: true})
				if errors.Is(err, ErrClosed) {
					return
				}
				s.SendVolatile(Message{Data: []byte("v")})
			}
		}()
	}
	time.Sleep(time.Millisecond)
	s.Close()
	wg.Wait()
	if r := <-h.closed; r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
	if h.overlap.Load() {
		t.Fatal("overlap")
	}
}

func TestServerClose(t *testing.T) {
	t.Parallel()
	h := newOrderHandler(t)
	srv := NewServer(h, nil)
	ts := newPlainServer(t, srv)
	polling := handshake(t, ts.URL)
	held := handshake(t, ts.URL)
	get := asyncGet(t, pollURL(ts.URL, held))
	waitHeld(t, srv, held)
	c := dialWS(t, wsURL(ts.URL, "EIO=4&transport=websocket"))
	wsid := c.expectOpen()
	if err := srv.lookup(wsid).Send(Message{Data: []byte("last")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if r := recv(t, get); r.body != "1" {
		t.Fatalf("held GET got %q", r.body)
	}
	c.expectText("4last")
	if code := c.expectClose(); code != 1005 {
		t.Fatalf("close code %d", code)
	}
	for i := 0; i < 3; i++ {
		if r := <-h.closed; r != ReasonServerShuttingDown {
			t.Fatalf("reason %q", r)
		}
	}
	if n := srv.ClientsCount(); n != 0 {
		t.Fatalf("ClientsCount %d", n)
	}
	if r := do(t, "GET", pollURL(ts.URL, polling), ""); r.status != 503 {
		t.Fatalf("after Close: %d", r.status)
	}
	if err := srv.Close(ctx); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

// Many sessions at once through the whole life cycle: polling, upgrade,
// WebSocket echo, close from either side.
func TestManySessionsLifeCycle(t *testing.T) {
	t.Parallel()
	h := newOrderHandler(t)
	h.onMsg = func(s *Session, m Message) { _ = s.Send(m) }
	srv, ts := newTestServer(t, h, nil)
	const n = 30
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- lifeCycle(ts.URL, i)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := 0; i < n; i++ {
		select {
		case <-h.closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d sessions closed", i)
		}
	}
	if c := srv.ClientsCount(); c != 0 || h.overlap.Load() {
		t.Fatalf("ClientsCount %d, overlap %v", c, h.overlap.Load())
	}
}

func lifeCycle(base string, i int) error {
	res, err := http.Get(base + "/engine.io/?EIO=4&transport=polling")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := openRe.FindStringSubmatch(string(body))
	if m == nil {
		return fmt.Errorf("handshake %q", body)
	}
	sid := m[1]
	url := pollURL(base, sid)
	msg := fmt.Sprintf("4msg%d", i)
	if res, err = http.Post(url, "text/plain", strings.NewReader(msg)); err != nil {
		return err
	}
	res.Body.Close()
	if res, err = http.Get(url); err != nil {
		return err
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != msg {
		return fmt.Errorf("polling echo %q", body)
	}
	conn, br, _, err := ws.Dial(context.Background(), upgradeURL(base, sid))
	if err != nil {
		return err
	}
	defer conn.Close()
	if br == nil {
		br = bufio.NewReader(conn)
	}
	send := func(s string) error { return ws.WriteFrame(conn, ws.MaskFrame(ws.NewTextFrame([]byte(s)))) }
	read := func() (string, error) {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		h, err := ws.ReadHeader(br)
		if err != nil {
			return "", err
		}
		p := make([]byte, h.Length)
		_, err = io.ReadFull(br, p)
		return string(p), err
	}
	if err := send("2probe"); err != nil {
		return err
	}
	if p, err := read(); err != nil || p != "3probe" {
		return fmt.Errorf("probe %q %v", p, err)
	}
	if err := send("5"); err != nil {
		return err
	}
	if err := send(msg); err != nil {
		return err
	}
	if p, err := read(); err != nil || p != msg {
		return fmt.Errorf("ws echo %q %v", p, err)
	}
	if i%2 == 0 {
		return ws.WriteFrame(conn, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))))
	}
	return send("1")
}
