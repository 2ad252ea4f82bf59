// The official server serving its client bundle (serveClient: true), for a
// differential test of ServeClient. Prints {"event":"listening","port":N}.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { emit, commands } from "#interop/harness.mjs";

const httpServer = createServer();
new Server(httpServer, { serveClient: true });
httpServer.listen(0, "127.0.0.1", () => emit("listening", { port: httpServer.address().port }));
for await (const cmd of commands()) {
  if (cmd.op === "exit") break;
}
process.exit(0);
