package interop

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Fields: pid (comm) state ...; comm may hold spaces, so cut at ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

func TestCleanupKillsProcessGroup(t *testing.T) {
	var pid int
	t.Run("spawn", func(t *testing.T) {
		p := Start(t, "testdata/interop/commands.mjs")
		p.Expect(t, "ready")
		if err := p.Send(map[string]any{"op": "spawn"}); err != nil {
			t.Fatal(err)
		}
		var s struct{ PID int }
		if err := p.Expect(t, "spawned").Decode(&s); err != nil {
			t.Fatal(err)
		}
		pid = s.PID
		if !alive(pid) {
			t.Fatalf("grandchild %d not running", pid)
		}
	})
	if pid == 0 {
		t.Fatal("no grandchild")
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("grandchild %d still running after the test's cleanup", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
