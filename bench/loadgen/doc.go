// Package loadgen is the load generator of the benchmarks (PERF.md section
// 8): a lean Socket.IO client, speaking just what the scenarios need over
// raw WebSocket frames and HTTP long-polling, that drives any server
// implementing the bench contract (CONTRACTS.md section 2) the same way,
// and reads the server's CPU time and memory from /proc when given its pid.
//
// Scenarios: Idle (S1, memory per warm idle connection), Connect (S2,
// connection setup over WebSocket or polling then upgrade), Echo and Ack
// (S3, closed-loop round trips), Broadcast (S4, fan-out to one room in
// bursts) and Polling (S5, long-polling clients doing acknowledged emits).
// Rates are given per wall second and per server CPU-second; the latter is
// the headline, as it moves least when other processes share the machine.
//
// A process may hold at most MaxConnsPerProc connections (the fd limit is
// 20,000 here); Idle and Broadcast spread larger counts over worker
// processes running RunWorker, which the caller starts (socketio bench
// re-executes itself). Connections to a loopback server come from
// 127.0.0.1 to 127.0.0.16, so that their ephemeral ports do not run out.
//
// # Concurrency
//
// Each WebSocket connection has one read goroutine, started once its
// handshake is done, that answers pings and calls the scenario's handler;
// writes are serialised by a per-connection mutex, so a handler may send
// (the echo scenarios send their next message from it). The handler never
// blocks and takes no other lock. Polling clients are one goroutine each,
// issuing their requests one after the other. Counters shared across
// connections are atomics; each goroutine records latencies into its own
// histogram, merged after every goroutine ended. A worker process has one
// goroutine reading the parent's commands and one reporting deliveries;
// the parent has one goroutine per worker reading its lines.
package loadgen
