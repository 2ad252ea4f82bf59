package engineio

import "time"

// The flusher coalesces the writes of broadcasts. A broadcast to N
// WebSocket sessions written inline costs N write syscalls per packet, and
// a burst of K broadcasts K×N, where the syscall is nearly all the cost.
// SendLater queues without writing and lists the session for the server's
// flusher goroutine, which writes each listed session's whole queue in one
// write. While it works through the list, the next broadcasts queue more
// behind the sessions not reached yet, which are then written with one
// syscall for several packets: the busier the server, the more each write
// carries, with no added delay when it is idle.
//
// Cork holds the flusher back while the layer above is in the middle of a
// batch of work (a socket's handlers running through the events of one
// read): the broadcasts of the whole batch then reach each session in one
// write, as the Node.js server writes once per event loop iteration. Corks
// are process-wide, so that a cork held by a handler that waits (on a
// database, say) does not hold back everyone's broadcasts, the flusher
// waits in steps of corkStep, and only as long as SendLater calls keep
// coming: some handler is busy broadcasting. It writes anyway after
// corkLimit, so that a server always busy somewhere still writes every few
// milliseconds.

// corkLimit bounds how long corks delay the first write of a listed
// session, corkStep how long they do when nothing more is being queued.
// The bound grows by corkPerSession per listed session: writing N sessions
// takes about N write syscalls of 5 to 10 us anyway, so waiting up to as
// long again, for the rest of a burst, at most doubles the delay of its
// first packet while it halves the writes (a burst of 20 broadcasts to
// 10,000 clients takes some 60 ms to queue). Servers copy them (Server
// fields, for tests).
const (
	corkLimit      = 20 * time.Millisecond
	corkStep       = time.Millisecond
	corkPerSession = 10 * time.Microsecond
)

// A listed session with this many packets or bytes queued is written at
// once: a handler looping over broadcasts must not fill queues up to their
// bound while corked (the client would be taken for a slow one), and a
// write of this much gains nothing from waiting for more.
const (
	flushNowPackets = 64
	flushNowBytes   = 32 << 10
)

// SendLater is Send, except that on a WebSocket the write is left to the
// server's flusher goroutine, which writes all that the session queued by
// then in one write. Broadcasts use it; a lone reply is better sent with
// Send, which writes at once on the caller's goroutine.
func (s *Session) SendLater(msgs ...Message) error {
	if err := s.lockAndQueue(msgs); err != nil {
		return err
	}
	s.srv.laterCount.Add(1)
	if !s.onWS || s.ws == nil {
		s.flushUnlock()
		return nil
	}
	// A running writer takes the new packets with the rest; a session
	// already listed is written once for all.
	switch {
	case s.writing:
	case !s.listed:
		s.listed = true
		s.srv.listForFlush(s) // under s.mu: the open session keeps wg above zero
	case len(s.queue) >= flushNowPackets || s.queueBytes >= flushNowBytes:
		s.flushUnlock() // the flusher later finds less, or nothing, to write
		return nil
	}
	s.mu.Unlock()
	return nil
}

// listForFlush adds s to the flusher's list, starting the flusher if it is
// not running. Called with s.mu held; flushMu is a leaf lock.
func (srv *Server) listForFlush(s *Session) {
	srv.flushMu.Lock()
	if len(srv.flushList) == 0 {
		srv.flushSince = time.Now()
	}
	srv.flushList = append(srv.flushList, s)
	start := !srv.flushing
	srv.flushing = true
	srv.flushMu.Unlock()
	if start {
		srv.wg.Add(1)
		go srv.flushLoop()
	}
}

// flushLoop writes the listed sessions until the list is empty, then
// exits: an idle server has no flusher goroutine. Two slices take turns as
// the list, so listing a session allocates nothing in the steady state.
func (srv *Server) flushLoop() {
	defer srv.wg.Done()
	var (
		batch     []*Session
		lastSince time.Time // the list whose corks are being waited for
		lastCount uint64    // SendLater calls seen at the last step
	)
	for {
		srv.flushMu.Lock()
		if len(srv.flushList) == 0 {
			srv.flushing = false
			srv.flushMu.Unlock()
			return
		}
		limit := max(srv.corkLimit, time.Duration(len(srv.flushList))*srv.corkPerList)
		if wait := limit - time.Since(srv.flushSince); wait > 0 && srv.corks.Load() > 0 {
			since, count := srv.flushSince, srv.laterCount.Load()
			if since != lastSince || count != lastCount { // a new list, or still queueing
				lastSince, lastCount = since, count
				srv.flushMu.Unlock()
				srv.awaitUncork(min(wait, srv.corkStep))
				continue
			}
		}
		batch, srv.flushList = srv.flushList, batch[:0]
		srv.flushMu.Unlock()
		for i, s := range batch {
			batch[i] = nil
			s.mu.Lock()
			s.listed = false
			s.flushUnlock()
		}
	}
}

// Cork holds back the flusher's writes until the matching Uncork (or, see
// above, a pause in queueing or corkLimit): call it when a batch of work
// that may broadcast begins.
// Corks nest and may overlap across goroutines; the flusher writes when
// none is left.
func (srv *Server) Cork() { srv.corks.Add(1) }

// Uncork ends a Cork.
func (srv *Server) Uncork() {
	if srv.corks.Add(-1) == 0 && srv.flushWaiting.Load() {
		select {
		case srv.uncorked <- struct{}{}:
		default:
		}
	}
}

// awaitUncork waits, on the flusher goroutine, for the last Uncork or for
// wait to pass. flushWaiting is published before corks is read again, and
// Uncork reads it after its decrement, so one of the two sees the other.
func (srv *Server) awaitUncork(wait time.Duration) {
	srv.flushWaiting.Store(true)
	if srv.corks.Load() > 0 {
		if srv.corkTimer == nil {
			srv.corkTimer = time.NewTimer(wait)
		} else {
			srv.corkTimer.Reset(wait)
		}
		select {
		case <-srv.uncorked:
		case <-srv.corkTimer.C:
		}
		srv.corkTimer.Stop()
	}
	srv.flushWaiting.Store(false)
}
