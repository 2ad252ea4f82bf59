// Command chat is a minimal chat room: every message a client sends with
// the "chat" event goes to every other client, and the sender gets an
// acknowledgement. Open http://127.0.0.1:3000/ in two browser tabs.
//
//	go run ./examples/chat -addr 127.0.0.1:3000
//
// # Concurrency
//
// The handlers of one socket run one at a time (see package socketio); the
// only state they share is the name of their own socket.
package main

import (
	_ "embed"
	"flag"
	"log"
	"net/http"
	"strings"

	"github.com/seed9706/socketio/socketio"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	flag.Parse()
	log.Printf("chat listening on http://%s/", *addr)
	log.Fatal(http.ListenAndServe(*addr, newHandler(socketio.NewServer(nil))))
}

// newHandler serves the page and the chat on srv.
func newHandler(srv *socketio.Server) http.Handler {
	srv.OnConnection(func(s *socketio.Socket) {
		name := "guest-" + s.ID()[:4]
		_ = s.Broadcast().Emit("chat", name+" joined")
		s.On("chat", func(e *socketio.Event) {
			var text string
			if err := e.Args(&text); err != nil || strings.TrimSpace(text) == "" {
				return
			}
			_ = s.Broadcast().Emit("chat", name+": "+text)
			_ = e.Ack("delivered")
		})
		s.OnDisconnect(func(string) { _ = srv.Emit("chat", name+" left") })
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	return mux
}
