package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Errors shared by the adapters and the emitter.
var (
	// ErrClosed is returned by operations on a closed adapter.
	ErrClosed = errors.New("redisadapter: adapter closed")
	// ErrPublishQueueFull is returned when messages for Redis pile up faster
	// than Redis takes them (or while it is unreachable); the message is
	// dropped, local delivery is not affected.
	ErrPublishQueueFull = errors.New("redisadapter: publish queue full, message dropped")
)

// Defaults of the options.
const (
	DefaultKey              = "socket.io"
	DefaultRequestsTimeout  = 5 * time.Second
	DefaultPublishQueueSize = 4096
)

// How the subscriber waits: a ping after this much silence detects a dead
// connection; reconnection attempts back off between the two delays.
const (
	healthCheckInterval = 15 * time.Second
	minBackoff          = 100 * time.Millisecond
	maxBackoff          = 3 * time.Second
	serverSideQueueSize = 256
)

var discardLogger = slog.New(slog.DiscardHandler)

// commonDefaults fills in the options every adapter has.
func commonDefaults(timeout *time.Duration, queueSize *int, logger **slog.Logger) {
	if *timeout <= 0 {
		*timeout = DefaultRequestsTimeout
	}
	if *queueSize <= 0 {
		*queueSize = DefaultPublishQueueSize
	}
	if *logger == nil {
		*logger = discardLogger
	}
}

// randomID returns n random alphanumeric characters, like JS uid2(n).
func randomID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i, c := range b {
		b[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(b)
}

// randomHex returns 16 random hex characters (ClusterAdapter ids).
func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// outMessage is one PUBLISH (or SPUBLISH) waiting in the queue.
type outMessage struct {
	channel string
	payload []byte
}

// link is what every adapter of this package runs against Redis: an ordered,
// bounded publish queue drained by one goroutine, and one subscription read
// by one goroutine that reconnects and resubscribes (go-redis resubscribes
// every channel of a PubSub when it reconnects).
type link struct {
	rdb     redis.UniversalClient
	sharded bool
	log     *slog.Logger

	mu     sync.Mutex // guards out against send-after-close
	closed bool
	out    chan outMessage

	stop      chan struct{}   // closed by close
	pubCtx    context.Context // publishes; cancelled when close gives up draining
	cancelPub context.CancelFunc

	ps      *redis.PubSub
	handle  func(*redis.Message)
	ready   chan struct{} // closed once the first subscriptions are confirmed
	waitFor int           // confirmations expected before ready
	wg      sync.WaitGroup
}

func newLink(rdb redis.UniversalClient, sharded bool, queueSize int, log *slog.Logger) *link {
	pubCtx, cancel := context.WithCancel(context.Background())
	return &link{rdb: rdb, sharded: sharded, log: log, out: make(chan outMessage, queueSize),
		ready: make(chan struct{}), stop: make(chan struct{}), pubCtx: pubCtx, cancelPub: cancel}
}

// start subscribes (patterns are for the classic adapter only) and starts
// both goroutines. It waits until Redis confirmed the subscriptions, or until
// ctx is done; either way the link keeps trying in the background.
func (l *link) start(ctx context.Context, patterns, channels []string, handle func(*redis.Message)) error {
	l.handle = handle
	l.waitFor = len(patterns) + len(channels)
	l.ps = l.rdb.Subscribe(ctx) // no channel yet: we want the errors
	var errs []error
	if len(patterns) > 0 {
		errs = append(errs, l.ps.PSubscribe(ctx, patterns...))
	}
	if l.sharded {
		errs = append(errs, l.ps.SSubscribe(ctx, channels...))
	} else {
		errs = append(errs, l.ps.Subscribe(ctx, channels...))
	}
	l.wg.Add(2)
	go l.publishLoop()
	go l.receiveLoop()
	if err := errors.Join(errs...); err != nil {
		l.log.Error("redisadapter: subscribe failed, will retry", "err", err)
		return fmt.Errorf("redisadapter: subscribe: %w", err)
	}
	select {
	case <-l.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("redisadapter: waiting for subscriptions: %w", ctx.Err())
	}
}

// publish queues a message; it never blocks.
func (l *link) publish(channel string, payload []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	select {
	case l.out <- outMessage{channel, payload}:
		return nil
	default:
		l.log.Warn("redisadapter: publish queue full, message dropped", "channel", channel)
		return ErrPublishQueueFull
	}
}

// maxBatch bounds the messages sent in one pipeline.
const maxBatch = 256

// publishLoop sends the queued messages in order; what piled up while Redis
// answered the previous ones goes in one pipeline (one write, one round trip).
func (l *link) publishLoop() {
	defer l.wg.Done()
	failing := false
	batch := make([]outMessage, 0, maxBatch)
	for m := range l.out {
		batch = append(batch[:0], m)
	more:
		for len(batch) < maxBatch {
			select {
			case m, ok := <-l.out:
				if !ok {
					break more
				}
				batch = append(batch, m)
			default:
				break more
			}
		}
		err := l.send(batch)
		// Log state changes, not every failed message.
		switch {
		case err != nil && !failing:
			failing = true
			l.log.Error("redisadapter: publish failed, dropping messages until Redis is back", "channel", m.channel, "err", err)
		case err == nil && failing:
			failing = false
			l.log.Info("redisadapter: publishing again")
		}
	}
}

func (l *link) send(batch []outMessage) error {
	publish := func(c redis.Cmdable, m outMessage) error {
		if l.sharded {
			return c.SPublish(l.pubCtx, m.channel, m.payload).Err()
		}
		return c.Publish(l.pubCtx, m.channel, m.payload).Err()
	}
	if len(batch) == 1 {
		return publish(l.rdb, batch[0])
	}
	_, err := l.rdb.Pipelined(l.pubCtx, func(p redis.Pipeliner) error {
		for _, m := range batch {
			_ = publish(p, m) // the error comes with Exec
		}
		return nil
	})
	return err
}

func (l *link) receiveLoop() {
	defer l.wg.Done()
	backoff := minBackoff
	confirmed, lost := 0, false
	for {
		msg, err := l.ps.ReceiveTimeout(context.Background(), healthCheckInterval)
		if l.isClosed() {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_ = l.ps.Ping(context.Background()) // a dead connection fails here and reconnects
				continue
			}
			if !lost {
				l.log.Error("redisadapter: subscription lost, reconnecting", "err", err)
			}
			lost = true
			select {
			case <-l.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" && m.Kind != "psubscribe" && m.Kind != "ssubscribe" {
				continue
			}
			if lost {
				lost = false
				l.log.Info("redisadapter: resubscribed", "channel", m.Channel)
			}
			if confirmed++; confirmed == l.waitFor {
				close(l.ready)
			}
		case *redis.Message:
			l.handle(m)
		}
	}
}

func (l *link) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// close stops both goroutines; queued messages are published until ctx is done.
func (l *link) close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.out)
	close(l.stop)
	l.mu.Unlock()
	var err error
	if l.ps != nil {
		err = l.ps.Close()
	}
	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		l.cancelPub()
		return err
	case <-ctx.Done():
		l.cancelPub() // drop what is still queued
		<-done
		return ctx.Err()
	}
}
