package engineio

import (
	"net/http/httptest"
	"testing"
)

// An inline WebSocket write that fails on a closed connection, of a
// session closed meanwhile, releases its frames once: a second release
// put them in the pool twice, and two sessions then built their frames
// in the same buffer (a data race, and wrong bytes on the wire).
func TestInlineWriteOnClosedConnReleasesFramesOnce(t *testing.T) {
	srv := NewServer(echoOnly{}, nil)
	s := newSession(srv, "sid", httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=websocket", nil), transportWebSocket)
	c := &wsConn{srv: srv, s: s, fd: 0, epfd: -1, wclosed: true} // fd only has to look usable: nothing is written
	s.ws, s.state, s.writing, s.inWrite = c, stateClosed, true, true
	s.writeInline(c, []Packet{{Type: PacketMessage, Data: []byte("x")}})
	seen := map[*frames]bool{}
	for range 4 {
		f := buildFrames(nil, nil)
		if seen[f] {
			t.Fatal("the pool handed out the same frames twice")
		}
		seen[f] = true
	}
}
