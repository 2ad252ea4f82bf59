package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ramp opens n connections with at most conc handshakes in flight and
// returns them; on the first error it closes what it opened. Each
// handshake's duration goes into hist when not nil.
func ramp(ctx context.Context, n, conc int, dial func(context.Context) (*conn, error), hist *histogram) ([]*conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next   atomic.Int64
		mu     sync.Mutex
		conns  = make([]*conn, 0, n)
		hists  = make([]histogram, conc)
		errOne error
		wg     sync.WaitGroup
	)
	for w := range min(conc, n) {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				start := time.Now()
				c, err := dial(ctx)
				if err != nil {
					mu.Lock()
					if errOne == nil {
						errOne = err
					}
					mu.Unlock()
					cancel()
					return
				}
				hists[w].record(time.Since(start))
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if errOne == nil && ctx.Err() != nil {
		errOne = ctx.Err()
	}
	if errOne != nil {
		closeAll(conns)
		return nil, errOne
	}
	if hist != nil {
		for i := range hists {
			hist.merge(&hists[i])
		}
	}
	return conns, nil
}

func closeAll(conns []*conn) {
	for _, c := range conns {
		c.close()
	}
}

// alive counts the connections whose session is still open.
func alive(conns []*conn) int {
	n := 0
	for _, c := range conns {
		select {
		case <-c.done:
		default:
			n++
		}
	}
	return n
}

// room is the room broadcast receivers join.
const room = "bench"

// fleet holds warm idle connections (one echo exchanged, optionally joined
// to the room), in this process or, past maxPerProc, spread over worker
// processes, and counts the broadcasts they receive.
type fleet struct {
	t        *target
	conc     int
	join     bool
	expected []byte // a delivered broadcast packet

	local   []*conn
	workers []*worker

	delivered atomic.Int64
	want      atomic.Int64
	reached   chan struct{} // signalled when delivered reaches want
}

func newFleet(t *target, conc int, join bool, payload string) *fleet {
	return &fleet{t: t, conc: conc, join: join, expected: []byte(`2["broadcast",` + payload + `]`), reached: make(chan struct{}, 1)}
}

// deliver adds n received broadcasts.
func (f *fleet) deliver(n int64) {
	v := f.delivered.Add(n)
	if w := f.want.Load(); v >= w && v-n < w {
		select {
		case f.reached <- struct{}{}:
		default:
		}
	}
}

// await waits until want broadcasts in total were received.
func (f *fleet) await(ctx context.Context, want int64) error {
	f.want.Store(want)
	for f.delivered.Load() < want {
		select {
		case <-f.reached:
		case <-ctx.Done():
			return fmt.Errorf("loadgen: %d of %d broadcasts received: %w", f.delivered.Load(), want, ctx.Err())
		}
	}
	return nil
}

func (f *fleet) handle(_ *conn, pkt []byte) {
	if bytes.Equal(pkt, f.expected) {
		f.deliver(1)
	}
}

// dial opens one warm connection of the fleet.
func (f *fleet) dial(ctx context.Context) (*conn, error) {
	c, err := f.t.dialWebSocket(ctx)
	if err != nil {
		return nil, err
	}
	err = c.roundTrip(`42["echo","warm"]`, `42["echo","warm"]`)
	if err == nil && f.join {
		err = c.roundTrip(`420["join","`+room+`"]`, `430["`+room+`"]`)
	}
	if err != nil {
		c.nc.Close()
		return nil, err
	}
	c.start(f.handle)
	return c, nil
}

// grow adds n connections, in this process or spread over the workers.
func (f *fleet) grow(ctx context.Context, n int) error {
	if len(f.workers) == 0 {
		conns, err := ramp(ctx, n, f.conc, f.dial, nil)
		f.local = append(f.local, conns...)
		return err
	}
	errs := make([]error, len(f.workers))
	var wg sync.WaitGroup
	for i, w := range f.workers {
		share := n / len(f.workers)
		if i < n%len(f.workers) {
			share++
		}
		wg.Go(func() { errs[i] = w.add(ctx, share) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// alive counts the open connections.
func (f *fleet) alive(ctx context.Context) (int, error) {
	n := alive(f.local)
	for _, w := range f.workers {
		if err := w.add(ctx, 0); err != nil {
			return 0, err
		}
		n += int(w.alive.Load())
	}
	return n, nil
}

// cpu returns the CPU seconds used by the worker processes.
func (f *fleet) cpu() float64 {
	var s float64
	for _, w := range f.workers {
		if v, err := procCPU(w.cmd.Process.Pid); err == nil {
			s += v
		}
	}
	return s
}

func (f *fleet) close() {
	closeAll(f.local)
	f.local = nil
	for _, w := range f.workers {
		w.stop()
	}
	f.workers = nil
}

// roundTrip sends a packet and reads the answer before the read goroutine
// starts, failing unless it equals want.
func (c *conn) roundTrip(send, want string) error {
	if err := c.write(send); err != nil {
		return err
	}
	for {
		m, err := c.readMessage()
		if err != nil {
			return err
		}
		if string(m) == "2" {
			if err := c.write("3"); err != nil {
				return err
			}
			continue
		}
		if string(m) != want {
			return fmt.Errorf("%w: %q, want %q", ErrProtocol, m, want)
		}
		return nil
	}
}

// worker is a load generator process holding part of a fleet. It talks
// lines: the parent writes "add N"; the worker answers "ready ALIVE" or
// "error MESSAGE", and writes "delivered TOTAL" as broadcasts arrive.
type worker struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies chan string
	alive   atomic.Int64
	exited  chan struct{}
}

func startWorker(cmd *exec.Cmd, f *fleet) (*worker, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadgen: start worker: %w", err)
	}
	w := &worker{cmd: cmd, stdin: stdin, replies: make(chan string, 1), exited: make(chan struct{})}
	go func() {
		defer close(w.exited)
		defer close(w.replies)
		var last int64
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			kind, arg, _ := strings.Cut(sc.Text(), " ")
			if kind == "delivered" {
				if v, err := strconv.ParseInt(arg, 10, 64); err == nil && v > last {
					f.deliver(v - last)
					last = v
				}
				continue
			}
			w.replies <- sc.Text()
		}
		_ = cmd.Wait()
	}()
	return w, nil
}

// add asks the worker for n more connections and waits for its answer.
func (w *worker) add(ctx context.Context, n int) error {
	if _, err := fmt.Fprintf(w.stdin, "add %d\n", n); err != nil {
		return fmt.Errorf("loadgen: worker: %w", err)
	}
	select {
	case line, ok := <-w.replies:
		if !ok {
			return errors.New("loadgen: worker exited")
		}
		kind, arg, _ := strings.Cut(line, " ")
		if kind != "ready" {
			return fmt.Errorf("loadgen: worker: %s", arg)
		}
		v, _ := strconv.ParseInt(arg, 10, 64)
		w.alive.Store(v)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *worker) stop() {
	w.stdin.Close()
	select {
	case <-w.exited:
	case <-time.After(10 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
}

// RunWorker is the worker side: it holds warm connections to the server at
// serverURL (joined to the room when join is set), as the parent asks on in,
// and reports on out until in ends.
func RunWorker(ctx context.Context, serverURL, path string, payloadSize int, join bool, in io.Reader, out io.Writer) error {
	t, err := newTarget(serverURL, path, 64)
	if err != nil {
		return err
	}
	defer t.close()
	f := newFleet(t, 64, join, payloadJSON(payloadSize))
	defer f.close()

	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}
	// Report deliveries as they come, coalesced while a report is written.
	f.want.Store(1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	wg.Go(func() {
		for {
			select {
			case <-f.reached:
			case <-stop:
				return
			}
			v := f.delivered.Load()
			f.want.Store(v + 1)
			say("delivered %d", v)
			if f.delivered.Load() > v { // more arrived while reporting
				select {
				case f.reached <- struct{}{}:
				default:
				}
			}
		}
	})

	sc := bufio.NewScanner(in)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(sc.Text(), " ")
		n, err := strconv.Atoi(arg)
		if cmd != "add" || err != nil || n < 0 {
			say("error bad command %q", sc.Text())
			continue
		}
		if err := f.grow(ctx, n); err != nil {
			say("error %s", strings.ReplaceAll(err.Error(), "\n", " "))
			continue
		}
		say("ready %d", alive(f.local))
	}
	return sc.Err()
}
