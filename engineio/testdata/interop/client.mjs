// The official engine.io-client against a server under test.
//
// Usage: node client.mjs URL OPTIONS_JSON
// OPTIONS_JSON is passed to the engine.io-client Socket (transports, upgrade,
// path, ...); the extra key "reportPings" makes it print every ping.
//
// Prints: handshake {data}, open {transport}, upgrade {transport},
// message {kind, type, size, sha256, text?|b64?}, ping, socket-error {message},
// close {reason, description}.
// Commands: send {text}|{b64}, send-pattern {kind, size, seed},
// send-many {count, prefix}, close.
import { createHash } from "node:crypto";
import { Socket } from "engine.io-client";
import { emit, commands, isBinary, toBuffer, typeName } from "#interop/harness.mjs";

const [url, optionsJSON = "{}"] = process.argv.slice(2);
const { reportPings = false, ...options } = JSON.parse(optionsJSON);

// pattern makes deterministic content that the Go test rebuilds the same way.
function pattern(kind, size, seed) {
  if (kind === "binary") {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
    return b;
  }
  const chars = new Array(size);
  for (let i = 0; i < size; i++) chars[i] = String.fromCharCode(97 + ((i * 7 + seed) % 26));
  return chars.join("");
}

const short = 4096; // messages up to this size are printed whole

const socket = new Socket(url, options);
socket.on("handshake", (data) => emit("handshake", { data }));
socket.on("open", () => emit("open", { transport: socket.transport.name }));
socket.on("upgrade", (transport) => emit("upgrade", { transport: transport.name }));
socket.on("ping", () => reportPings && emit("ping"));
socket.on("error", (err) => emit("socket-error", { message: String(err && err.message ? err.message : err) }));
socket.on("close", (reason, description) => {
  const d = description && (description.description || description.message || description);
  emit("close", { reason, description: d === undefined ? null : String(d) });
});
socket.on("message", (data) => {
  if (isBinary(data)) {
    const b = toBuffer(data);
    emit("message", {
      kind: "binary",
      type: typeName(data),
      size: b.length,
      sha256: createHash("sha256").update(b).digest("hex"),
      ...(b.length <= short ? { b64: b.toString("base64") } : {}),
    });
  } else {
    const b = Buffer.from(data, "utf8");
    emit("message", {
      kind: "text",
      type: typeName(data),
      size: b.length,
      sha256: createHash("sha256").update(b).digest("hex"),
      ...(b.length <= short ? { text: data } : {}),
    });
  }
});

for await (const cmd of commands()) {
  switch (cmd.op) {
    case "send":
      socket.send(cmd.b64 !== undefined ? Buffer.from(cmd.b64, "base64") : cmd.text);
      break;
    case "send-pattern":
      socket.send(pattern(cmd.kind, cmd.size, cmd.seed));
      break;
    case "send-many":
      // Even messages as text, odd ones as one byte of binary.
      for (let i = 0; i < cmd.count; i++) {
        socket.send(i % 2 === 0 ? `${cmd.prefix}${i}` : Buffer.from([i & 0xff]));
      }
      break;
    case "close":
      socket.close();
      break;
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd)}`);
  }
}
