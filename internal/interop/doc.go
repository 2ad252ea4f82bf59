// Package interop runs Node.js scripts that use the official Socket.IO npm
// packages (pinned in the repository's package.json and package-lock.json)
// from go test, so our code can be checked against the real thing.
//
// A test calls Start with a script, usually kept next to the test in
// <pkg>/testdata/interop/. The script prints one JSON object per line on
// stdout, each with an "event" field, and reads JSON commands from stdin; the
// helpers in internal/interop/js (imported as "#interop/harness.mjs") do both.
// Its stderr goes to t.Log. The whole process group is killed when the test
// ends.
//
//	p := interop.Start(t, "testdata/interop/client.mjs", url)
//	p.Expect(t, "open")
//	p.Send(map[string]any{"op": "send", "text": "hello"})
//	var msg struct{ Text string }
//	p.Expect(t, "message").Decode(&msg)
//
// Require (called by Start) finds node and, the first time on a machine or
// after package-lock.json changed, runs npm ci. Without node the test is
// skipped with a clear message, except under CI=true, where it fails: CI
// must never skip a real-peer test silently. RequireCommand does the same for
// other tools (redis-server, chromium), and StartRedis runs a private
// redis-server for one test.
//
// # Concurrency
//
// Require may be called from parallel tests and from parallel test processes
// (go test runs packages in separate processes): a sync.Once guards the work
// in one process and an exclusive file lock guards npm ci across processes.
//
// Each Process has two goroutines: one reads stdout into a bounded channel
// that Next, Expect and Await consume, one forwards stderr to t.Log. Both end
// before the test's cleanup returns. Next, Expect and Await are meant for the
// test goroutine; Send and Kill may be called from any goroutine. StartRedis
// has one goroutine per server waiting for its exit, ended by the cleanup.
package interop
