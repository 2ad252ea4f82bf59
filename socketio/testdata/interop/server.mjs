// The official socket.io server with the same handlers as the Go server of
// differential_test.go, for packet-by-packet comparison.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { emit } from "#interop/harness.mjs";

const http = createServer();
const io = new Server(http);

io.on("connection", (s) => {
  s.emit("auth", s.handshake.auth);
  s.on("message", (...args) => s.emit("message-back", ...args));
  s.on("message-with-ack", (...args) => {
    if (typeof args[args.length - 1] === "function") args.pop()(...args);
  });
  s.on("join", (room) => s.join(room));
  s.on("to", (room, ...args) => io.to(room).emit("news", ...args));
  s.on("bye", () => s.disconnect());
});
io.of("/custom").on("connection", (s) => s.emit("auth", s.handshake.auth));
io.of("/forbidden").use((s, next) => {
  const err = new Error("not authorized");
  err.data = { reason: "probe", n: 1 };
  next(err);
});
io.of("/plain").use((s, next) => next(new Error("nope")));
io.of("/early")
  .use((s, next) => {
    s.emit("session", "early");
    next();
  })
  .on("connection", (s) => s.emit("hello", s.nsp.name));
io.of(/^\/dyn-\d+$/).on("connection", (s) => s.emit("welcome", s.nsp.name));
io.of("/server-ack").on("connection", (s) => {
  s.timeout(5000)
    .emitWithAck("question", 42, { nested: [true, null] })
    .then((reply) => s.emit("answer", reply))
    .catch(() => {}); // the client left without answering
});

http.listen(0, "127.0.0.1", () => emit("listening", { port: http.address().port }));
