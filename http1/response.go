package http1

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// response is the http.ResponseWriter of one request. The body is held
// until the handler returns, then written with the head in one write, with
// its Content-Length; a Flush, or more than maxBuffered bytes, starts
// streaming it instead (chunked, unless the handler set a Content-Length).
type response struct {
	c           *conn
	ctx         *requestContext
	req         *http.Request
	header      http.Header
	status      int
	wroteHeader bool
	streaming   bool // the head is written; body bytes go out as they come
	chunked     bool // streaming with chunked encoding
	hijacked    bool
	aborted     bool // the handler panicked with http.ErrAbortHandler
	closeAfter  bool
	err         error // a write failed: later writes fail too
}

const maxBuffered = 64 << 10

var errHijacked = errors.New("http1: response write after Hijack")

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.hijacked || w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic("http1: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Informational: written now, the final status comes later.
		c := w.c
		head := appendHead(nil, code, w.header, nil)
		_, w.err = c.nc.Write(head)
		return
	}
	w.status, w.wroteHeader = code, true
}

func (w *response) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, errHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.req.Method == http.MethodHead {
		return len(p), nil
	}
	c := w.c
	if !w.streaming {
		if len(c.wbuf)+len(p) <= maxBuffered {
			c.wbuf = append(c.wbuf, p...)
			return len(p), nil
		}
		w.startStreaming()
		if w.err != nil {
			return 0, w.err
		}
	}
	return w.writeChunk(p)
}

// Flush writes what is held and streams the rest (http.Flusher).
func (w *response) Flush() {
	if w.hijacked || w.err != nil {
		return
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.streaming {
		w.startStreaming()
	}
}

// startStreaming writes the head and the body held so far.
func (w *response) startStreaming() {
	c := w.c
	held := c.wbuf
	c.wbuf = nil
	w.streaming = true
	if _, ok := w.header["Content-Length"]; !ok && bodyAllowed(w.status) && w.req.Method != http.MethodHead {
		if w.req.ProtoAtLeast(1, 1) {
			w.chunked = true
			w.header["Transfer-Encoding"] = []string{"chunked"}
		} else {
			w.closeAfter = true // HTTP/1.0: the end of the body is the end of the connection
		}
	}
	w.prepareHeader(held)
	buf := appendHead(nil, w.status, w.header, w.date())
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.writeTimeout())) // renewed per chunk below
	_, w.err = c.nc.Write(buf)
	if w.err == nil && len(held) > 0 {
		_, w.err = w.writeChunk(held)
	}
}

func (w *response) writeChunk(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c := w.c
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.writeTimeout()))
	if w.chunked {
		var hdr [20]byte
		h := strconv.AppendInt(hdr[:0], int64(len(p)), 16)
		h = append(h, '\r', '\n')
		bufs := net.Buffers{h, p, []byte("\r\n")}
		if _, w.err = bufs.WriteTo(c.nc); w.err != nil {
			return 0, w.err
		}
		return len(p), nil
	}
	var n int
	n, w.err = c.nc.Write(p)
	return n, w.err
}

// prepareHeader adds the headers net/http would: Content-Type (sniffed),
// Connection: close.
func (w *response) prepareHeader(body []byte) {
	h := w.header
	if _, ok := h["Content-Type"]; !ok && len(body) > 0 && bodyAllowed(w.status) {
		h["Content-Type"] = []string{http.DetectContentType(body)}
	}
	if cv := h["Connection"]; len(cv) > 0 && hasToken(cv, "close") {
		w.closeAfter = true
	}
	if w.closeAfter {
		h["Connection"] = hdrClose
	} else if !w.req.ProtoAtLeast(1, 1) {
		h["Connection"] = hdrKeepAlive
	}
}

var (
	hdrClose     = []string{"close"}
	hdrKeepAlive = []string{"keep-alive"}
)

// finish writes the response once the handler returned: head and held
// body in one write, or the end of a streamed body.
func (w *response) finish() error {
	if w.err != nil {
		return w.err
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	c := w.c
	if w.streaming {
		if w.chunked {
			_, w.err = c.nc.Write([]byte("0\r\n\r\n"))
		}
		return w.err
	}
	body := c.wbuf
	w.prepareHeader(body)
	if bodyAllowed(w.status) && (w.req.Method != http.MethodHead || len(body) > 0) {
		if cl, ok := w.header["Content-Length"]; !ok {
			w.header["Content-Length"] = []string{strconv.Itoa(len(body))}
		} else if w.req.Method != http.MethodHead && (len(cl) != 1 || cl[0] != strconv.Itoa(len(body))) {
			w.closeAfter = true // a handler declaring a length it did not write: the framing is lost
			w.header["Connection"] = hdrClose
		}
	}
	out := appendHead(getOut(len(body)), w.status, w.header, w.date())
	out = append(out, body...)
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.writeTimeout()))
	_, w.err = c.nc.Write(out)
	putOut(out)
	if cap(body) <= 4<<10 { // a connection keeps a small buffer only
		c.wbuf = body[:0]
	} else {
		c.wbuf = nil
	}
	return w.err
}

// Hijack hands the connection to the handler (http.Hijacker); what the
// client sent behind the request is in the returned reader.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, errHijacked
	}
	if w.streaming {
		return nil, nil, errors.New("http1: Hijack after the response began")
	}
	w.hijacked = true
	w.ctx.stopWatch() // the handler reads the connection from now on
	c := w.c
	_ = c.nc.SetWriteDeadline(time.Time{})
	return c.nc, bufio.NewReadWriter(c.br, bufio.NewWriterSize(c.nc, hijackWriteBuf)), nil
}

// hijackWriteBuf is the buffered writer Hijack returns: enough for a
// WebSocket handshake response; the upgraded connection writes directly.
const hijackWriteBuf = 512

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

func (w *response) date() []byte { return cachedDate() }

// appendHead appends the status line, the header and the blank line.
func appendHead(b []byte, status int, h http.Header, date []byte) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\n"...)
	if date != nil {
		if _, set := h["Date"]; !set {
			b = append(b, "Date: "...)
			b = append(b, date...)
			b = append(b, "\r\n"...)
		}
	}
	for k, vs := range h {
		if !validName(k) {
			continue
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = appendValue(b, v)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

// appendValue appends v with CR and LF replaced by spaces, as net/http
// does, so that a value cannot inject header lines.
func appendValue(b []byte, v string) []byte {
	if !strings.ContainsAny(v, "\r\n") {
		return append(b, strings.TrimSpace(v)...)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' {
			b = append(b, ' ')
		} else {
			b = append(b, c)
		}
	}
	return b
}

// dateCache holds the Date header value, renewed once a second.
type dateCache struct {
	sec  int64
	text []byte
}

var theDate atomic.Pointer[dateCache]

func cachedDate() []byte {
	now := time.Now()
	if d := theDate.Load(); d != nil && d.sec == now.Unix() {
		return d.text
	}
	d := &dateCache{sec: now.Unix(), text: now.UTC().AppendFormat(nil, http.TimeFormat)}
	theDate.Store(d)
	return d.text
}

// outPool recycles response buffers.
var outPool = make(chan []byte, 64)

func getOut(n int) []byte {
	select {
	case b := <-outPool:
		if cap(b) >= n+512 {
			return b[:0]
		}
	default:
	}
	return make([]byte, 0, n+512)
}

func putOut(b []byte) {
	if cap(b) > 8<<10 { // at most 64 small buffers are kept
		return
	}
	select {
	case outPool <- b[:0]:
	default:
	}
}

func hasToken(vs []string, tok string) bool {
	for _, v := range vs {
		for _, t := range splitTokens(v) {
			if equalFold(t, tok) {
				return true
			}
		}
	}
	return false
}

func splitTokens(v string) []string {
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

func itoa(n int) string { return strconv.Itoa(n) }
