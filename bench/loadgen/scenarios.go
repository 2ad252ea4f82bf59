package loadgen

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// newLocalOrWorkers makes a fleet able to hold want connections, starting
// worker processes when one process may not hold them all.
func newLocalOrWorkers(cfg *Config, t *target, m *meter, r *Result, want int, join bool) (*fleet, error) {
	payload := payloadJSON(cfg.Size)
	f := newFleet(t, cfg.Concurrency, join, payload)
	if want <= cfg.MaxConnsPerProc {
		return f, nil
	}
	if cfg.WorkerCmd == nil {
		return nil, fmt.Errorf("loadgen: %d connections exceed %d per process and no worker command is set", want, cfg.MaxConnsPerProc)
	}
	n := (want + cfg.MaxConnsPerProc - 1) / cfg.MaxConnsPerProc
	for range n {
		args := []string{"-url", t.base, "-path", t.path, "-size", strconv.Itoa(cfg.Size)}
		if join {
			args = append(args, "-join")
		}
		w, err := startWorker(cfg.WorkerCmd(args...), f)
		if err != nil {
			f.close()
			return nil, err
		}
		f.workers = append(f.workers, w)
	}
	r.Procs = 1 + n
	m.extraClient = f.cpu
	return f, nil
}

// runIdle (S1) holds warm connections at each step and reads the server's
// memory after a garbage collection; the headline is the slope in bytes per
// connection. The server's CPU while holding the last step gives the idle
// cost per connection.
func runIdle(ctx context.Context, cfg *Config, t *target, m *meter, r *Result) error {
	f, err := newLocalOrWorkers(cfg, t, m, r, cfg.Conns, false)
	if err != nil {
		return err
	}
	defer f.close()
	r.Unit = "connections"
	base, err := m.memory(cfg.GCSignal)
	if err != nil {
		return err
	}
	r.Memory = append(r.Memory, MemPoint{Conns: 0, RSS: base})
	held := 0
	for _, step := range cfg.Steps {
		cfg.Log.Info("idle: connecting", "to", step)
		if err := f.grow(ctx, step-held); err != nil {
			return err
		}
		held = step
		cfg.Log.Info("idle: holding", "conns", held, "for", cfg.Hold)
		m.begin()
		if err := sleep(ctx, cfg.Hold); err != nil {
			return err
		}
		if err := m.end(r); err != nil {
			return err
		}
		n, err := f.alive(ctx)
		if err != nil {
			return err
		}
		if n != held {
			return fmt.Errorf("loadgen: %d of %d idle connections closed while held", held-n, held)
		}
		rss, err := m.memory(cfg.GCSignal)
		if err != nil {
			return err
		}
		r.Memory = append(r.Memory, MemPoint{Conns: held, RSS: rss})
	}
	r.Ops = int64(held)
	r.BytesPerConn = slope(r.Memory)
	if r.Seconds > 0 && held > 0 {
		r.IdleCPUMicros = r.ServerCPU / r.Seconds / float64(held) * 1e6
	}
	r.finish(nil)
	r.PerSec, r.PerServerCPUSec = 0, 0 // a rate of held connections means nothing
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runConnect (S2) opens Conns sessions connected to "/" with Concurrency
// handshakes in flight, over WebSocket only or polling then upgrade.
func runConnect(ctx context.Context, cfg *Config, t *target, m *meter, r *Result) error {
	if cfg.Conns > cfg.MaxConnsPerProc {
		return fmt.Errorf("loadgen: connect holds its %d connections in one process: at most %d", cfg.Conns, cfg.MaxConnsPerProc)
	}
	r.Transport, r.Unit = cfg.Transport, "connections"
	dial := t.dialWebSocket
	if cfg.Transport == "upgrade" {
		dial = t.dialUpgrade
	}
	var hist histogram
	m.begin()
	conns, err := ramp(ctx, cfg.Conns, cfg.Concurrency, dial, &hist)
	if err != nil {
		return err
	}
	err = m.end(r)
	closeAll(conns)
	if err != nil {
		return err
	}
	r.Ops = int64(len(conns))
	r.finish(&hist)
	return nil
}

// window runs the measured part of a closed-loop scenario: the loops run
// from the start; after the warm-up, counting and latency recording begin,
// and after the duration every loop is told to stop.
type window struct {
	measuring atomic.Bool
	stopped   atomic.Bool
	ops       atomic.Int64
	errOnce   sync.Once
	err       error
	failed    chan struct{}
}

func newWindow() *window { return &window{failed: make(chan struct{})} }

func (w *window) fail(err error) {
	w.errOnce.Do(func() {
		w.err = err
		w.stopped.Store(true)
		close(w.failed)
	})
}

// run waits for the warm-up, measures for the duration and stops the loops.
func (w *window) run(ctx context.Context, cfg *Config, m *meter, r *Result) error {
	defer w.stopped.Store(true)
	for i, phase := range []time.Duration{cfg.Warmup, cfg.Duration} {
		if i == 1 {
			w.measuring.Store(true)
			m.begin()
		}
		select {
		case <-time.After(phase):
		case <-w.failed:
			return w.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	w.measuring.Store(false)
	r.Ops = w.ops.Load()
	return m.end(r)
}

// echoer is one connection of the echo and ack scenarios: each answer
// sends the next message at once.
type echoer struct {
	c      *conn
	w      *window
	ack    bool
	frame  []byte // the message, rebuilt per ack id
	prefix []byte // the ack scenario: the message up to its ack id
	want   []byte // the expected answer (the ack scenario: after the id)
	id     int
	sent   time.Time
	hist   histogram
}

func (e *echoer) send() {
	if e.ack {
		e.id++
		e.frame = strconv.AppendInt(append(e.frame[:0], e.prefix...), int64(e.id), 10)
		e.frame = append(e.frame, `["echo",`...)
		e.frame = append(e.frame, e.want[1:len(e.want)-1]...) // the payload
		e.frame = append(e.frame, ']')
	}
	e.sent = time.Now()
	if err := e.c.writeFrame(ws.OpText, e.frame); err != nil && !e.w.stopped.Load() {
		e.w.fail(err)
	}
}

func (e *echoer) handle(_ *conn, pkt []byte) {
	ok := bytes.Equal(pkt, e.want) // echo: 2["echo",payload]
	if e.ack {                     // ack: 3<id>[payload]
		rest, found := bytes.CutPrefix(pkt, []byte{'3'})
		id := strconv.Itoa(e.id)
		ok = found && bytes.HasPrefix(rest, []byte(id)) && bytes.Equal(rest[len(id):], e.want)
	}
	if !ok {
		if !e.w.stopped.Load() {
			e.w.fail(fmt.Errorf("%w: %q", ErrProtocol, pkt))
		}
		return
	}
	if e.w.measuring.Load() {
		e.hist.record(time.Since(e.sent))
		e.w.ops.Add(1)
	}
	if !e.w.stopped.Load() {
		e.send()
	}
}

// runEcho (S3) keeps one message in flight on each of Conns WebSocket
// connections: "echo" answered by an "echo" event, or (ack) by its
// acknowledgement.
func runEcho(ctx context.Context, cfg *Config, t *target, m *meter, r *Result) error {
	r.Size, r.Unit = cfg.Size, "round trips"
	conns, err := ramp(ctx, cfg.Conns, cfg.Concurrency, t.dialWebSocket, nil)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	payload := payloadJSON(cfg.Size)
	w := newWindow()
	echoers := make([]*echoer, len(conns))
	for i, c := range conns {
		e := &echoer{c: c, w: w, ack: cfg.Scenario == Ack}
		if e.ack {
			e.prefix, e.want = []byte("42"), []byte("["+payload+"]")
		} else {
			e.frame, e.want = []byte(`42["echo",`+payload+`]`), []byte(`2["echo",`+payload+`]`)
		}
		echoers[i] = e
		e.send() // before the read goroutine starts: it owns e from then on
		c.start(e.handle)
	}
	err = w.run(ctx, cfg, m, r)
	if n := alive(conns); err == nil && n < len(conns) {
		err = fmt.Errorf("loadgen: the server closed %d of %d connections during the run", len(conns)-n, len(conns))
	}
	closeAll(conns)
	if err != nil {
		return err
	}
	var hist histogram
	for _, e := range echoers {
		hist.merge(&e.hist)
	}
	r.finish(&hist)
	return nil
}

// runBroadcast (S4) holds Conns receivers in one room; a separate sender
// emits "broadcast" Burst times back to back and waits until every receiver
// got every message, again and again for the duration. Latency is per
// burst, from its first emit to its last delivery.
func runBroadcast(ctx context.Context, cfg *Config, t *target, m *meter, r *Result) error {
	r.Size, r.Unit = cfg.Size, "deliveries"
	f, err := newLocalOrWorkers(cfg, t, m, r, cfg.Conns, true)
	if err != nil {
		return err
	}
	defer f.close()
	if err := f.grow(ctx, cfg.Conns); err != nil {
		return err
	}
	sender, err := t.dialWebSocket(ctx)
	if err != nil {
		return err
	}
	sender.start(nil)
	defer sender.close()
	frame := []byte(`42["broadcast","` + room + `",` + payloadJSON(cfg.Size) + `]`)
	perBurst := int64(cfg.Burst) * int64(cfg.Conns)
	burst := func() (time.Duration, error) {
		want := f.delivered.Load() + perBurst
		start := time.Now()
		for range cfg.Burst {
			if err := sender.writeFrame(ws.OpText, frame); err != nil {
				return 0, err
			}
		}
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		err := f.await(wctx, want)
		return time.Since(start), err
	}
	warmEnd := time.Now().Add(cfg.Warmup)
	for first := true; first || time.Now().Before(warmEnd); first = false {
		if _, err := burst(); err != nil {
			return err
		}
	}
	var hist histogram
	m.begin()
	before := f.delivered.Load()
	for end := time.Now().Add(cfg.Duration); time.Now().Before(end); {
		d, err := burst()
		if err != nil {
			return err
		}
		hist.record(d)
	}
	r.Ops = f.delivered.Load() - before
	if err := m.end(r); err != nil {
		return err
	}
	r.finish(&hist)
	return nil
}

// runPolling (S5) runs Conns long-polling clients, each doing acknowledged
// emits one after the other: a POST of the emit, then GETs until its
// acknowledgement arrives.
func runPolling(ctx context.Context, cfg *Config, t *target, m *meter, r *Result) error {
	r.Transport, r.Size, r.Unit = "polling", cfg.Size, "acks"
	sessions := make([]*pollSession, cfg.Conns)
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	for range min(cfg.Concurrency, cfg.Conns) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(cfg.Conns); i = next.Add(1) - 1 {
				p, err := t.openPolling(ctx)
				if err == nil {
					if err = p.post(ctx, "40"); err == nil {
						err = p.expectConnect(ctx)
					}
				}
				if err != nil {
					errMu.Lock()
					first = cmp.Or(first, err)
					errMu.Unlock()
					return
				}
				sessions[i] = p
			}
		})
	}
	wg.Wait()
	defer func() {
		// Bounded as a whole: a stalled server must not hold the run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, p := range sessions {
			if p != nil {
				p.close(ctx)
			}
		}
	}()
	if first != nil {
		return first
	}
	payload := payloadJSON(cfg.Size)
	w := newWindow()
	hists := make([]histogram, len(sessions))
	loopCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, p := range sessions {
		wg.Go(func() {
			if err := pollLoop(loopCtx, p, w, payload, &hists[i]); err != nil && !w.stopped.Load() {
				w.fail(err)
			}
		})
	}
	err := w.run(ctx, cfg, m, r)
	if err != nil {
		cancel()
	}
	wg.Wait() // each loop ends after its current acknowledgement
	if err != nil {
		return err
	}
	var hist histogram
	for i := range hists {
		hist.merge(&hists[i])
	}
	r.finish(&hist)
	return nil
}

func pollLoop(ctx context.Context, p *pollSession, w *window, payload string, hist *histogram) error {
	for id := 1; !w.stopped.Load(); id++ {
		sid := strconv.Itoa(id)
		start := time.Now()
		if err := p.post(ctx, "42"+sid+`["echo",`+payload+"]"); err != nil {
			return err
		}
		want := []byte("3" + sid + "[" + payload + "]")
		for acked := false; !acked; {
			err := p.poll(ctx, func(pkt []byte) error {
				if !bytes.Equal(pkt, want) {
					return fmt.Errorf("%w: %q, want %q", ErrProtocol, pkt, want)
				}
				acked = true
				return nil
			})
			if err != nil {
				return err
			}
		}
		if w.measuring.Load() {
			hist.record(time.Since(start))
			w.ops.Add(1)
		}
	}
	return nil
}
