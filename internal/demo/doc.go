// Package demo is the app behind `socketio serve`: a live customer-support
// chat and order tracking, the scenario Socket.IO is best known for.
//
// Pages (plain HTML, CSS and JavaScript embedded from web/, using the
// official browser client): / for customers, /agent for agents, /orders for
// order tracking. Namespaces and their event sets are those of CONTRACTS.md
// section 3; this package only adds to them:
//
//   - /support: the handshake auth {"ticketId","name"} resumes a ticket after
//     a reconnection or a server restart, answered by "ticket:state"
//     {"ticketId","name","openedAt","agent","online","messages"}; bad
//     requests are acknowledged with {"error"}; "ticket:closed"
//     {"ticketId","reason"} when the agent closes the ticket or it expires.
//   - /agents: the handshake auth {"token","name","tickets":[ids]} signs in
//     and takes back the agent's tickets (each answered by "ticket:state",
//     or "ticket:closed" when it cannot be had); queue items carry "online";
//     "ticket:claim" acks carry the ticket with its messages; "presence"
//     {"ticketId","online"} follows the customer; "message" and "typing"
//     (with "ticketId") come from the customer; "ticket:close" {"ticketId"}
//     acks {"ok","error"?}.
//
// State is bounded: at most 10000 open tickets of 200 messages each, and
// 10000 tracked orders. A ticket whose customer is gone for ReconnectGrace
// is closed. Ticket ids are 128-bit random, so holding one is what lets a
// customer resume it. On one server (the default) the state is in memory:
// a restarted server learns the open tickets back from the reconnecting
// pages, while messages sent before the restart stay on the pages only.
//
// With Options.Redis, several servers are one app: the Redis adapter
// carries rooms and broadcasts, tickets live in Redis (each change is one
// Lua script, so claims stay exclusive across servers), and an order's
// status is derived from the time it was placed, kept in Redis: every
// server pushes the same moves to its own clients.
//
// # Concurrency
//
// Handlers of one socket run one at a time (package socketio), so each
// connection handler keeps its socket's state in local variables. The
// ticket stores (desk, redisDesk) and the order simulation (tracker) each
// have one mutex, never held while emitting or calling Redis; their timers
// (ticket expiry, order moves) run on their own goroutines and emit after
// unlocking. App.queueMu orders each queue snapshot with its broadcast, so
// agents never see an older queue after a newer one; it is held only around
// a non-blocking broadcast. Lock order: App.queueMu, then desk.mu.
package demo
