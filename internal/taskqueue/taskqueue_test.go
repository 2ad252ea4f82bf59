package taskqueue

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// recorder is a queue whose handler records its values.
type recorder struct {
	Queue[int]
	mu  sync.Mutex
	got []int
}

func newRecorder(max int, log *slog.Logger) *recorder {
	r := &recorder{}
	r.Init(&Config{Max: max, Log: log, PanicMsg: "test: task panicked"}, r.add)
	return r
}

func (r *recorder) add(v int) {
	r.mu.Lock()
	r.got = append(r.got, v)
	r.mu.Unlock()
}

func (r *recorder) values() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.got...)
}

func waitIdle(t *testing.T, q interface{ Running() bool }) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for q.Running() {
		if time.Now().After(deadline) {
			t.Fatal("the runner did not exit")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestOrderAcrossLinger pushes tasks in bursts separated by pauses shorter
// than, around and longer than Linger: every task runs once, in order, and
// the runner exits once idle.
func TestOrderAcrossLinger(t *testing.T) {
	r := newRecorder(4, slog.New(slog.DiscardHandler))
	pauses := []time.Duration{0, Linger / 2, Linger, 2 * Linger, 0, Linger - time.Millisecond}
	var want []int
	n := 0
	for _, pause := range pauses {
		time.Sleep(pause)
		for range 3 {
			if !r.PushWait(context.Background(), n) {
				t.Fatal("PushWait refused")
			}
			want = append(want, n)
			n++
		}
		r.Push(func() { r.add(-1) })
		want = append(want, -1)
	}
	waitIdle(t, r)
	if got := r.values(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

// TestPushWaitBound: with max tasks pending, PushWait waits, then gives up
// once the context WakeOn watches is cancelled.
func TestPushWaitBound(t *testing.T) {
	release := make(chan struct{})
	r := newRecorder(2, slog.New(slog.DiscardHandler))
	started := make(chan struct{})
	r.Push(func() { close(started); <-release }) // the runner is busy
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	r.WakeOn(ctx)
	if !r.PushWait(ctx, 1) || !r.PushWait(ctx, 2) {
		t.Fatal("PushWait refused below the bound")
	}
	done := make(chan bool)
	go func() { done <- r.PushWait(ctx, 3) }()
	select {
	case ok := <-done:
		t.Fatalf("PushWait returned %v past the bound", ok)
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	if <-done {
		t.Fatal("PushWait accepted after its context ended")
	}
	close(release)
	waitIdle(t, r)
	if got := r.values(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("ran %v, want [1 2]", got)
	}
}

// TestPanicIsLogged: a panicking task is logged and the next ones still run.
func TestPanicIsLogged(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &buf}, nil))
	r := newRecorder(4, log)
	r.Push(func() { panic("boom") })
	r.PushWait(context.Background(), 7)
	waitIdle(t, r)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, `msg="test: task panicked" panic=boom`) {
		t.Fatalf("log %q", out)
	}
	if got := r.values(); !slices.Equal(got, []int{7}) {
		t.Fatalf("ran %v, want [7]", got)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// The busy and idle hooks bracket every run of tasks: busy before the first
// task after an idle period, idle once the queue is empty, alternating, and
// a panicking task does not skip the idle hook.
func TestHooksBracketRuns(t *testing.T) {
	var mu sync.Mutex
	var events []string
	log := func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
	}
	q := &Queue[string]{}
	q.Init(&Config{Max: 100, Log: slog.New(slog.DiscardHandler), PanicMsg: "test: task panicked",
		OnBusy: func() { log("busy") }, OnIdle: func() { log("idle") }}, func(v string) {
		if v == "panic" {
			panic("boom")
		}
		log(v)
	})

	release := make(chan struct{})
	q.Push(func() { <-release; log("first") }) // holds the runner while more queue up
	_ = q.PushWait(context.Background(), "a")
	_ = q.PushWait(context.Background(), "panic")
	_ = q.PushWait(context.Background(), "b")
	close(release)
	waitIdle(t, q)
	_ = q.PushWait(context.Background(), "c") // a new run, after the runner exited
	waitIdle(t, q)

	mu.Lock()
	defer mu.Unlock()
	want := []string{"busy", "first", "a", "b", "idle", "busy", "c", "idle"}
	if !slices.Equal(events, want) {
		t.Fatalf("events %q, want %q", events, want)
	}
}

// Many queues share the pooled linger resources while pushes race with
// linger timeouts: every task runs once, in order, and an idle queue keeps
// no wake-up channel.
func TestSharedLingerers(t *testing.T) {
	const queues, tasks = 16, 200
	rs := make([]*recorder, queues)
	var wg sync.WaitGroup
	for i := range rs {
		rs[i] = newRecorder(8, slog.New(slog.DiscardHandler))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range tasks {
				rs[i].PushWait(context.Background(), j)
				if j%17 == 0 {
					time.Sleep(Linger + time.Duration(j%3)*time.Millisecond) // let the runner time out, or nearly
				}
			}
		}()
	}
	wg.Wait()
	for i, r := range rs {
		waitIdle(t, &r.Queue)
		if got := r.values(); len(got) != tasks || !slices.IsSorted(got) {
			t.Fatalf("queue %d ran %d tasks, in order %v", i, len(got), slices.IsSorted(got))
		}
		r.mu.Lock()
		r.Queue.mu.Lock()
		kept := r.lingering
		r.Queue.mu.Unlock()
		r.mu.Unlock()
		if kept != nil {
			t.Fatalf("idle queue %d keeps a lingerer", i)
		}
	}
}

// Bytes an idle queue keeps after its first run (the linger's timer and
// channel go back to the pool).
func BenchmarkIdleQueueRetained(b *testing.B) {
	var ms0, ms1 runtime.MemStats
	qs := make([]*Queue[int], b.N)
	cfg, handle, task := &Config{Max: 4, Log: slog.New(slog.DiscardHandler)}, func(int) {}, func() {}
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for i := range qs {
		qs[i] = new(Queue[int])
		qs[i].Init(cfg, handle)
		qs[i].Push(task)
		if i%100 == 99 || i == len(qs)-1 { // in batches: exited goroutines are reused, not counted
			for _, q := range qs[i/100*100 : i+1] {
				for q.Running() {
					time.Sleep(time.Millisecond)
				}
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/float64(b.N), "retained-B/queue")
	runtime.KeepAlive(qs)
}

// Claim makes the caller the runner when none is at work: right away on an
// idle queue, by taking over from a lingering runner, and never while one
// runs; every task runs once, in order, with the hooks bracketing each run.
func TestClaim(t *testing.T) {
	r := newRecorder(100, slog.New(slog.DiscardHandler))
	var mu sync.Mutex
	busy := 0
	r.cfg.OnBusy = func() { mu.Lock(); busy++; mu.Unlock() }
	r.cfg.OnIdle = func() { mu.Lock(); busy--; mu.Unlock() }

	if !r.Claim(1) { // no runner
		t.Fatal("Claim on an idle queue failed")
	}
	if r.Claim(99) {
		t.Fatal("second Claim succeeded while the first is not run")
	}
	_ = r.PushWait(context.Background(), 2) // queued behind, run by the claimer
	r.RunClaimed()                          // on this goroutine: no linger
	if got := r.values(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("ran %v, want [1 2]", got)
	}
	if r.Running() {
		t.Fatal("the claimer left the queue running")
	}

	steals := 0
	for i := 3; i < 200; i += 2 { // a lingering runner gives way to Claim
		_ = r.PushWait(context.Background(), i)
		for !r.lingers() && r.Running() { // spin: lingering lasts Linger only
			runtime.Gosched()
		}
		if r.lingers() {
			steals++
		}
		if !r.Claim(i + 1) { // from a lingering runner, or from none
			t.Fatal("Claim failed with no runner at work")
		}
		r.RunClaimed()
	}
	if steals == 0 {
		t.Fatal("the runner never lingered: Claim never took over from it")
	}
	waitIdle(t, r)
	want := make([]int, 200)
	for i := range want {
		want[i] = i + 1
	}
	if got := r.values(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want 1..200 in order", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if busy != 0 {
		t.Fatalf("busy hooks minus idle hooks = %d, want 0", busy)
	}
}

func (q *Queue[T]) lingers() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.idle
}

// Claims racing pushes from other goroutines: every task runs exactly once
// and each pusher's tasks in its order.
func TestClaimConcurrent(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{}
	next := map[int]int{}
	q := &Queue[int]{}
	q.Init(&Config{Max: 1000, Log: slog.New(slog.DiscardHandler), PanicMsg: "test: task panicked"}, func(v int) {
		mu.Lock()
		defer mu.Unlock()
		g, i := v/100000, v%100000
		if next[g] != i {
			t.Errorf("pusher %d: task %d ran before %d", g, i, next[g])
		}
		next[g] = i + 1
		seen[v]++
	})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				v := g*100000 + i
				if g == 0 && q.Claim(v) { // pusher 0 claims when it can, like a read loop
					q.RunClaimed()
					continue
				}
				_ = q.PushWait(context.Background(), v)
			}
		})
	}
	wg.Wait()
	waitIdle(t, q)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 8000 {
		t.Fatalf("%d distinct tasks ran, want 8000", len(seen))
	}
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("task %d ran %d times", v, n)
		}
	}
}
