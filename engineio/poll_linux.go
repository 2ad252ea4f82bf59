//go:build linux

package engineio

import (
	"net"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The poller lets an idle WebSocket own no goroutine: its read loop arms
// the connection's fd in a process-wide epoll instance (a second one next to
// Go's netpoller; both may watch the same fd) and returns; when the fd
// becomes readable, the poller goroutine wakes the connection, which starts
// a new read loop. The epoll fd itself is non-blocking and waited on through
// Go's netpoller, so the poller goroutine parks like any network read and no
// thread blocks in epoll_wait. The instance and its goroutine exist only
// while some connection is registered.

var thePoller poller

type poller struct {
	mu    sync.Mutex
	file  *os.File  // the epoll instance; nil when not running
	epfd  int       // file's fd (File.Fd could make it blocking)
	conns []*wsConn // by fd: fds are small and dense, a slice costs 8 bytes a connection
	n     int       // registered connections
}

// connFD returns the fd of a plain TCP or Unix connection, or -1: TLS and
// other wrapped connections (whose Write may do more than write the fd)
// keep a read goroutine and the writer goroutine.
func connFD(conn net.Conn) int {
	var sc syscall.Conn
	switch conn := conn.(type) {
	case *net.TCPConn:
		sc = conn
	case *net.UnixConn:
		sc = conn
	default:
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if rc.Control(func(u uintptr) { fd = int(u) }) != nil {
		return -1
	}
	return fd
}

// arm registers c's fd (first time) or re-arms it for one readable event.
// Called by c's read loop only.
func (c *wsConn) arm() error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: c.fd}
	if c.epfd >= 0 {
		return unix.EpollCtl(int(c.epfd), unix.EPOLL_CTL_MOD, int(c.fd), &ev)
	}
	p := &thePoller
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.file == nil {
		if err := p.startLocked(); err != nil {
			return err
		}
	}
	if int(c.fd) >= len(p.conns) {
		p.conns = append(p.conns, make([]*wsConn, int(c.fd)+1-len(p.conns))...)
	}
	p.conns[c.fd] = c
	p.n++
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(c.fd), &ev); err != nil {
		p.removeLocked(c)
		return err
	}
	c.epfd = int32(p.epfd)
	return nil
}

// disarm unregisters c before its connection is closed. Called by c's read
// loop only.
func (c *wsConn) disarm() {
	if c.epfd < 0 {
		return
	}
	p := &thePoller
	p.mu.Lock()
	_ = unix.EpollCtl(int(c.epfd), unix.EPOLL_CTL_DEL, int(c.fd), nil)
	p.removeLocked(c)
	p.mu.Unlock()
	c.epfd = -1
}

func (p *poller) startLocked() error {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return err
	}
	f := os.NewFile(uintptr(epfd), "engineio-epoll") // non-blocking: f joins Go's netpoller
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return err
	}
	p.file, p.epfd = f, epfd
	go p.wait(rc)
	return nil
}

// removeLocked forgets c; the last connection closes the epoll instance
// (every fd in it was unregistered), which ends the wait loop.
func (p *poller) removeLocked(c *wsConn) {
	if c.fd < 0 || int(c.fd) >= len(p.conns) || p.conns[c.fd] != c {
		return // not registered
	}
	p.conns[c.fd] = nil
	p.n--
	if p.n == 0 {
		p.file.Close()
		p.file, p.conns = nil, nil
	}
}

// wait wakes the connections whose fd became readable until the epoll
// instance is closed. A stale event (for a connection already woken, or for
// an fd reused by a newer connection) only causes a spurious wake: the
// woken read loop finds nothing to read and parks again.
func (p *poller) wait(rc syscall.RawConn) {
	events := make([]unix.EpollEvent, 128)
	woken := make([]*wsConn, 0, len(events))
	var n int
	poll := func(fd uintptr) bool {
		var err error
		n, err = unix.EpollWait(int(fd), events, 0)
		return n > 0 || err != nil && err != unix.EINTR
	}
	for {
		if err := rc.Read(poll); err != nil {
			return // closed
		}
		p.mu.Lock()
		for _, ev := range events[:max(n, 0)] {
			if int(ev.Fd) < len(p.conns) && p.conns[ev.Fd] != nil {
				woken = append(woken, p.conns[ev.Fd])
			}
		}
		p.mu.Unlock()
		for i, c := range woken {
			c.wake()
			woken[i] = nil
		}
		woken = woken[:0]
	}
}

// writeNow writes bufs to fd with one write or writev, without waiting:
// it returns how many bytes the socket took (0 when it would block).
func writeNow(fd int, bufs [][]byte) (int, error) {
	for {
		var n int
		var err error
		if len(bufs) == 1 {
			n, err = unix.Write(fd, bufs[0])
		} else {
			n, err = unix.Writev(fd, bufs[:min(len(bufs), 1024)]) // IOV_MAX
		}
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		}
		return 0, err
	}
}
