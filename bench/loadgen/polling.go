package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxPollBody bounds one polling response.
const maxPollBody = 4 << 20

// pollSession is an Engine.IO long-polling session. It is used by one
// goroutine at a time: requests are issued one after the other, as the
// official client never overlaps two POSTs or two GETs.
type pollSession struct {
	t   *target
	url string
	sid string
}

func (t *target) openPolling(ctx context.Context) (*pollSession, error) {
	p := &pollSession{t: t, url: t.base + t.path + "?EIO=4&transport=polling"}
	body, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	first, _, _ := bytes.Cut(body, []byte{0x1e})
	if p.sid, err = parseOpen(first); err != nil {
		return nil, err
	}
	p.url += "&sid=" + url.QueryEscape(p.sid)
	return p, nil
}

func (p *pollSession) get(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return nil, err
	}
	return p.do(req)
}

func (p *pollSession) post(ctx context.Context, payload string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, strings.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	body, err := p.do(req)
	if err != nil {
		return err
	}
	if string(body) != "ok" {
		return fmt.Errorf("%w: POST answered %q", ErrProtocol, body)
	}
	return nil
}

func (p *pollSession) do(req *http.Request) ([]byte, error) {
	resp, err := p.t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %s: %w", req.Method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPollBody+1))
	if err != nil {
		return nil, fmt.Errorf("loadgen: %s: %w", req.Method, err)
	}
	if len(body) > maxPollBody {
		return nil, fmt.Errorf("%w: %s response over %d bytes", ErrProtocol, req.Method, maxPollBody)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s status %d: %q", ErrProtocol, req.Method, resp.StatusCode, body)
	}
	return body, nil
}

// poll does one GET and passes each Socket.IO packet to h, answering pings.
func (p *pollSession) poll(ctx context.Context, h func(packet []byte) error) error {
	body, err := p.get(ctx)
	if err != nil {
		return err
	}
	for len(body) > 0 {
		var pkt []byte
		pkt, body, _ = bytes.Cut(body, []byte{0x1e})
		switch {
		case len(pkt) == 1 && pkt[0] == '2':
			if err := p.post(ctx, "3"); err != nil {
				return err
			}
		case string(pkt) == "41", string(pkt) == "1": // namespace or session closed
			return ErrClosed
		case len(pkt) > 0 && pkt[0] == '4':
			if err := h(pkt[1:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// expectConnect polls until the namespace CONNECT answer arrives.
func (p *pollSession) expectConnect(ctx context.Context) error {
	connected := false
	for !connected {
		err := p.poll(ctx, func(pkt []byte) error {
			if !bytes.HasPrefix(pkt, []byte("0{")) {
				return fmt.Errorf("%w: %q while connecting", ErrProtocol, pkt)
			}
			connected = true
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// close ends the session.
func (p *pollSession) close(ctx context.Context) { _ = p.post(ctx, "1") }
