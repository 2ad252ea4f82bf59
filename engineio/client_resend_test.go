package engineio

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A polling request of a session is sent at most once: when its reused
// connection is reset before the response, net/http would resend a GET on a
// new connection and the first response (maybe holding packets) would be
// lost unnoticed; the request fails instead. The handshake may be resent.
func TestClientPollingRequestNotResent(t *testing.T) {
	for _, tc := range []struct {
		method    string
		inSession bool
		wantErr   error
	}{
		{http.MethodGet, true, ErrRequestResent},
		{http.MethodPost, true, nil}, // not resent: the reset itself is the error
		{http.MethodGet, false, nil}, // the handshake: resent, succeeds
	} {
		t.Run(tc.method, func(t *testing.T) {
			var requests atomic.Int32
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if requests.Add(1) == 2 {
					// Reset the (reused) connection without a response.
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						_ = conn.(*net.TCPConn).SetLinger(0)
						conn.Close()
					}
					return
				}
				_, _ = w.Write([]byte("ok"))
			}))
			defer hs.Close()
			c := &ClientConn{hc: hs.Client()}
			c.opts.MaxMessageSize = 1 << 10
			defer c.hc.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var body []byte
			if tc.method == http.MethodPost {
				body = []byte("4hello")
			}
			if got, err := c.request(ctx, tc.method, hs.URL, body, tc.inSession); err != nil || string(got) != "ok" {
				t.Fatalf("first request: %q %v", got, err)
			}
			got, err := c.request(ctx, tc.method, hs.URL, body, tc.inSession)
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("second request: %q %v, want %v", got, err, tc.wantErr)
			case tc.method == http.MethodPost && (err == nil || requests.Load() != 2):
				t.Fatalf("POST: %q %v after %d requests, want a failure and no resend", got, err, requests.Load())
			case tc.method == http.MethodGet && !tc.inSession && (err != nil || string(got) != "ok" || requests.Load() != 3):
				t.Fatalf("handshake GET: %q %v after %d requests, want resent once", got, err, requests.Load())
			}
		})
	}
}
