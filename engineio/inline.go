package engineio

// Inline dispatch: the layer above may run a message's handler on the
// WebSocket read goroutine that read it, instead of handing it to another
// goroutine (a wake-up, a goroutine switch and cache misses per message).
// The read loop must never wait for a handler, though: a handler may wait
// for a reply only this connection can bring (an acknowledgement, a pong).
// So while the handler runs, the read loop lends the connection to the
// poller: its fd is armed, and if it becomes readable before the handler
// returns, the poller starts a new read loop, which reads on while the
// handler runs; the lending goroutine then ends as a reader once the
// handler returns. When nothing arrives meanwhile, which is the common
// request/reply case, it takes the connection back and reads on: the cost
// is one epoll_ctl.

// InlineRunner is work RunInline may run on the read goroutine.
type InlineRunner interface{ RunClaimed() }

// CanRunInline reports whether RunInline would take work now; it may only
// be called from OnMessage, and RunInline then takes work in the same call.
// It is false over polling, for TLS or on a system without the poller,
// when more frames are already buffered, or when RunInline already has
// work for this message.
func (s *Session) CanRunInline() bool {
	c := s.inlineFrom // set by the read loop around OnMessage, under recvMu
	return c != nil && c.fd >= 0 && !c.noPark && c.inline == nil && c.br.Buffered() == 0
}

// RunInline has r.RunClaimed called on the WebSocket read goroutine, right
// after the Handler's OnMessage returns, with the connection's reading lent
// to the poller meanwhile. It may only be called from OnMessage; it reports
// false, and will not call r, when CanRunInline is false.
func (s *Session) RunInline(r InlineRunner) bool {
	if !s.CanRunInline() {
		return false
	}
	s.inlineFrom.inline = r
	return true
}

// runLent runs r with the connection lent to the poller, on the read loop
// goroutine. It reports whether the loop still owns the connection; if not,
// a new read loop does and the caller must end without touching it.
func (c *wsConn) runLent(r InlineRunner) bool {
	c.state.Store(readLent)
	if c.closeReq.Load() { // requestClose saw readRunning and left the close to us
		c.state.Store(readRunning)
		go r.RunClaimed()
		return true
	}
	if err := c.arm(); err != nil {
		c.srv.log.Debug("engineio: cannot lend websocket to the poller, keeping its reader", "err", err)
		c.noPark = true
		c.state.Store(readRunning)
		go r.RunClaimed()
		return true
	}
	r.RunClaimed()
	return c.state.CompareAndSwap(readLent, readRunning)
}
