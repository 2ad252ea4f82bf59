package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"regexp"
	"time"

	"github.com/seed9706/socketio/socketio"
)

func ExampleNewServer() {
	srv := socketio.NewServer(&socketio.ServerOptions{PingInterval: 25 * time.Second}) // nil = defaults
	srv.OnConnection(func(s *socketio.Socket) {
		s.Join("lobby")
		s.On("msg", func(e *socketio.Event) {
			var text string
			if err := e.Args(&text); err != nil {
				return
			}
			_ = s.To("lobby").Emit("msg", text) // everyone in the lobby but s
			_ = e.Ack("ok")
		})
		s.OnDisconnect(func(reason string) { log.Printf("%s left: %s", s.ID(), reason) })
	})
	http.Handle("/socket.io/", srv)
}

func ExampleNamespace_Use() {
	srv := socketio.NewServer(nil)
	admin := srv.Of("/admin")
	admin.Use(func(s *socketio.Socket) error {
		var auth struct{ Token string }
		if err := json.Unmarshal(s.Handshake().Auth, &auth); err != nil || auth.Token != "secret" {
			// The client's connect_error gets this message and data.
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
		}
		s.SetData(map[string]any{"role": "admin"})
		return nil
	})
	admin.OnConnection(func(s *socketio.Socket) { _ = s.Emit("welcome", s.ID()) })
}

func ExampleServer_OfRegexp() {
	srv := socketio.NewServer(nil)
	rooms := srv.OfRegexp(regexp.MustCompile(`^/room-[0-9]+$`))
	rooms.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("joined", s.Namespace().Name()) // e.g. "/room-42"
	})
}

func ExampleBroadcastOperator_EmitWithAck() {
	srv := socketio.NewServer(nil)
	// The context deadline plays the role of JS timeout(ms).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	replies, err := srv.To("voters").EmitWithAck(ctx, "vote", "lunch?")
	if errors.Is(err, socketio.ErrTimeout) {
		fmt.Println("some clients did not answer in time")
	}
	for _, r := range replies {
		var answer string
		_ = r.Args(&answer) // the first argument of each client's ack
		fmt.Println(answer)
	}
	// Output:
}

func ExampleSocket_EmitWithAck() {
	srv := socketio.NewServer(nil)
	srv.OnConnection(func(s *socketio.Socket) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reply, err := s.EmitWithAck(ctx, "question", "ready?")
		if err != nil {
			return
		}
		var answer string
		_ = reply.Args(&answer)
	})
}
