// The official socket.io-client with its automatic reconnection, for the
// connection state recovery tests: it reports every "n" event it receives
// (the number and the offset the server appended), its connections (id,
// recovered) and disconnections, on stdout as JSON lines.
//
// usage: node recovery.mjs URL TRANSPORTS_JSON [OPTIONS_JSON]
// (OPTIONS_JSON: more io() options, e.g. shorter reconnection delays)
// commands: {"op":"join","room":R} (emit "join" with an ack), {"op":"exit"}
import { io } from "socket.io-client";
import { emit, commands } from "#interop/harness.mjs";

const [url, transportsJSON, optionsJSON] = process.argv.slice(2);
const socket = io(url, {
  transports: JSON.parse(transportsJSON),
  reconnectionDelay: 100,
  reconnectionDelayMax: 200,
  ...JSON.parse(optionsJSON ?? "{}"),
});
socket.on("connect", () => emit("connect", { id: socket.id, recovered: socket.recovered }));
socket.on("disconnect", (reason) => emit("disconnect", { reason }));
socket.on("n", (n, offset) => emit("n", { n, offset }));

for await (const cmd of commands()) {
  switch (cmd.op) {
    case "join":
      await socket.emitWithAck("join", cmd.room);
      emit("joined", { room: cmd.room });
      break;
    case "exit":
      socket.disconnect();
      process.exit(0);
  }
}
