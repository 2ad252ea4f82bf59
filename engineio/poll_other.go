//go:build !linux

package engineio

import (
	"errors"
	"net"
)

// Without epoll every WebSocket keeps its read goroutine (connFD reports
// no fd, so the read loop never parks).

func connFD(net.Conn) int { return -1 }

func (c *wsConn) arm() error { return errors.ErrUnsupported }

func (c *wsConn) disarm() {}

// writeNow never writes here: the writer goroutine does (connFD reports no
// fd, so it is not even called).
func writeNow(int, [][]byte) (int, error) { return 0, nil }
