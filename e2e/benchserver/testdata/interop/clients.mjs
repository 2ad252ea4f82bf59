// Official socket.io-client clients of the benchserver contract (CONTRACTS.md
// section 2), driven by JSON commands on stdin, for the cluster test.
// Binary values travel as {"$bin": base64}.
//
// usage: node clients.mjs
// commands:
//   {"op":"connect","name","url","websocket"}  connect a client to url's "/"
//       (websocket only when websocket is true, else polling then upgrade);
//       prints {"event":"connected","name","id","recovered"} on each connection
//   {"op":"emit","name","tag","args"}  emit args with an ack callback;
//       prints {"event":"ack","name","tag","args"} with the ack's arguments
//   {"op":"send","name","args"}  emit args without an ack
//   {"op":"silent","name"}  stop answering "request"
//   {"op":"cut","name"}  close the client's Engine.IO connection (no
//       automatic reconnection), as a network failure would
//   {"op":"reconnect","name"}  connect again, recovering the session
// prints {"event":"broadcast","name","args"} for each "broadcast" received,
// {"event":"request","name","args"} for each "request" (answered with the
// client's name unless silent), {"event":"disconnect","name","reason"}.
import { io as connect } from "socket.io-client";
import { emit, commands, fail, isBinary, toBuffer } from "#interop/harness.mjs";

function fromWire(v) {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string") return Buffer.from(v.$bin, "base64");
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromWire(x)]));
  }
  return v;
}

function toWire(v) {
  if (isBinary(v)) return { $bin: toBuffer(v).toString("base64") };
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x)]));
  }
  return v;
}

const clients = new Map(); // name -> socket
const silent = new Set(); // names that do not answer "request"

function client(name) {
  const socket = clients.get(name);
  if (!socket) fail(new Error(`unknown client ${name}`));
  return socket;
}

for await (const cmd of commands()) {
  const { name } = cmd;
  switch (cmd.op) {
    case "connect": {
      const socket = connect(cmd.url, {
        transports: cmd.websocket ? ["websocket"] : ["polling", "websocket"],
        reconnection: false,
        forceNew: true,
      });
      clients.set(name, socket);
      socket.on("connect", () => emit("connected", { name, id: socket.id, recovered: socket.recovered }));
      socket.on("connect_error", (err) => fail(new Error(`${name}: connect_error: ${err.message}`)));
      socket.on("disconnect", (reason) => emit("disconnect", { name, reason }));
      socket.on("broadcast", (...args) => emit("broadcast", { name, args: toWire(args) }));
      socket.on("request", (...all) => {
        const ack = typeof all[all.length - 1] === "function" ? all.pop() : null;
        emit("request", { name, args: toWire(all) });
        if (ack && !silent.has(name)) ack(name);
      });
      break;
    }
    case "emit":
      client(name).emit(...fromWire(cmd.args), (...args) => emit("ack", { name, tag: cmd.tag, args: toWire(args) }));
      break;
    case "send":
      client(name).emit(...fromWire(cmd.args));
      break;
    case "cut":
      client(name).io.engine.close();
      break;
    case "reconnect":
      client(name).connect();
      break;
    case "silent":
      silent.add(name);
      break;
    default:
      fail(new Error(`unknown op ${cmd.op}`));
  }
}
for (const socket of clients.values()) socket.disconnect();
