package engineio

import (
	"strconv"
	"testing"
)

func TestHandshakePolling(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	r := do(t, "GET", ts.URL+"/engine.io/?EIO=4&transport=polling", "")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	m := openRe.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("body %q", r.body)
	}
	want := `0{"sid":"` + m[1] + `","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	if r.body != want {
		t.Fatalf("body %q, want %q", r.body, want)
	}
	for k, v := range map[string]string{"Content-Type": "text/plain; charset=UTF-8", "Cache-Control": "no-store", "Content-Length": strconv.Itoa(len(want))} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if r.header.Get("Set-Cookie") != "" || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("unexpected headers %v", r.header)
	}
	if n := srv.ClientsCount(); n != 1 {
		t.Errorf("ClientsCount = %d", n)
	}
}

func TestPollingEcho(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, testOpts())
	sid := handshake(t, ts.URL)
	r := do(t, "POST", pollURL(ts.URL, sid), "4test1\x1e4test2\x1ebAQID")
	if r.status != 200 || r.body != "ok" || r.header.Get("Content-Type") != "text/html" {
		t.Fatalf("POST: %d %q %v", r.status, r.body, r.header)
	}
	r = do(t, "GET", pollURL(ts.URL, sid), "")
	if r.status != 200 || r.body != "4test1\x1e4test2\x1ebAQID" {
		t.Fatalf("GET: %d %q", r.status, r.body)
	}
}
