package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/seed9706/socketio/bench/loadgen"
)

func TestBenchFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"-h"}, 0, "usage: socketio bench -scenario idle|connect|echo|ack|broadcast|polling"},
		{[]string{"-no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"-scenario", "idle", "-steps", "10,x"}, 2, `bad -steps value "x"`},
		{[]string{"-scenario", "nope"}, 1, `unknown scenario "nope"`},
		{[]string{"-scenario", "echo", "-url", "ftp://x"}, 1, `bad server URL "ftp://x"`},
	} {
		var stdout, stderr bytes.Buffer
		if code := runBench(t.Context(), tc.args, strings.NewReader(""), &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.err) {
			t.Errorf("bench %v = %d, stderr %q; want %d with %q", tc.args, code, stderr.String(), tc.code, tc.err)
		}
	}
}

func TestBenchPrintResult(t *testing.T) {
	var b bytes.Buffer
	printResult(&b, &loadgen.Result{Scenario: "ack", Conns: 100, Size: 32, Ops: 500000, Unit: "round trips", Seconds: 10,
		ServerCPU: 5, ClientCPU: 4, PerSec: 50000, PerServerCPUSec: 100000, P50Ms: 0.5, P99Ms: 2, LoadBefore: 0.1, LoadAfter: 0.2, Procs: 1})
	want := "ack: 100 connections, 32 B, 1 load generator process(es), load 0.10 -> 0.20\n" +
		"  500000 round trips in 10.00 s: 50000/s, 100000 per server CPU-second (server 5.00 s CPU), client 4.00 s CPU\n" +
		"  latency p50 0.50 ms, p99 2.00 ms\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printResult(&b, &loadgen.Result{Scenario: "idle", Conns: 2000, Memory: []loadgen.MemPoint{{Conns: 0, RSS: 10e6}, {Conns: 2000, RSS: 30e6}},
		BytesPerConn: 10240, IdleCPUMicros: 1.5, Procs: 1})
	want = "idle: 2000 connections, 1 load generator process(es), load 0.00 -> 0.00\n" +
		"       0 connections: server RSS 10.0 MB\n" +
		"    2000 connections: server RSS 30.0 MB\n" +
		"  10.00 KB per connection (slope); idle server CPU 1.50 us/s per connection\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
