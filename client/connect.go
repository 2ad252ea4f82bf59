package client

import (
	"context"
	"fmt"
	"net/url"
	"slices"
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
	if err := s.ConnectWait(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return s, nil
}

// ConnectWait connects the socket like Connect and waits until the server
// accepts it. It fails with a *ConnectError when the server refuses, with
// ErrReconnectFailed when the Manager ran out of attempts, with
// ErrDisconnected when Disconnect is called meanwhile, with ErrClosed when
// the Manager is closed, and when ctx is done first; the Manager may then
// still be retrying: call Disconnect to stop. Register handlers before
// calling it to see every event.
func (s *Socket) ConnectWait(ctx context.Context) error {
	hook := make(chan hookEvent, 16)
	s.mu.Lock()
	if s.conn != nil {
		s.mu.Unlock()
		return nil
	}
	s.hooks = append(s.hooks, hook)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.hooks = slices.DeleteFunc(s.hooks, func(h chan hookEvent) bool { return h == hook })
		s.mu.Unlock()
	}()
	s.Connect()
	var last error
	for {
		select {
		case ev := <-hook:
			switch {
			case ev.connected:
				return nil
			case ev.fatal:
				if last != nil && ev.err == ErrReconnectFailed {
					return fmt.Errorf("%w: %w", ev.err, last)
				}
				return ev.err
			case s.m.opts.DisableReconnection:
				return ev.err
			default:
				last = ev.err
			}
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("client: %w (last error: %w)", ctx.Err(), last)
			}
			return ctx.Err()
		}
	}
}
