package socketio_test

import (
	"net/http"
	"time"

	"github.com/seed9706/socketio/socketio"
)

// With connection state recovery, a client that lost its connection for
// less than MaxDisconnectionDuration gets back its id, rooms and data, and
// the events it missed are sent to it first. Clients that were not
// recovered must be brought up to date by the application.
func ExampleConnectionStateRecovery() {
	srv := socketio.NewServer(&socketio.ServerOptions{
		ConnectionStateRecovery: &socketio.ConnectionStateRecovery{MaxDisconnectionDuration: time.Minute},
	})
	srv.OnConnection(func(s *socketio.Socket) {
		if s.Recovered() {
			return // rooms and data are back, missed events already sent
		}
		s.Join("news")
		s.SetData(map[string]string{"joined": time.Now().Format(time.RFC3339)})
		_ = s.Emit("snapshot", "everything the client needs to start")
	})
	http.Handle("/socket.io/", srv)
}
