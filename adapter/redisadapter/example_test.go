package redisadapter_test

import (
	"context"
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/adapter/redisadapter"
	"github.com/seed9706/socketio/socketio"
)

// A server that joins the cluster of every server, Go or Node.js, using
// @socket.io/redis-adapter on the same Redis.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	srv := socketio.NewServer(&socketio.ServerOptions{Adapter: redisadapter.New(rdb, nil)})
	srv.OnConnection(func(s *socketio.Socket) {
		s.Join("lobby")
		_ = s.To("lobby").Emit("joined", s.ID()) // reaches the lobby on every server
	})
	http.Handle("/socket.io/", srv)
	log.Fatal(http.ListenAndServe(":3000", nil))
}

// A worker process that is not a Socket.IO server sends events to the
// clients of the cluster.
func ExampleEmitter() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	emitter := redisadapter.NewEmitter(rdb, nil)
	ctx := context.Background()
	_ = emitter.To("lobby").Emit(ctx, "news", "hello", []byte{1, 2, 3})
	_ = emitter.Of("/admin").In("room1").SocketsJoin(ctx, "room2")
	_ = emitter.ServerSideEmit(ctx, "reload-config")
}
