// The official socket.io 4.8 server for the Go client's interop tests.
// Usage: node server.mjs PORT OPTIONS_JSON  (PORT 0 = any free port)
// Prints {"event":"listening","port":N}, then one line per observation.
// Commands on stdin: {"op":"broadcast","event":E,"args":[...]},
// {"op":"dropTransports"} (closes every Engine.IO connection, sessions kept
// for connection state recovery).
import { createServer } from "node:http";
import { Server } from "socket.io";
import { emit, commands, isBinary, toBuffer } from "#interop/harness.mjs";

const port = Number(process.argv[2] || 0);
const opts = JSON.parse(process.argv[3] || "{}") || {};

const httpServer = createServer();
const io = new Server(httpServer, opts);

// describe renders an argument for the Go test: binary as {"bin":"<hex>"}.
function describe(v) {
  if (isBinary(v)) return { bin: toBuffer(v).toString("hex") };
  if (Array.isArray(v)) return v.map(describe);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, describe(x)]));
  }
  return v;
}

function handlers(socket) {
  emit("connection", { nsp: socket.nsp.name, auth: socket.handshake.auth, recovered: socket.recovered,
    transport: socket.conn.transport.name });
  socket.on("echo", (...args) => socket.emit("echo", ...args));
  socket.on("ack", (...args) => {
    const cb = args.pop();
    cb(...args);
  });
  socket.on("noack", () => {});
  socket.on("record", (...args) => emit("record", { args: describe(args) }));
  socket.on("auth", (cb) => cb(socket.handshake.auth));
  socket.on("kick", () => socket.disconnect());
  const tries = new Map();
  socket.on("flaky", (id, cb) => {
    const n = (tries.get(id) || 0) + 1;
    tries.set(id, n);
    emit("flaky", { id, n });
    if (n >= 3) cb("ok", n);
  });
  socket.on("ask", () => {
    socket.timeout(5000).emit("question", "why?", Buffer.from([0xca, 0xfe]), (err, text, bin) => {
      emit("answer", err ? { error: String(err) } : { text, bin: describe(bin) });
    });
  });
  socket.on("disconnect", (reason) => emit("disconnect", { nsp: socket.nsp.name, reason }));
}

io.on("connection", handlers);
io.of("/chat").on("connection", handlers);
io.of("/private").use((socket, next) => {
  const err = new Error("not authorized");
  err.data = { code: 42 };
  next(err);
});

httpServer.listen(port, "127.0.0.1", () => {
  emit("listening", { port: httpServer.address().port });
});

for await (const cmd of commands()) {
  switch (cmd.op) {
    case "broadcast":
      io.emit(cmd.event, ...(cmd.args || []));
      emit("broadcasted");
      break;
    case "dropTransports":
      for (const [, socket] of io.of("/").sockets) socket.conn.close();
      emit("dropped");
      break;
  }
}
