package http1

import (
	"bufio"
	"errors"
	"io"
	"net/http/httputil"
)

// body is a request body read from the connection's buffered reader: n
// bytes, or chunked (n < 0). It must not be read once the handler
// returned.
type body struct {
	br      *bufio.Reader
	n       int64     // bytes left of a fixed-length body
	chunked io.Reader // the chunked decoder; nil for a fixed length
	c       *conn     // for Expect: 100-continue
	sawEOF  bool
	closed  bool
}

var errBodyClosed = errors.New("http1: read on a closed request body")

func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errBodyClosed
	}
	if b.sawEOF {
		return 0, io.EOF
	}
	b.c.sendContinue()
	if b.chunked != nil {
		n, err := b.chunked.Read(p)
		if err == io.EOF {
			b.sawEOF = true
		}
		return n, err
	}
	if b.n == 0 {
		b.sawEOF = true
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.br.Read(p)
	b.n -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if b.n == 0 && err == nil {
		b.sawEOF = true
	}
	return n, err
}

// Close is a no-op for the handler: the server drains or discards the
// rest of the body itself.
func (b *body) Close() error { return nil }

func newChunkedBody(br *bufio.Reader, c *conn) *body {
	return &body{br: br, n: -1, chunked: httputil.NewChunkedReader(br), c: c}
}

// maxDrain is how much of a body the handler did not read the server
// reads and drops to keep the connection; past that it closes it.
const maxDrain = 256 << 10

// finish drains what the handler left of the body and reports whether the
// connection can serve another request.
func (b *body) finish() bool {
	if b.sawEOF {
		b.closed = true
		return true
	}
	if b.c.continueNeeded() { // the client waits for our 100 before sending the body: it gets the final status instead
		b.closed = true
		return false
	}
	n, err := io.Copy(io.Discard, io.LimitReader(b, maxDrain+1))
	b.closed = true
	return err == nil && n <= maxDrain && b.sawEOF
}
