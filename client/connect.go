package client

import (
	"context"
	"fmt"
	"net/url"
)

// Connect connects to the namespace named by the path of rawURL ("/" when
// empty), e.g. "http://localhost:3000/chat", over a new Manager, and waits
// until the server accepts the socket. It fails with a *ConnectError when
// the server refuses, and when ctx is done first (while the Manager keeps
// retrying failed attempts, unless reconnection is disabled). On failure the
// Manager is closed. opts may be nil.
func Connect(ctx context.Context, rawURL string, opts *Options) (*Socket, error) {
	if opts == nil {
		opts = &Options{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: bad URL: %w", err)
	}
	m, err := NewManager(rawURL, &opts.ManagerOptions)
	if err != nil {
		return nil, err
	}
	s := m.Socket(u.Path, &opts.SocketOptions)
	hook := make(chan hookEvent, 16)
	s.mu.Lock()
	s.hook = hook
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.hook = nil
		s.mu.Unlock()
	}()
	s.Connect()
	var last error
	for {
		select {
		case ev := <-hook:
			switch {
			case ev.connected:
				return s, nil
			case ev.fatal:
				m.Close()
				if last != nil && ev.err == ErrReconnectFailed {
					return nil, fmt.Errorf("%w: %w", ev.err, last)
				}
				return nil, ev.err
			case m.opts.DisableReconnection:
				m.Close()
				return nil, ev.err
			default:
				last = ev.err
			}
		case <-ctx.Done():
			m.Close()
			if last != nil {
				return nil, fmt.Errorf("client: %w (last error: %w)", ctx.Err(), last)
			}
			return nil, ctx.Err()
		}
	}
}
