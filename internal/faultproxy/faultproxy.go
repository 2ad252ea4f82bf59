// Package faultproxy is a TCP proxy for tests that breaks the network the
// way mobile networks do: Cut drops every current connection at once (the
// peers see a reset), Blackhole makes them silent (bytes are swallowed, no
// one is told, so only a heartbeat notices). New connections always go
// through, as after a network switch.
//
// # Concurrency
//
// Every method is safe for concurrent use. A Proxy has one goroutine that
// accepts, and two per connection that copy bytes; Close (called by the test
// cleanup) stops them all and waits for them.
package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from its own 127.0.0.1 port to a target.
type Proxy struct {
	ln net.Listener
	wg sync.WaitGroup

	mu     sync.Mutex
	target string
	conns  map[*link]struct{}
	closed bool
}

// Retarget sends the connections accepted from now on to target, as a load
// balancer that moves a client to another server.
func (p *Proxy) Retarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

// link is one proxied connection.
type link struct {
	client, server net.Conn
	copiers        int // guarded by Proxy.mu

	mu     sync.Mutex
	silent bool
}

// Start proxies 127.0.0.1:<free port> to target ("host:port") until the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: make(map[*link]struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is "http://" + Addr().
func (p *Proxy) URL() string { return "http://" + p.Addr() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		l := &link{client: c, server: s}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close()
			return
		}
		p.conns[l] = struct{}{}
		l.copiers = 2
		p.wg.Add(2)
		p.mu.Unlock()
		go p.copy(l, s, c)
		go p.copy(l, c, s)
	}
}

// copy forwards src to dst, or swallows it while the link is silent.
func (p *Proxy) copy(l *link, dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			l.mu.Lock()
			silent := l.silent
			l.mu.Unlock()
			if !silent {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					err = werr
				}
			}
		}
		if err != nil {
			l.mu.Lock()
			silent := l.silent // a silent link does not pass closes on either
			l.mu.Unlock()
			switch {
			case silent:
			case !errors.Is(err, io.EOF):
				l.close()
			default:
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
			}
			p.mu.Lock()
			if l.copiers--; l.copiers == 0 {
				delete(p.conns, l)
			}
			p.mu.Unlock()
			return
		}
	}
}

// close resets both sides.
func (l *link) close() {
	for _, c := range []net.Conn{l.client, l.server} {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
}

func (p *Proxy) links() []*link {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*link, 0, len(p.conns))
	for l := range p.conns {
		out = append(out, l)
	}
	return out
}

// Cut resets every current connection.
func (p *Proxy) Cut() {
	for _, l := range p.links() {
		l.close()
	}
}

// Blackhole silences every current connection: from now on their bytes are
// read and dropped in both directions, and neither side is told when the
// other closes.
func (p *Proxy) Blackhole() {
	for _, l := range p.links() {
		l.mu.Lock()
		l.silent = true
		l.mu.Unlock()
	}
}

// Close stops the proxy, resets its connections and waits for its goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}
