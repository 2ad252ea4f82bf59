// A Node.js node of a Redis Streams cluster with connection state recovery:
// the official socket.io server with @socket.io/redis-streams-adapter, and
// optionally the official client, driven by JSON commands on stdin.
//
// usage: node streams.mjs REDIS_URL
// prints: {"event":"server","url"} once listening;
//         {"event":"connection","id","recovered","data"} for each socket.
// commands: {"op":"emit","room","n"}  broadcast "n" to room;
//           {"op":"exit"}
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";
import { emit, commands } from "#interop/harness.mjs";

const [redisURL] = process.argv.slice(2);
const redis = createClient({ url: redisURL });
redis.on("error", (err) => console.error("redis:", err.message));
await redis.connect();

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: createAdapter(redis),
  connectionStateRecovery: {},
  pingInterval: 300,
  pingTimeout: 400,
});
io.on("connection", (socket) => {
  if (!socket.recovered) socket.data = { first: "node" };
  emit("connection", { id: socket.id, recovered: socket.recovered, data: socket.data, rooms: [...socket.rooms] });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (ack) ack(room);
  });
  socket.on("data", (ack) => ack(socket.data));
});
await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
emit("server", { url: `http://127.0.0.1:${httpServer.address().port}` });

for await (const cmd of commands()) {
  switch (cmd.op) {
    case "emit":
      io.to(cmd.room).emit("n", cmd.n);
      break;
    case "exit":
      io.close();
      await redis.quit();
      process.exit(0);
  }
}
