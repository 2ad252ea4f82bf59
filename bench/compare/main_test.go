package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/bench/loadgen"
	"github.com/seed9706/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestRunGoQuick runs the harness end to end, at smoke size, against our
// server only (the Node.js servers are checked in bench/node).
func TestRunGoQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs servers")
	}
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	var log bytes.Buffer
	o := options{quick: true, reps: 2, targets: []string{goTarget}, only: []string{"S1", "S2b", "S3c", "S4a", "S5"},
		duration: 300 * time.Millisecond, write: out}
	if err := run(context.Background(), o, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	if strings.Contains(log.String(), "FAILED") {
		t.Fatalf("a case failed:\n%s", log.String())
	}
	// Two repetitions of each case.
	if n := strings.Count(log.String(), "rep 2/2"); n != 5 {
		t.Errorf("%d second repetitions, want 5:\n%s", n, log.String())
	}
	report, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range o.only {
		row := regexp.MustCompile(`(?m)^\| ` + id + ` \| [^|]+ \| [^|]+ \| [0-9.]+ \|$`)
		if !row.Match(report) {
			t.Errorf("no headline row for %s in\n%s", id, report)
		}
	}
	if !strings.Contains(string(report), "QUICK") || !strings.Contains(string(report), "load average") {
		t.Errorf("report lacks the mode or load:\n%s", report)
	}
}

func TestRunRejectsUnknownTargetAndCase(t *testing.T) {
	if err := run(context.Background(), options{targets: []string{"deno"}}, &bytes.Buffer{}); err == nil {
		t.Error("unknown target accepted")
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), options{targets: []string{goTarget}, only: []string{"S9"}, root: root}, &bytes.Buffer{}); err == nil {
		t.Error("unknown case accepted")
	}
}

func TestRotate(t *testing.T) {
	s := []string{"a", "b", "c"}
	for n, want := range [][]string{{"a", "b", "c"}, {"b", "c", "a"}, {"c", "a", "b"}, {"a", "b", "c"}} {
		if got := rotate(s, n); !slices.Equal(got, want) {
			t.Errorf("rotate(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestMedianAndTargets(t *testing.T) {
	rs := []*loadgen.Result{{PerSec: 3}, {PerSec: 1}, {PerSec: 2}, {PerSec: 10}}
	f := func(r *loadgen.Result) float64 { return r.PerSec }
	if got := median(rs, f); got != 2.5 {
		t.Errorf("median of 4 = %v, want 2.5", got)
	}
	if got := median(rs[:3], f); got != 2 {
		t.Errorf("median of 3 = %v, want 2", got)
	}
	for _, tc := range []struct {
		r      float64
		target string
		want   bool
	}{{0.3, "<= 0.33", true}, {0.4, "<= 0.33", false}, {2, ">= 2", true}, {1.9, ">= 2", false}, {5, "nonsense", false}} {
		if got := meets(tc.r, tc.target); got != tc.want {
			t.Errorf("meets(%v, %q) = %v", tc.r, tc.target, got)
		}
	}
	for _, c := range cases(full) {
		if !meets(1e9, c.Target) && !meets(0, c.Target) {
			t.Errorf("%s: target %q does not parse", c.ID, c.Target)
		}
	}
}

// TestTail: a process's stderr is kept bounded, with its last line.
func TestTail(t *testing.T) {
	var tl tail
	for i := range 10000 {
		fmt.Fprintf(&tl, "line %d\n", i)
	}
	if len(tl.b) != tailSize || lastLine(tl.String()) != "line 9999" {
		t.Fatalf("kept %d bytes, last line %q", len(tl.b), lastLine(tl.String()))
	}
	big := strings.Repeat("x", 2*tailSize)
	_, _ = tl.Write([]byte(big + "\nthe end"))
	if len(tl.b) != tailSize || lastLine(tl.String()) != "the end" {
		t.Fatalf("kept %d bytes, last line %q", len(tl.b), lastLine(tl.String()))
	}
}
