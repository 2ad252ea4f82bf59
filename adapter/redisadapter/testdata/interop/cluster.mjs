// Node.js side of the Redis cluster tests: official socket.io servers with
// @socket.io/redis-adapter, official socket.io-client clients and the
// official @socket.io/redis-emitter, driven by JSON commands on stdin.
// Binary values travel as {"$bin": base64}.
//
// usage: node cluster.mjs REDIS_URL (classic|sharded)
import { createServer } from "node:http";
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import { emit, commands, isBinary, toBuffer } from "#interop/harness.mjs";

const [redisURL, mode] = process.argv.slice(2);

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

const redisClients = [];
async function redis() {
  const c = createClient({ url: redisURL });
  c.on("error", (err) => console.error("redis:", err.message));
  await c.connect();
  redisClients.push(c);
  return c;
}

const servers = new Map(); // name -> io
const clients = new Map(); // name -> client socket
let emitter;

async function startServer(name) {
  const pub = await redis();
  const sub = pub.duplicate();
  sub.on("error", (err) => console.error("redis sub:", err.message));
  await sub.connect();
  redisClients.push(sub);
  const adapter = mode === "sharded" ? createShardedAdapter(pub, sub) : createAdapter(pub, sub);
  const httpServer = createServer();
  const io = new Server(httpServer, { adapter });
  io.on("connection", (socket) => {
    socket.data = { node: name };
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (ack) ack(room);
    });
  });
  io.of("/chat"); // a second namespace, with its own adapter
  io.on("hello", (...args) => {
    const cb = typeof args[args.length - 1] === "function" ? args.pop() : null;
    emit("serverSide", { server: name, args: toWire(args) });
    if (cb) cb("node-" + name);
  });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  servers.set(name, io);
  emit("server", { name, url: `http://127.0.0.1:${httpServer.address().port}` });
}

function target(io, cmd) {
  let op = io.of(cmd.nsp ?? "/");
  if (cmd.rooms?.length) op = op.to(cmd.rooms);
  if (cmd.except?.length) op = op.except(cmd.except);
  return op;
}

async function serverOp(cmd) {
  const io = servers.get(cmd.server);
  const seq = cmd.seq;
  const done = (fields) => emit("done", { seq, ...fields });
  switch (cmd.do) {
    case "emit":
      target(io, cmd).emit(cmd.event, ...fromWire(cmd.args ?? []));
      return done({});
    case "emitWithAck":
      try {
        const replies = await target(io, cmd).timeout(cmd.timeout ?? 2000).emitWithAck(cmd.event, ...fromWire(cmd.args ?? []));
        return done({ replies: toWire(replies) });
      } catch (err) {
        return done({ error: err.message });
      }
    case "fetchSockets": {
      const list = await target(io, cmd).fetchSockets();
      return done({
        sockets: list.map((s) => ({
          id: s.id,
          rooms: [...s.rooms].sort(),
          data: s.data,
          eio: s.handshake.query.EIO,
          host: s.handshake.headers.host,
          address: s.handshake.address,
          issued: s.handshake.issued,
        })),
      });
    }
    case "remote": {
      const s = (await io.fetchSockets()).find((s) => s.id === cmd.id);
      if (!s) return done({ error: "not found" });
      if (cmd.action === "emit") s.emit(cmd.event, ...fromWire(cmd.args ?? []));
      if (cmd.action === "join") s.join(cmd.room);
      if (cmd.action === "leave") s.leave(cmd.room);
      if (cmd.action === "disconnect") s.disconnect(true);
      return done({});
    }
    case "socketsJoin":
      target(io, cmd).socketsJoin(cmd.room);
      return done({});
    case "socketsLeave":
      target(io, cmd).socketsLeave(cmd.room);
      return done({});
    case "disconnectSockets":
      target(io, cmd).disconnectSockets(true);
      return done({});
    case "serverSideEmit":
      if (cmd.ack) {
        try {
          const replies = await io.serverSideEmitWithAck("hello", ...(cmd.args ?? []));
          return done({ replies });
        } catch (err) {
          return done({ error: err.message });
        }
      }
      io.serverSideEmit("hello", ...(cmd.args ?? []));
      return done({});
    case "serverCount":
      return done({ count: await io.of("/").adapter.serverCount() });
  }
}

function openClient(cmd) {
  const s = connect(cmd.url + (cmd.nsp ?? "/"), { transports: ["websocket"], reconnection: false, forceNew: true });
  clients.set(cmd.name, s);
  const name = cmd.name;
  s.on("connect", () => emit("connect", { name, id: s.id }));
  s.on("disconnect", (reason) => emit("disconnect", { name, reason }));
  s.onAny((ev, ...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    emit("event", { name, ev, args: toWire(args) });
    if (ack) ack(ev === "askbin" ? Buffer.from(name) : { from: name });
  });
}

async function emitterOp(cmd) {
  emitter ??= new Emitter(await redis());
  let e = emitter.of(cmd.nsp ?? "/");
  if (cmd.rooms?.length) e = e.to(cmd.rooms);
  if (cmd.except?.length) e = e.except(cmd.except);
  switch (cmd.do) {
    case "emit":
      e.emit(cmd.event, ...fromWire(cmd.args ?? []));
      break;
    case "socketsJoin":
      e.socketsJoin(cmd.room);
      break;
    case "socketsLeave":
      e.socketsLeave(cmd.room);
      break;
    case "disconnectSockets":
      e.disconnectSockets(true);
      break;
    case "serverSideEmit":
      e.serverSideEmit("hello", ...(cmd.args ?? []));
      break;
  }
  emit("done", { seq: cmd.seq });
}

for await (const cmd of commands()) {
  switch (cmd.op) {
    case "server":
      await startServer(cmd.name);
      break;
    case "srv":
      serverOp(cmd);
      break;
    case "client":
      openClient(cmd);
      break;
    case "cemit": {
      const s = clients.get(cmd.name);
      s.timeout(5000).emitWithAck(cmd.event, ...fromWire(cmd.args ?? [])).then(
        (reply) => emit("cack", { name: cmd.name, seq: cmd.seq, reply: toWire(reply) }),
        (err) => emit("cack", { name: cmd.name, seq: cmd.seq, error: err.message }),
      );
      break;
    }
    case "emitter":
      await emitterOp(cmd);
      break;
    case "exit":
      for (const s of clients.values()) s.disconnect();
      for (const io of servers.values()) io.close();
      for (const c of redisClients) c.disconnect().catch(() => {});
      setTimeout(() => process.exit(0), 100);
      break;
  }
}
