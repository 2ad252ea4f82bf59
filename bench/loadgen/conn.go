package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// maxFrame bounds one received message (the servers' default maxPayload is
// 1e6; a broadcast burst never needs more).
const maxFrame = 4 << 20

var (
	// ErrClosed reports that the server closed the session.
	ErrClosed = errors.New("loadgen: connection closed")
	// ErrProtocol reports a packet the scenario did not expect.
	ErrProtocol = errors.New("loadgen: unexpected packet")
)

// handler gets every Socket.IO packet (without the Engine.IO "4") on the
// connection's read goroutine; the slice is only valid during the call.
type handler func(c *conn, packet []byte)

// conn is a lean Socket.IO client session on one WebSocket, connected to
// the main namespace. Engine.IO pings are answered by the read goroutine.
type conn struct {
	nc   net.Conn
	br   *bufio.Reader
	rbuf []byte // reused by readMessage

	wmu  sync.Mutex
	wbuf []byte

	handle  handler
	started bool          // the read goroutine runs
	done    chan struct{} // closed when the read goroutine ends
}

// target is the server the load generator talks to.
type target struct {
	base   string // http://host:port
	path   string // /socket.io/
	client *http.Client
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
}

// loopbackSources is how many 127.0.0.x addresses the connections to a
// loopback server come from: each has its own ephemeral port range (28,000
// ports here), so ramps of tens of thousands of connections, with the
// previous run's sockets still in TIME_WAIT, do not exhaust it.
const loopbackSources = 16

// dialer returns the dial function for host: rotating over loopback source
// addresses when host is a loopback IPv4 address.
func dialer(host string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return d.DialContext
	}
	var next atomic.Uint32
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+next.Add(1)%loopbackSources))}}
		return d.DialContext(ctx, network, addr)
	}
}

func newTarget(rawURL, path string, conns int) (*target, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("loadgen: bad server URL %q (want http://host:port)", rawURL)
	}
	if path == "" {
		path = "/socket.io/"
	}
	dial := dialer(u.Hostname())
	tr := &http.Transport{
		DialContext:         dial,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		DisableCompression:  true,
		IdleConnTimeout:     30 * time.Second,
	}
	return &target{base: u.Scheme + "://" + u.Host, path: path, client: &http.Client{Transport: tr, Timeout: 60 * time.Second}, dial: dial}, nil
}

func (t *target) close() { t.client.CloseIdleConnections() }

func (t *target) wsURL(sid string) string {
	u := "ws" + strings.TrimPrefix(t.base, "http") + t.path + "?EIO=4&transport=websocket"
	if sid != "" {
		u += "&sid=" + url.QueryEscape(sid)
	}
	return u
}

// dialWebSocket opens a WebSocket-only session and connects to "/".
func (t *target) dialWebSocket(ctx context.Context) (*conn, error) {
	c, err := t.openWS(ctx, "")
	if err != nil {
		return nil, err
	}
	err = c.handshake(ctx, func() error {
		open, err := c.readMessage()
		if err == nil {
			_, err = parseOpen(open)
		}
		if err == nil {
			err = c.connectNamespace()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// dialUpgrade opens a session the way the official client does by default:
// polling handshake, namespace connect over polling, then the WebSocket
// probe and upgrade.
func (t *target) dialUpgrade(ctx context.Context) (*conn, error) {
	p, err := t.openPolling(ctx)
	if err != nil {
		return nil, err
	}
	var c *conn
	if err = p.post(ctx, "40"); err == nil {
		err = p.expectConnect(ctx)
	}
	if err == nil {
		c, err = t.openWS(ctx, p.sid)
	}
	if err == nil {
		err = c.handshake(ctx, func() error {
			if err := c.write("2probe"); err != nil {
				return err
			}
			probe, err := c.readMessage()
			if err != nil || string(probe) != "3probe" {
				return fmt.Errorf("%w: probe answer %q (%v)", ErrProtocol, probe, err)
			}
			return c.write("5")
		})
	}
	if err != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p.close(closeCtx) // not to leave the session to the server's ping timeout
		return nil, err
	}
	return c, nil
}

// handshake runs fn, the first exchanges on c, within ctx: when ctx ends
// first, c's reads and writes fail at once. On failure c is closed.
func (c *conn) handshake(ctx context.Context, fn func() error) error {
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
	err := fn()
	if !stop() { // ctx ended: the deadline is spoiled even if fn succeeded
		err = ctx.Err()
	}
	if err != nil {
		c.nc.Close()
	}
	return err
}

func (t *target) openWS(ctx context.Context, sid string) (*conn, error) {
	nc, br, _, err := ws.Dialer{Timeout: 10 * time.Second, NetDial: t.dial}.Dial(ctx, t.wsURL(sid))
	if err != nil {
		return nil, fmt.Errorf("loadgen: websocket dial: %w", err)
	}
	var r io.Reader = nc
	if br != nil { // frames the dialer read ahead
		r = io.MultiReader(br, nc)
	}
	return &conn{nc: nc, br: bufio.NewReaderSize(r, 2048), done: make(chan struct{})}, nil
}

// parseOpen checks an Engine.IO open packet and returns its sid.
func parseOpen(p []byte) (string, error) {
	var open struct {
		SID string `json:"sid"`
	}
	if len(p) == 0 || p[0] != '0' || json.Unmarshal(p[1:], &open) != nil || open.SID == "" {
		return "", fmt.Errorf("%w: open packet %q", ErrProtocol, p)
	}
	return open.SID, nil
}

func (c *conn) connectNamespace() error {
	if err := c.write("40"); err != nil {
		return err
	}
	for {
		m, err := c.readMessage()
		if err != nil {
			return err
		}
		switch {
		case bytes.HasPrefix(m, []byte("40{")):
			return nil
		case string(m) == "2":
			if err := c.write("3"); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: %q while connecting", ErrProtocol, m)
		}
	}
}

// start runs the read goroutine, which answers pings and passes Socket.IO
// packets to h.
func (c *conn) start(h handler) {
	c.handle, c.started = h, true
	go c.readLoop()
}

// readLoop runs until the session ends (the fleet counts the ended ones).
func (c *conn) readLoop() {
	defer close(c.done)
	for {
		m, err := c.readMessage()
		if err != nil {
			return
		}
		switch {
		case len(m) == 1 && m[0] == '2':
			if c.write("3") != nil {
				return
			}
		case string(m) == "41", string(m) == "1": // namespace or session closed
			return
		case len(m) > 0 && m[0] == '4':
			if c.handle != nil {
				c.handle(c, m[1:])
			}
		}
	}
}

// close ends the session and waits for the read goroutine, if started.
func (c *conn) close() {
	c.nc.Close()
	if c.started {
		<-c.done
	}
}

// readMessage reads one whole WebSocket message, answering control frames.
// The result is valid until the next call.
func (c *conn) readMessage() ([]byte, error) {
	msg := c.rbuf[:0]
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil, ErrClosed
			}
			return nil, fmt.Errorf("loadgen: read: %w", err)
		}
		if h.Length > maxFrame || int64(len(msg))+h.Length > maxFrame {
			return nil, fmt.Errorf("%w: frame of %d bytes", ErrProtocol, h.Length)
		}
		start := len(msg)
		msg = slices.Grow(msg, int(h.Length))[:start+int(h.Length)]
		if _, err := io.ReadFull(c.br, msg[start:]); err != nil {
			return nil, fmt.Errorf("loadgen: read: %w", err)
		}
		if h.Masked {
			ws.Cipher(msg[start:], h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpClose:
			return nil, ErrClosed
		case ws.OpPing:
			if err := c.writeFrame(ws.OpPong, msg[start:]); err != nil {
				return nil, err
			}
			msg = msg[:start]
			continue
		case ws.OpPong:
			msg = msg[:start]
			continue
		}
		if h.Fin {
			c.rbuf = msg
			return msg, nil
		}
	}
}

func (c *conn) write(text string) error { return c.writeFrame(ws.OpText, []byte(text)) }

func (c *conn) writeFrame(op ws.OpCode, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.frameLocked(op, payload)
}

// frameLocked writes one masked client frame in a single write.
func (c *conn) frameLocked(op ws.OpCode, payload []byte) error {
	h := ws.Header{Fin: true, OpCode: op, Masked: true, Mask: ws.NewMask(), Length: int64(len(payload))}
	buf := bytes.NewBuffer(c.wbuf[:0])
	if err := ws.WriteHeader(buf, h); err != nil {
		return err
	}
	n := buf.Len()
	buf.Write(payload)
	b := buf.Bytes()
	ws.Cipher(b[n:], h.Mask, 0)
	c.wbuf = b
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("loadgen: write: %w", err)
	}
	return nil
}
