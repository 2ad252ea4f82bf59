// Differential oracle for package parser: the official socket.io-parser and
// JSON.stringify answer the same questions the Go tests ask our code.
//
// Commands (one JSON object per line on stdin), each answered by one line:
//   {op:"stringify", json}         -> {event:"stringify", out: JSON.stringify(JSON.parse(json))}
//   {op:"decode", text, bins}      -> {event:"decode", error} or {event:"decode", packet}
//   {op:"encode", type, nsp, id, data} -> {event:"encode", text, bins}
// Binary data travels as base64 strings (bins), and inside JSON data as {"$bin":"<base64>"}.
import { emit, commands } from "#interop/harness.mjs";
import { Encoder, Decoder } from "socket.io-parser";

function binReplacer(key, value) {
  const orig = this[key];
  return Buffer.isBuffer(orig) ? { $bin: orig.toString("base64") } : value;
}

function binReviver(key, value) {
  if (value && typeof value === "object" && !Array.isArray(value) && typeof value.$bin === "string") {
    return Buffer.from(value.$bin, "base64");
  }
  return value;
}

for await (const cmd of commands()) {
  switch (cmd.op) {
    case "stringify":
      emit("stringify", { out: JSON.stringify(JSON.parse(cmd.json)) });
      break;
    case "decode": {
      const d = new Decoder();
      let got = null;
      d.on("decoded", (p) => (got = p));
      try {
        d.add(cmd.text);
        for (const b of cmd.bins || []) d.add(Buffer.from(b, "base64"));
      } catch (err) {
        emit("decode", { error: err.message });
        break;
      }
      if (got === null) {
        emit("decode", { error: "incomplete" });
        break;
      }
      emit("decode", {
        packet: {
          type: got.type,
          nsp: got.nsp,
          id: got.id === undefined ? null : got.id,
          data: got.data === undefined ? null : JSON.stringify(got.data, binReplacer),
        },
      });
      break;
    }
    case "encode": {
      const packet = { type: cmd.type, nsp: cmd.nsp };
      if (cmd.id !== null && cmd.id !== undefined) packet.id = cmd.id;
      if (cmd.data !== null && cmd.data !== undefined) packet.data = JSON.parse(cmd.data, binReviver);
      const parts = new Encoder().encode(packet);
      emit("encode", { text: parts[0], bins: parts.slice(1).map((b) => Buffer.from(b).toString("base64")) });
      break;
    }
    default:
      emit("error", { message: `unknown op ${cmd.op}` });
  }
}
