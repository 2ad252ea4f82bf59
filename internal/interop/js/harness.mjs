// Shared helpers for interop scripts run by internal/interop from go test.
// Import as: import { emit, commands, fail } from "#interop/harness.mjs";
//
// Protocol: the script prints one JSON object per line on stdout, each with
// an "event" field; the Go test sends JSON objects, one per line, on stdin.
// stdout belongs to this protocol: log to stderr (console.error) instead.
import { createInterface } from "node:readline";

// emit prints one protocol line.
export function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");
}

// fail reports an error line and exits with status 1.
export function fail(err) {
  emit("error", { message: String(err && err.stack ? err.stack : err) });
  process.exit(1);
}

process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

// commands yields each JSON command read from stdin until stdin closes.
export async function* commands() {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === "") continue;
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (err) {
      fail(new Error(`bad command ${JSON.stringify(line)}: ${err.message}`));
    }
    yield cmd;
  }
}

// isBinary tells binary data (Buffer, ArrayBuffer, typed array) from text.
export function isBinary(data) {
  return data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}

// toBuffer views binary data as a Buffer without copying.
export function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

// typeName names the JS type of a received value, for assertions.
export function typeName(data) {
  if (Buffer.isBuffer(data)) return "Buffer";
  if (data === null) return "null";
  if (typeof data === "object") return data.constructor ? data.constructor.name : "Object";
  return typeof data;
}
