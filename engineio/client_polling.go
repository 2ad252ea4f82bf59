package engineio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
)

// openPolling performs the polling handshake and returns the packets that
// followed the open packet in the same response.
func (c *ClientConn) openPolling(ctx context.Context) ([]Packet, error) {
	body, err := c.request(ctx, http.MethodGet, c.pollURL+"&t="+randomString(), nil, false)
	if err != nil {
		return nil, err
	}
	pkts, err := DecodePayload(body)
	if len(pkts) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrBadHandshake, err)
	}
	if err := c.parseOpen(pkts[0]); err != nil {
		return nil, err
	}
	if err != nil { // a bad packet after a valid open packet
		return nil, fmt.Errorf("%w: %w", ErrBadHandshake, err)
	}
	return pkts[1:], nil
}

// sessionURL is the polling URL of the session with a fresh cache buster.
func (c *ClientConn) sessionURL() string {
	return c.pollURL + "&sid=" + c.sid + "&t=" + randomString()
}

// pollLoop is the polling reader: it keeps one GET in flight and handles
// the packets of each response in order, until the connection closes or
// polling is paused for the upgrade.
func (c *ClientConn) pollLoop(pkts []Packet) {
	defer c.wg.Done()
	defer c.readerDone()
	for {
		for _, p := range pkts {
			if !c.onPacket(p) {
				return
			}
		}
		if c.pollStopped() {
			return
		}
		body, err := c.request(c.ctx, http.MethodGet, c.sessionURL(), nil, true)
		if err != nil {
			if !c.pollStopped() { // else Close or the upgrade ended polling on purpose
				c.fail(ReasonTransportError, err)
			}
			return
		}
		var derr error
		pkts, derr = DecodePayload(body)
		if derr != nil {
			// Handle the valid prefix first, like the official client.
			for _, p := range pkts {
				if !c.onPacket(p) {
					return
				}
			}
			c.fail(ReasonParseError, derr)
			return
		}
	}
}

// pollStopped reports whether the poll loop must stop: the connection is
// closing or closed, or paused for the upgrade.
func (c *ClientConn) pollStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing || c.closed || c.paused
}

// post sends one payload.
func (c *ClientConn) post(ctx context.Context, pkts []Packet) error {
	body := AppendPayload(make([]byte, 0, PayloadLen(pkts...)), pkts...)
	_, err := c.request(ctx, http.MethodPost, c.sessionURL(), body, true)
	return err
}

// request sends one polling request and returns the body of a 200 response,
// bounded by MaxMessageSize. Another status is a *RequestError when the body
// is the server's JSON error, else a *StatusError.
//
// A request of a session (inSession) is sent at most once: net/http resends
// a GET, or a POST it can rewind, whose reused connection failed before a
// response, but the lost response of a GET held packets the server will not
// send again, and a resent POST may deliver packets twice. So a POST cannot
// be rewound, and a GET that went out on a second connection fails
// (ErrRequestResent): the connection closes, and Socket.IO recovery replays
// what was lost.
func (c *ClientConn) request(ctx context.Context, method, u string, body []byte, inSession bool) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var conns atomic.Int32
	if inSession {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { conns.Add(1) },
		})
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if inSession {
		req.GetBody = nil
	}
	for k, vs := range c.opts.Header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if conns.Load() > 1 {
		return nil, ErrRequestResent
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxMessageSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > c.opts.MaxMessageSize {
		return nil, ErrMessageTooBig
	}
	if resp.StatusCode != http.StatusOK {
		var re RequestError
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && json.Unmarshal(data, &re) == nil {
			return nil, &re
		}
		return nil, &StatusError{StatusCode: resp.StatusCode}
	}
	return data, nil
}

// StatusError is an HTTP response with an unexpected status.
type StatusError struct{ StatusCode int }

func (e *StatusError) Error() string {
	return fmt.Sprintf("engineio: unexpected HTTP status %d", e.StatusCode)
}
