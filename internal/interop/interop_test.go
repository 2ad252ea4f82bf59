package interop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestVersions(t *testing.T) {
	p := Start(t, "testdata/interop/version.mjs")
	var v struct {
		SocketIOClient string
		EngineIOClient string
		IOIsFunction   bool
	}
	if err := p.Expect(t, "version").Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v.SocketIOClient != "4.8.4" || v.EngineIOClient != "6.6.8" || !v.IOIsFunction {
		t.Fatalf("got %+v, want socket.io-client 4.8.4 and engine.io-client 6.6.8 with io()", v)
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Next(context.Background()); !errors.Is(err, ErrExited) {
		t.Fatalf("Next after exit: %v, want ErrExited", err)
	}
}

func TestArgsEnvAndOrderedCommands(t *testing.T) {
	p := StartWith(t, Options{Env: []string{"INTEROP_TEST_VALUE=v1"}}, "testdata/interop/commands.mjs", "a", "b c")
	var ready struct {
		Args []string
		Env  string
	}
	if err := p.Expect(t, "ready").Decode(&ready); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ready.Args) != "[a b c]" || len(ready.Args) != 2 || ready.Env != "v1" {
		t.Fatalf("ready = %+v", ready)
	}
	const n = 500 // more than the line queue holds
	for i := range n {
		if err := p.Send(map[string]any{"op": "echo", "seq": i}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		var e struct{ Seq int }
		if err := p.Expect(t, "echo").Decode(&e); err != nil {
			t.Fatal(err)
		}
		if e.Seq != i {
			t.Fatalf("echo %d has seq %d", i, e.Seq)
		}
	}
	if err := p.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	p.Expect(t, "stdin-closed")
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestExitStatus(t *testing.T) {
	p := Start(t, "testdata/interop/commands.mjs")
	p.Expect(t, "ready")
	if err := p.Send(map[string]any{"op": "exit", "code": 3}); err != nil {
		t.Fatal(err)
	}
	_, err := p.Next(context.Background())
	var exit *exec.ExitError
	if !errors.Is(err, ErrExited) || !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("Next = %v, want ErrExited with status 3", err)
	}
	if err := p.Wait(context.Background()); !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("Wait = %v, want status 3", err)
	}
}

func TestUncaughtErrorIsReported(t *testing.T) {
	p := Start(t, "testdata/interop/commands.mjs")
	p.Expect(t, "ready")
	if err := p.Send(map[string]any{"op": "throw", "text": "boom-42"}); err != nil {
		t.Fatal(err)
	}
	var e struct{ Message string }
	if err := p.Expect(t, "error").Decode(&e); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.Message, "boom-42") {
		t.Fatalf("error message %q lacks the thrown text", e.Message)
	}
	var exit *exec.ExitError
	if err := p.Wait(context.Background()); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("Wait = %v, want status 1", err)
	}
}

func TestBadStdoutLines(t *testing.T) {
	p := Start(t, "testdata/interop/commands.mjs")
	p.Expect(t, "ready")
	if err := p.Send(map[string]any{"op": "raw", "text": "hello, not json"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Fatalf("Next = %v, want a not-JSON error", err)
	}
	// The stream goes on after a bad line.
	if err := p.Send(map[string]any{"op": "echo", "seq": 7}); err != nil {
		t.Fatal(err)
	}
	p.Expect(t, "echo")
	if err := p.Send(map[string]any{"op": "long", "size": MaxLine}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("Next = %v, want a line too long error", err)
	}
}

// recordingTB captures what the code under test reports through testing.TB;
// Fatalf and Skipf end the goroutine like the real ones.
type recordingTB struct {
	testing.TB
	mu                sync.Mutex
	logs, fatal, skip []string
}

func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = append(r.fatal, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skip = append(r.skip, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

// inGoroutine runs f where runtime.Goexit ends only f.
func inGoroutine(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func TestStderrGoesToLog(t *testing.T) {
	rec := &recordingTB{TB: t}
	var p *Process
	t.Run("run", func(t *testing.T) {
		rec.TB = t
		p = Start(rec, "testdata/interop/commands.mjs")
		p.Expect(t, "ready")
		if err := p.Send(map[string]any{"op": "stderr", "text": "to-stderr-123"}); err != nil {
			t.Fatal(err)
		}
		p.Expect(t, "logged")
	}) // cleanup waited for the stderr reader
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := strings.Join(rec.logs, "\n"); got != "commands.mjs: to-stderr-123" {
		t.Fatalf("logs = %q", got)
	}
}

func TestExpectFailsOnOtherEvent(t *testing.T) {
	p := Start(t, "testdata/interop/commands.mjs")
	rec := &recordingTB{TB: t}
	inGoroutine(func() { p.Expect(rec, "nope") })
	if len(rec.fatal) != 1 || !strings.Contains(rec.fatal[0], `expecting "nope"`) || !strings.Contains(rec.fatal[0], `"event":"ready"`) {
		t.Fatalf("fatal = %q", rec.fatal)
	}
}

func TestAwaitSkipsOtherEvents(t *testing.T) {
	p := Start(t, "testdata/interop/commands.mjs")
	for i := range 3 {
		if err := p.Send(map[string]any{"op": "echo", "seq": i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Send(map[string]any{"op": "stderr", "text": "x"}); err != nil {
		t.Fatal(err)
	}
	p.Await(t, "logged")
}

func TestMissingToolSkipsOrFailsInCI(t *testing.T) {
	for _, ci := range []string{"", "false", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			rec := &recordingTB{TB: t}
			inGoroutine(func() { skipOrFail(rec, ErrNoNode) })
			got, other := rec.skip, rec.fatal
			if ci == "true" {
				got, other = rec.fatal, rec.skip
			}
			if len(got) != 1 || len(other) != 0 || !strings.Contains(got[0], "node or npm not found") {
				t.Fatalf("skip = %q, fatal = %q", rec.skip, rec.fatal)
			}
		})
	}
}

func TestRequireCommand(t *testing.T) {
	if got := RequireCommand(t, "sh"); !filepath.IsAbs(got) {
		t.Fatalf("RequireCommand(sh) = %q", got)
	}
	t.Setenv("CI", "true")
	rec := &recordingTB{TB: t}
	inGoroutine(func() { RequireCommand(rec, "no-such-command-xyz") })
	if len(rec.fatal) != 1 || !strings.Contains(rec.fatal[0], "no-such-command-xyz not found") {
		t.Fatalf("fatal = %q", rec.fatal)
	}
}

func TestSetupWithoutNode(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := setup(); !errors.Is(err, ErrNoNode) {
		t.Fatalf("setup = %v, want ErrNoNode", err)
	}
}

func TestRootHoldsGoModAndPackageLock(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "package.json", "package-lock.json"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestModulesFresh(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "package-lock.json")
	stamp := filepath.Join(dir, "node_modules", ".package-lock.json")
	if modulesFresh(dir) {
		t.Fatal("fresh without any file")
	}
	if err := os.WriteFile(lock, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if modulesFresh(dir) {
		t.Fatal("fresh without node_modules")
	}
	if err := os.MkdirAll(filepath.Dir(stamp), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stamp, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stamp, old, old); err != nil {
		t.Fatal(err)
	}
	if modulesFresh(dir) {
		t.Fatal("fresh although package-lock.json is newer")
	}
	if err := os.Chtimes(lock, old.Add(-time.Minute), old.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if !modulesFresh(dir) {
		t.Fatal("not fresh although node_modules is newer")
	}
}
