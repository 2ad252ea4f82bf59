package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Defaults for Options.
const (
	DefaultTimeout       = 2 * time.Minute
	DefaultExpectTimeout = 20 * time.Second
)

// MaxLine bounds one stdout line; a longer line is an error. Large payloads
// are better reported as a length and a digest.
const MaxLine = 16 << 20

// lineQueue bounds the lines read ahead of the test; a script that prints
// faster than the test reads is blocked by the pipe.
const lineQueue = 256

// Options configure Start. The zero value is ready to use.
type Options struct {
	// Env holds extra "KEY=value" entries added to the test process's
	// environment. Default: none.
	Env []string
	// Timeout is how long the script may run before its process group is
	// killed. Default: DefaultTimeout.
	Timeout time.Duration
	// ExpectTimeout bounds each Expect and Await. Default: DefaultExpectTimeout.
	ExpectTimeout time.Duration
}

// Line is one JSON object printed by a script.
type Line struct {
	// Event is the object's "event" field ("" when absent).
	Event string
	// Raw is the whole object.
	Raw json.RawMessage
}

// Decode unmarshals the whole line into v.
func (l Line) Decode(v any) error {
	if err := json.Unmarshal(l.Raw, v); err != nil {
		return fmt.Errorf("interop: decode %s: %w", l.Raw, err)
	}
	return nil
}

// String returns the raw JSON, shortened for logs.
func (l Line) String() string {
	if len(l.Raw) > 512 {
		return string(l.Raw[:512]) + "..."
	}
	return string(l.Raw)
}

type item struct {
	line Line
	err  error
}

// Process is a running Node.js script.
type Process struct {
	name string
	opts Options
	cmd  *exec.Cmd

	stdinMu sync.Mutex
	stdin   io.WriteCloser

	lines   chan item     // closed by the stdout reader at EOF
	stop    chan struct{} // closed by cleanup, unblocks the stdout reader
	exited  chan struct{} // closed after cmd.Wait returned
	waitErr error         // set before exited is closed
	readers sync.WaitGroup
	timer   *time.Timer
}

// Start runs `node script args...` and kills its process group when the test
// ends. script is relative to the test's working directory (the package
// directory) unless absolute. It calls Require first.
func Start(t testing.TB, script string, args ...string) *Process {
	t.Helper()
	return StartWith(t, Options{}, script, args...)
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options, script string, args ...string) *Process {
	t.Helper()
	Require(t)
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ExpectTimeout <= 0 {
		opts.ExpectTimeout = DefaultExpectTimeout
	}
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatalf("interop: %v", err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("interop: script: %v", err)
	}
	p := &Process{
		name:   filepath.Base(script),
		opts:   opts,
		lines:  make(chan item, lineQueue),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	p.cmd = exec.Command(setupNode, append([]string{abs}, args...)...)
	p.cmd.Env = append(os.Environ(), opts.Env...)
	setProcessGroup(p.cmd)

	// os.Pipe rather than StdoutPipe: cmd.Wait must not wait for the
	// readers, which may outlive the script while a child holds the pipe.
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatalf("interop: %v", err)
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutR.Close()
		stdoutW.Close()
		t.Fatalf("interop: %v", err)
	}
	p.cmd.Stdout, p.cmd.Stderr = stdoutW, stderrW
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatalf("interop: %v", err)
	}
	err = p.cmd.Start()
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdoutR.Close()
		stderrR.Close()
		t.Fatalf("interop: start %s: %v", p.name, err)
	}

	p.readers.Add(2)
	go p.readStdout(stdoutR)
	go p.forwardStderr(t, stderrR)
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	p.timer = time.AfterFunc(opts.Timeout, func() {
		t.Errorf("interop: %s still running after %v, killed", p.name, opts.Timeout)
		p.Kill()
	})
	t.Cleanup(p.cleanup)
	return p
}

func (p *Process) readStdout(r *os.File) {
	defer p.readers.Done()
	defer r.Close()
	defer close(p.lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	for sc.Scan() {
		it := item{line: Line{Raw: json.RawMessage(append([]byte(nil), sc.Bytes()...))}}
		var head struct {
			Event string `json:"event"`
		}
		if err := json.Unmarshal(it.line.Raw, &head); err != nil {
			it.err = fmt.Errorf("interop: %s printed a line that is not a JSON object: %s", p.name, it.line)
		}
		it.line.Event = head.Event
		select {
		case p.lines <- it:
		case <-p.stop:
			return
		}
	}
	if err := sc.Err(); err != nil {
		select {
		case p.lines <- item{err: fmt.Errorf("interop: %s stdout: %w", p.name, err)}:
		case <-p.stop:
			return
		}
		// Drain so the script does not block on a full pipe.
		_, _ = io.Copy(io.Discard, r)
	}
}

func (p *Process) forwardStderr(t testing.TB, r *os.File) {
	defer p.readers.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, 4096)
	for {
		// ReadLine splits over-long lines, which keeps memory bounded.
		line, _, err := br.ReadLine()
		if len(line) > 0 {
			t.Logf("%s: %s", p.name, line)
		}
		if err != nil {
			return
		}
	}
}

func (p *Process) cleanup() {
	p.timer.Stop()
	close(p.stop)
	p.Kill()
	<-p.exited
	p.readers.Wait()
}

// Kill kills the script and every process it started (its process group).
// It is safe to call more than once and after the script exited.
func (p *Process) Kill() {
	killGroup(p.cmd)
}

// Send writes v as one JSON line to the script's stdin.
func (p *Process) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("interop: send: %w", err)
	}
	p.stdinMu.Lock()
	defer p.stdinMu.Unlock()
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("interop: send to %s: %w", p.name, err)
	}
	return nil
}

// CloseStdin closes the script's stdin, which ends the harness's command
// loop.
func (p *Process) CloseStdin() error {
	p.stdinMu.Lock()
	defer p.stdinMu.Unlock()
	return p.stdin.Close()
}

// ErrExited is returned by Next once the script closed its stdout; it wraps
// the exit status when the script has exited.
var ErrExited = errors.New("interop: script ended its output")

// Next returns the next line the script printed. After the last line it
// returns an error wrapping ErrExited (and the exit status, if known).
func (p *Process) Next(ctx context.Context) (Line, error) {
	select {
	case it, ok := <-p.lines:
		if !ok {
			return Line{}, p.endErr(ctx)
		}
		return it.line, it.err
	case <-ctx.Done():
		return Line{}, fmt.Errorf("interop: waiting for a line from %s: %w", p.name, ctx.Err())
	}
}

func (p *Process) endErr(ctx context.Context) error {
	select {
	case <-p.exited:
		if p.waitErr != nil {
			return fmt.Errorf("%w: %s: %w", ErrExited, p.name, p.waitErr)
		}
		return fmt.Errorf("%w: %s exited with status 0", ErrExited, p.name)
	case <-ctx.Done():
		return fmt.Errorf("%w: %s", ErrExited, p.name)
	}
}

// Expect returns the next line and fails the test unless its event is
// event (an "error" line from the harness is shown with its message).
func (p *Process) Expect(t testing.TB, event string) Line {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.ExpectTimeout)
	defer cancel()
	l, err := p.Next(ctx)
	if err != nil {
		t.Fatalf("expecting %q from %s: %v", event, p.name, err)
	}
	if l.Event != event {
		t.Fatalf("expecting %q from %s, got %s", event, p.name, l)
	}
	return l
}

// Await skips lines until one has the given event and returns it; skipped
// lines are logged. It fails the test on timeout or exit, and on any
// "error" line.
func (p *Process) Await(t testing.TB, event string) Line {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.ExpectTimeout)
	defer cancel()
	for {
		l, err := p.Next(ctx)
		if err != nil {
			t.Fatalf("awaiting %q from %s: %v", event, p.name, err)
		}
		if l.Event == event {
			return l
		}
		if l.Event == "error" {
			t.Fatalf("awaiting %q from %s, got %s", event, p.name, l)
		}
		t.Logf("%s (skipped): %s", p.name, l)
	}
}

// Wait waits for the script to exit and returns its exit error (nil for
// status 0). Lines not yet read stay readable with Next.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.exited:
		if p.waitErr != nil {
			return fmt.Errorf("interop: %s: %w", p.name, p.waitErr)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("interop: waiting for %s to exit: %w", p.name, ctx.Err())
	}
}
