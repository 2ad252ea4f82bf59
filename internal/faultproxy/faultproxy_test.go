package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// echoServer echoes lines until the test ends.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = io.Copy(c, c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// roundTrip sends a line and reads the echo; generous, for a machine
// busy with other tests.
func roundTrip(c net.Conn, line string) (string, error) {
	return roundTripWithin(c, line, 5*time.Second)
}

// roundTripWithin is roundTrip waiting at most d (for the silence of a
// blackhole).
func roundTripWithin(c net.Conn, line string, d time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func dial(t *testing.T, p *Proxy) net.Conn {
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestForwardCutBlackhole(t *testing.T) {
	p := Start(t, echoServer(t))
	c := dial(t, p)
	if got, err := roundTrip(c, "hello"); err != nil || got != "hello\n" {
		t.Fatalf("echo: %q %v", got, err)
	}
	p.Cut()
	if _, err := roundTrip(c, "again"); err == nil {
		t.Fatal("a cut connection still works")
	}

	c2 := dial(t, p)
	if got, err := roundTrip(c2, "new"); err != nil || got != "new\n" {
		t.Fatalf("new connection after a cut: %q %v", got, err)
	}
	p.Blackhole()
	if got, err := roundTripWithin(c2, "lost", 300*time.Millisecond); err == nil || got != "" {
		t.Fatalf("blackholed connection answered %q %v", got, err)
	}
	var ne net.Error
	if _, err := roundTripWithin(c2, "lost", 300*time.Millisecond); err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("blackholed connection: %v, want a timeout (silence, not a reset)", err)
	}
	c3 := dial(t, p)
	if got, err := roundTrip(c3, "fresh"); err != nil || got != "fresh\n" {
		t.Fatalf("new connection after a blackhole: %q %v", got, err)
	}
}

func TestRetarget(t *testing.T) {
	p := Start(t, echoServer(t))
	c := dial(t, p)
	// Established first: the proxy dials the target after accepting, so a
	// connection retargeted before that goes to the new target.
	if got, err := roundTrip(c, "first"); err != nil || got != "first\n" {
		t.Fatalf("echo: %q %v", got, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p.Retarget(ln.Addr().String())
	if got, err := roundTrip(c, "old"); err != nil || got != "old\n" {
		t.Fatalf("the current connection moved: %q %v", got, err)
	}
	dial(t, p)
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(2 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("the new target got no connection: %v", err)
	}
	conn.Close()
}
