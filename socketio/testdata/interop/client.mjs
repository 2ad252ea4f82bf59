// A socket.io-client driven by the Go test over stdin (JSON commands) and
// reporting on stdout (JSON lines). Binary values travel as {"$bin": base64}.
//
// usage: node client.mjs URL TRANSPORTS_JSON UPGRADE(true|false)
import { createHash } from "node:crypto";
import { io } from "socket.io-client";
import { emit, commands, isBinary, toBuffer } from "#interop/harness.mjs";

const [url, transportsJSON, upgradeArg] = process.argv.slice(2);
const baseOpts = {
  transports: JSON.parse(transportsJSON),
  upgrade: upgradeArg === "true",
  reconnection: false,
};

// Go -> JS: {"$bin": base64} becomes a Buffer, recursively.
function fromWire(v) {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string") return Buffer.from(v.$bin, "base64");
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromWire(x)]));
  }
  return v;
}

// JS -> Go: binary becomes {"$bin": base64}, recursively.
function toWire(v) {
  if (isBinary(v)) return { $bin: toBuffer(v).toString("base64") };
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x)]));
  }
  return v;
}

const sockets = new Map(); // name given by the test -> socket
const answers = new Map(); // "name/event" -> ack args for server acks

function open(cmd) {
  const s = io(url + cmd.nsp, { ...baseOpts, auth: cmd.auth, forceNew: cmd.forceNew ?? false });
  sockets.set(cmd.name, s);
  const name = cmd.name;
  s.on("connect", () => {
    const engine = s.io.engine;
    emit("connect", { name, id: s.id, transport: engine.transport.name });
    engine.on("upgrade", (t) => emit("upgrade", { name, transport: t.name }));
  });
  s.on("connect_error", (err) => emit("connect_error", { name, message: err.message, data: err.data ?? null }));
  s.on("disconnect", (reason) => emit("disconnect", { name, reason }));
  s.onAny((event, ...args) => {
    let ack = null;
    if (typeof args[args.length - 1] === "function") ack = args.pop();
    emit("event", { name, ev: event, args: toWire(args), withAck: ack !== null });
    if (ack) {
      const canned = answers.get(name + "/" + event);
      if (canned !== undefined) ack(...fromWire(canned));
    }
  });
}

// Values longer than this are reported as a digest by sockets opened with
// "openWith", so megabyte payloads do not travel through the log.
const digestOver = 1024;

function digest(kind, data) {
  return { $digest: { kind, len: data.length, sha256: createHash("sha256").update(data).digest("hex") } };
}

// toWire with long strings and binaries replaced by their digest.
function toDigestWire(v) {
  if (typeof v === "string" && v.length > digestOver) return digest("string", v);
  if (isBinary(v) && v.byteLength > digestOver) return digest("binary", toBuffer(v));
  if (Array.isArray(v)) return v.map(toDigestWire);
  if (v && typeof v === "object" && !isBinary(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toDigestWire(x)]));
  }
  return toWire(v);
}

// bigPayload is the deterministic payload of "emitBig": character i is
// "a" + i%26, byte i is i%251.
function bigPayload(kind, size) {
  if (kind === "string") {
    return "abcdefghijklmnopqrstuvwxyz".repeat(Math.ceil(size / 26)).slice(0, size);
  }
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = i % 251;
  return b;
}

// openWith is "open" with extra io() options (cmd.opts, e.g. reconnection)
// over the command-line ones; it also reports the manager's reconnection
// events and digests long arguments.
function openWith(cmd) {
  const s = io(url + cmd.nsp, { ...baseOpts, ...(cmd.opts ?? {}), auth: cmd.auth, forceNew: cmd.forceNew ?? false });
  sockets.set(cmd.name, s);
  const name = cmd.name;
  s.on("connect", () => {
    const engine = s.io.engine;
    emit("connect", { name, id: s.id, transport: engine.transport.name });
    engine.on("upgrade", (t) => emit("upgrade", { name, transport: t.name }));
  });
  s.on("connect_error", (err) => emit("connect_error", { name, message: err.message, data: err.data ?? null }));
  s.on("disconnect", (reason) => emit("disconnect", { name, reason }));
  s.io.on("reconnect_attempt", (attempt) => emit("reconnect_attempt", { name, seq: attempt }));
  s.io.on("reconnect", (attempt) => emit("reconnect", { name, seq: attempt }));
  s.onAny((event, ...args) => emit("event", { name, ev: event, args: toDigestWire(args) }));
}

for await (const cmd of commands()) {
  const s = sockets.get(cmd.name);
  switch (cmd.op) {
    case "open":
      open(cmd);
      break;
    case "emit":
      s.emit(cmd.event, ...fromWire(cmd.args ?? []));
      break;
    case "emitWithAck": {
      const reply = await s.timeout(cmd.timeout ?? 5000).emitWithAck(cmd.event, ...fromWire(cmd.args ?? []));
      emit("ack", { name: cmd.name, seq: cmd.seq, reply: toWire(reply) });
      break;
    }
    case "answer":
      answers.set(cmd.name + "/" + cmd.event, cmd.args);
      emit("answered", { name: cmd.name, ev: cmd.event });
      break;
    case "disconnect":
      s.disconnect();
      break;
    case "openWith":
      openWith(cmd);
      break;
    case "emitMany": // emits event with cmd.from, cmd.from+1, ... (cmd.count events)
      for (let i = 0; i < cmd.count; i++) s.emit(cmd.event, cmd.from + i);
      emit("emittedMany", { name: cmd.name, seq: cmd.count });
      break;
    case "emitBig": {
      const data = bigPayload(cmd.kind, cmd.size);
      s.emit(cmd.event, data);
      emit("emittedBig", { name: cmd.name, data: digest(cmd.kind, data) });
      break;
    }
    case "transport":
      emit("transport", { name: cmd.name, transport: s.io.engine.transport.name });
      break;
    case "exit":
      for (const sock of sockets.values()) sock.disconnect();
      process.exit(0);
  }
}
