package engineio_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/seed9706/socketio/engineio"
)

// echo sends every message back.
type echo struct{}

func (echo) OnOpen(*engineio.Session)                          {}
func (echo) OnMessage(s *engineio.Session, m engineio.Message) { _ = s.Send(m) }
func (echo) OnClose(*engineio.Session, string, error)          {}

func ExampleDial() {
	srv := engineio.NewServer(echo{}, nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close(context.Background())

	got := make(chan string, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Polling first, then upgraded to WebSocket in the background.
	c, err := engineio.Dial(ctx, ts.URL, &engineio.DialOptions{
		OnMessage: func(m engineio.Message) { got <- string(m.Data) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c.Send(engineio.Message{Data: []byte("hello")})
	fmt.Println(<-got)
	_ = c.Close()
	<-c.Done()
	// Output: hello
}
