package engineio

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// servePolling handles a polling request of an existing session.
func (s *Session) servePolling(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.serveGet(w, r)
	case http.MethodPost:
		s.servePost(w, r)
	default:
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// serveGet answers a long-polling GET with everything queued, holding it
// until something is (A6).
func (s *Session) serveGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.get != nil {
		s.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		s.closeNow(ReasonTransportError, &ProtocolError{Reason: "overlap from client"}, '1')
		return
	}
	wt := waiterPool.Get().(*pollWaiter)
	wt.since = time.Now()
	s.get = wt
	if len(s.queue) == 0 && s.state == stateOpen && !s.onWS {
		s.mu.Unlock()
		select {
		case <-wt.wake:
		case <-r.Context().Done():
			select {
			case <-wt.wake:
			default:
				s.mu.Lock()
				if s.get == wt {
					s.get = nil
				}
				s.mu.Unlock()
				wt.recycle()
				s.closeNow(ReasonTransportError, &ProtocolError{Reason: "poll connection closed prematurely", Err: r.Context().Err()}, 0)
				return
			}
		}
		s.mu.Lock()
	}
	if s.get == wt {
		s.get = nil
	}
	reply := wt.reply
	wt.recycle() // s.get no longer points to it: nothing releases it now
	var (
		pkts    []Packet
		small   [4]Packet // holds a short queue, so its array stays with the session
		closing bool
	)
	switch s.state {
	case stateClosed:
		// answered by wt.reply below
	case stateClosing:
		// Like Node: what is queued goes first, the close packet in the
		// GET after it, so a client handles the packets before the close.
		pkts = s.takeQueueLocked()
		closing = len(pkts) == 0
	default:
		if s.onWS {
			// Upgraded while this GET waited: answer as if it came after
			// the upgrade (a conforming client has no GET pending by then).
			s.mu.Unlock()
			s.srv.reject(w, r, false, requestError(CodeBadRequest))
			return
		}
		if n := len(s.queue); n > 0 && n <= len(small) && cap(s.queue) <= 2*len(small) {
			pkts = small[:copy(small[:], s.queue)]
			clear(s.queue)
			s.queue, s.queueBytes = s.queue[:0], 0
		} else {
			pkts = s.takeQueueLocked()
		}
	}
	s.mu.Unlock()

	if closing {
		if reply != '1' { // Node ends a GET arriving after the close with a noop first
			pkts = append(pkts, Packet{Type: PacketNoop})
		}
		pkts = append(pkts, Packet{Type: PacketClose})
	} else if len(pkts) == 0 {
		if reply == 0 {
			reply = '6'
		}
		small[0] = Packet{Type: PacketType(reply - '0')}
		pkts = small[:1]
	}
	s.srv.writePayload(w, r, pkts)
	if closing {
		s.closeNow("", nil, 0) // keeps the orderly close reason
	}
}

// waiterPool recycles the waiters of held GETs with their channels.
var waiterPool = sync.Pool{New: func() any { return &pollWaiter{wake: make(chan struct{}, 1)} }}

// recycle puts w back in waiterPool; the caller has just taken it out of
// s.get (under s.mu), so no release can reach it any more.
func (w *pollWaiter) recycle() {
	select {
	case <-w.wake: // the wake-up of a release that the select did not take
	default:
	}
	w.reply = 0
	waiterPool.Put(w)
}

var payloadPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// compressThreshold is Node's httpCompression threshold.
const compressThreshold = 1024

var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// writePayload answers a GET with pkts; like Node, a body of at least 1 KiB
// is gzipped when the client accepts it and compression is not disabled.
func (srv *Server) writePayload(w http.ResponseWriter, r *http.Request, pkts []Packet) {
	bp := payloadPool.Get().(*[]byte)
	b := AppendPayload((*bp)[:0], pkts...)
	clear(pkts)
	h := w.Header()
	h["Content-Type"] = hdrTextPlain
	h["Cache-Control"] = hdrNoStore
	if len(b) >= compressThreshold && !srv.opts.DisableHTTPCompression && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(w)
		_, _ = zw.Write(b)
		_ = zw.Close()
		zw.Reset(nil)
		gzipPool.Put(zw)
	} else {
		h["Content-Length"] = contentLength(len(b))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	}
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		payloadPool.Put(bp)
	}
}

// acceptsGzip reports whether r's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(name), "gzip") || strings.TrimSpace(name) == "*" {
				q := strings.ReplaceAll(params, " ", "")
				return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
			}
		}
	}
	return false
}

// servePost processes every packet of a polling POST before answering "ok" (A7).
func (s *Session) servePost(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") == "application/octet-stream" { // binary payloads are EIO3 only
		w.WriteHeader(http.StatusBadRequest)
		s.closeNow(ReasonTransportError, &ProtocolError{Reason: "invalid content"}, 0)
		return
	}
	s.mu.Lock()
	if s.posting {
		s.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		s.closeNow(ReasonTransportError, &ProtocolError{Reason: "data request overlap from client"}, 0)
		return
	}
	s.posting = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = false
		s.mu.Unlock()
	}()

	limit := s.srv.opts.MaxHTTPBufferSize
	if r.ContentLength > limit {
		tooLarge(w)
		return
	}
	body, err := readBody(r, limit)
	if int64(len(body)) > limit {
		tooLarge(w)
		return
	}
	if err != nil {
		s.closeNow(ReasonTransportError, &ProtocolError{Reason: "post read error", Err: err}, 0)
		w.WriteHeader(http.StatusBadRequest)
		return
	}

	s.recvMu.Lock()
	if err := eachPacket(body, s.onPacket); err != nil && !s.closed.Load() {
		s.closeNow(ReasonParseError, &ProtocolError{Reason: "parse error", Err: err}, 0)
	}
	s.endDispatch()

	h := w.Header()
	h["Content-Type"] = hdrTextHTML
	h["Content-Length"] = hdrTwo
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(okBody)
}

// readBody reads at most limit+1 bytes of r's body, in one allocation when
// the length is declared.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength >= 0 {
		body := make([]byte, r.ContentLength) // <= limit, checked by the caller
		_, err := io.ReadFull(r.Body, body)
		return body, err
	}
	return io.ReadAll(io.LimitReader(r.Body, limit+1))
}

func tooLarge(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
}
