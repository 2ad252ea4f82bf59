package redisadapter

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seed9706/socketio/internal/interop"
)

// The publish queue keeps the order of the messages, also when it sends
// them in batches.
func TestPublishOrder(t *testing.T) {
	addr := interop.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	sub := rdb.Subscribe(context.Background(), "order")
	t.Cleanup(func() { _ = sub.Close() })
	if _, err := sub.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := newLink(rdb, false, 10000, discardLogger)
	if err := l.start(context.Background(), nil, []string{"unused"}, func(*redis.Message) {}); err != nil {
		t.Fatal(err)
	}
	const n = 5000
	for i := range n {
		if err := l.publish("order", appendNumber(nil, float64(i))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range n {
		m, err := sub.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if want := string(appendNumber(nil, float64(i))); m.Payload != want {
			t.Fatalf("message %d is %x", i, m.Payload)
		}
	}
	if err := l.close(ctx); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkPublish(b *testing.B) {
	addr := interop.StartRedis(b)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	b.Cleanup(func() { _ = rdb.Close() })
	l := newLink(rdb, false, 1<<16, discardLogger)
	if err := l.start(context.Background(), nil, []string{"unused"}, func(*redis.Message) {}); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 100)
	b.ResetTimer()
	for range b.N {
		for l.publish("bench", payload) != nil {
			time.Sleep(time.Microsecond) // queue full: wait for Redis
		}
	}
	if err := l.close(context.Background()); err != nil { // drains the queue, timed
		b.Fatal(err)
	}
}
