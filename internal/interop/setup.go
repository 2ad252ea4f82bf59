package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// minNodeMajor is the oldest Node.js the pinned packages support
// (playwright-core requires node >= 20).
const minNodeMajor = 20

// npmCITimeout bounds one npm ci run.
const npmCITimeout = 10 * time.Minute

// ErrNoNode reports that node or npm is not installed.
var ErrNoNode = errors.New("interop: node or npm not found in PATH (install Node.js >= 20 and npm, or run scripts/setup.sh)")

var (
	setupOnce sync.Once
	setupNode string // path of the node binary
	setupErr  error
)

// InCI reports whether the CI environment variable is set to true, in which
// case missing tools fail the tests instead of skipping them.
func InCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// Require makes sure node and the pinned npm packages are installed, running
// npm ci if node_modules is missing or older than package-lock.json. When
// that is impossible it skips the test with the reason, or fails it under
// CI=true.
func Require(t testing.TB) {
	t.Helper()
	setupOnce.Do(func() { setupNode, setupErr = setup() })
	skipOrFail(t, setupErr)
}

// RequireCommand returns the path of an executable other tests need (for
// example redis-server or chromium). When it is missing the test is skipped,
// or fails under CI=true, like Require.
func RequireCommand(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, fmt.Errorf("interop: %s not found in PATH (scripts/setup.sh installs it)", name))
	}
	return path
}

// skipOrFail skips the test because of err, or fails it under CI=true.
func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if InCI() {
		t.Fatalf("%v (CI=true: real-peer tests must run; scripts/setup.sh installs what they need)", err)
	}
	t.Skipf("skipping: %v", err)
}

func setup() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", ErrNoNode
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", ErrNoNode
	}
	if err := checkNodeVersion(node); err != nil {
		return "", err
	}
	root, err := Root()
	if err != nil {
		return "", err
	}
	if err := ensureModules(root); err != nil {
		return "", err
	}
	return node, nil
}

func checkNodeVersion(node string) error {
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return fmt.Errorf("interop: node --version: %w", err)
	}
	v := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return fmt.Errorf("interop: cannot parse node version %q", v)
	}
	if n < minNodeMajor {
		return fmt.Errorf("interop: node %s is too old, need >= %d", v, minNodeMajor)
	}
	return nil
}

// Root returns the repository root: the nearest directory at or above the
// working directory that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("interop: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("interop: no go.mod above the working directory")
		}
		dir = parent
	}
}

// modulesFresh reports whether npm installed node_modules after the last
// change to package-lock.json. npm writes node_modules/.package-lock.json at
// the end of every successful install.
func modulesFresh(root string) bool {
	lock, err := os.Stat(filepath.Join(root, "package-lock.json"))
	if err != nil {
		return false
	}
	stamp, err := os.Stat(filepath.Join(root, "node_modules", ".package-lock.json"))
	return err == nil && !stamp.ModTime().Before(lock.ModTime())
}

func ensureModules(root string) error {
	if modulesFresh(root) {
		return nil
	}
	unlock, err := lockFile(filepath.Join(os.TempDir(), fmt.Sprintf("socketio-npm-ci-%x.lock", hashString(root))))
	if err != nil {
		return fmt.Errorf("interop: lock for npm ci: %w", err)
	}
	defer unlock()
	if modulesFresh(root) { // another test process installed them meanwhile
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmCITimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("interop: npm ci in %s: %w\n%s", root, err, tail(out.Bytes(), 4096))
	}
	return nil
}

// hashString gives each checkout its own lock file.
func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
