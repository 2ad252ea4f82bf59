package engineio

import (
	"testing"
	"time"
)

func upgradeURL(base, sid string) string {
	return wsURL(base, "EIO=4&transport=websocket&sid="+sid)
}

func TestUpgrade(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	get := asyncGet(t, pollURL(ts.URL, sid))
	waitHeld(t, srv, sid)

	c := dialWS(t, upgradeURL(ts.URL, sid))
	c.sendText("2probe")
	c.expectText("3probe")
	// the pending GET is released with a noop so the client's poll ends
	if r := recv(t, get); r.status != 200 || r.body != "6" {
		t.Fatalf("pending GET: %d %q", r.status, r.body)
	}
	// a new GET during the upgrade gets a noop promptly too
	if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.body != "6" {
		t.Fatalf("GET during upgrade: %q", r.body)
	}
	// POSTs keep working until "5"; their echoes wait for the WebSocket
	if r := do(t, "POST", pollURL(ts.URL, sid), "4during"); r.status != 200 {
		t.Fatalf("POST during upgrade: %d", r.status)
	}
	c.sendText("5")
	c.expectText("4during")
	// polling requests after the upgrade are refused
	for _, m := range []string{"GET", "POST"} {
		if r := do(t, m, pollURL(ts.URL, sid), "4x"); r.status != 400 || r.body != `{"code":3,"message":"Bad request"}` {
			t.Fatalf("%s after upgrade: %d %q", m, r.status, r.body)
		}
	}
	c.sendText("4after")
	c.expectText("4after")
	if tr := srv.lookup(sid).Transport(); tr != "websocket" {
		t.Fatalf("transport %q", tr)
	}
	// a second upgrade attempt is closed
	c2 := dialWS(t, upgradeURL(ts.URL, sid))
	c2.expectClose()
	c.sendText("4still")
	c.expectText("4still")
}

func TestUpgradeRaceWithPollingRequest(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	c := dialWS(t, upgradeURL(ts.URL, sid))
	c.sendText("2probe")
	c.expectText("3probe")
	c.sendText("5")
	// right after "5", as the official suite does
	if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.status != 400 || r.body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("GET after upgrade: %d %q", r.status, r.body)
	}
}

func TestUpgradeBadProbe(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	c := dialWS(t, upgradeURL(ts.URL, sid))
	c.sendText("4hello")
	c.expectClose()
	// the session goes on with polling, and can upgrade again
	if r := do(t, "POST", pollURL(ts.URL, sid), "4x"); r.status != 200 {
		t.Fatalf("POST: %d", r.status)
	}
	if r := do(t, "GET", pollURL(ts.URL, sid), ""); r.body != "4x" {
		t.Fatalf("GET: %q", r.body)
	}
	c2 := dialWS(t, upgradeURL(ts.URL, sid))
	c2.sendText("2probe")
	c2.expectText("3probe")
	c2.sendText("5")
	c2.sendText("4ws")
	c2.expectText("4ws")
}

func TestUpgradeTimeout(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, &ServerOptions{UpgradeTimeout: 100 * time.Millisecond})
	sid := handshake(t, ts.URL)
	c := dialWS(t, upgradeURL(ts.URL, sid))
	c.sendText("2probe")
	c.expectText("3probe")
	c.expectClose()
	if r := do(t, "POST", pollURL(ts.URL, sid), "4x"); r.status != 200 {
		t.Fatalf("session lost after upgrade timeout: %d", r.status)
	}
	select {
	case r := <-h.closed:
		t.Fatalf("session closed: %s", r)
	default:
	}
}

func TestUpgradeSessionClosedDuringProbe(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	srv, ts := newTestServer(t, h, nil)
	sid := handshake(t, ts.URL)
	c := dialWS(t, upgradeURL(ts.URL, sid))
	c.sendText("2probe")
	c.expectText("3probe")
	do(t, "POST", pollURL(ts.URL, sid), "1")
	c.expectClose()
	if reason := h.waitClose(t); reason != ReasonTransportClose {
		t.Fatalf("reason %q", reason)
	}
	if srv.ClientsCount() != 0 {
		t.Fatal("session kept")
	}
}

func TestUpgradeHeartbeatOnWebSocket(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	_, ts := newTestServer(t, h, generousOpts())
	sid := handshake(t, ts.URL)
	c := dialWS(t, upgradeURL(ts.URL, sid))
	c.sendText("2probe")
	c.expectText("3probe")
	c.sendText("5")
	c.expectText("2")
	c.sendText("3")
	c.expectText("2")
	c.sendText("3")
	c.sendText("4ok")
	c.expectText("4ok")
}
