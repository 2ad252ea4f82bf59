// The bench server contract (CONTRACTS.md section 2) on the official
// socket.io 4.8 package, so the Go server can be measured side by side.
//
//   node --expose-gc bench/node/server.mjs -addr 127.0.0.1:3000 [-engine ws|uws]
//        [-redis redis://HOST:PORT] [-recovery]
//
// -engine ws (default) is socket.io's default engine on a Node HTTP server;
// -engine uws attaches it to uWebSockets.js and refuses to start unless the
// native module loaded (the package silently falls back to a JS version).
// -redis joins the cluster of servers (Go and Node.js alike) sharing that
// Redis through @socket.io/redis-adapter; -recovery turns connection state
// recovery on with its defaults, and with -redis uses
// @socket.io/redis-streams-adapter instead, so sessions survive across nodes.
// Options are the defaults, CORS reflects any origin with credentials.
// SIGUSR2 runs gc() (with --expose-gc) so memory can be read without garbage.
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter as createPubSubAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";

const require = createRequire(import.meta.url);

function parseArgs(argv) {
  const opts = { addr: "127.0.0.1:3000", engine: "ws", redis: "", recovery: false };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--?/, "");
    if (name === "recovery") {
      opts.recovery = true;
      continue;
    }
    if (!(name in opts) || i + 1 >= argv.length) {
      console.error(
        `usage: server.mjs [-addr HOST:PORT] [-engine ws|uws] [-redis redis://HOST:PORT] [-recovery] (bad argument ${argv[i]})`,
      );
      process.exit(2);
    }
    opts[name] = argv[++i];
  }
  return opts;
}

// connectRedis returns a connected client of the redis package; a lost
// connection is logged and retried by the client itself.
async function connectRedis(url) {
  const client = createClient({ url });
  client.on("error", (err) => console.error(`server.mjs: redis: ${err.message}`));
  try {
    await client.connect();
  } catch (err) {
    console.error(`server.mjs: cannot connect to ${url}: ${err.message}`);
    process.exit(1);
  }
  return client;
}

// serverOptions builds the Server options for -redis and -recovery; the
// returned clients are closed on exit.
async function serverOptions(opts) {
  const options = { cors: { origin: true, credentials: true } };
  const clients = [];
  if (opts.recovery) options.connectionStateRecovery = {};
  if (opts.redis && opts.recovery) {
    const client = await connectRedis(opts.redis);
    clients.push(client);
    options.adapter = createStreamsAdapter(client);
  } else if (opts.redis) {
    const pub = await connectRedis(opts.redis);
    const sub = await connectRedis(opts.redis);
    clients.push(pub, sub);
    options.adapter = createPubSubAdapter(pub, sub);
  }
  return [options, clients];
}

// loadNativeUWS returns uWebSockets.js, or exits when its native binary did
// not load (the package then falls back to a slow JS implementation).
function loadNativeUWS() {
  const binary = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  let native;
  try {
    native = require(binary);
  } catch (err) {
    console.error(`server.mjs: the uWebSockets.js native module did not load: ${err.message}`);
    process.exit(1);
  }
  const uws = require("uWebSockets.js");
  if (uws !== native) {
    console.error("server.mjs: uWebSockets.js fell back to its JS implementation");
    process.exit(1);
  }
  return uws;
}

// splitAck separates the acknowledgement callback (last argument) from the data.
function splitAck(args) {
  const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
  return [args, ack];
}

function registerEvents(nsp, socket) {
  socket.on("echo", (...all) => {
    const [args, ack] = splitAck(all);
    if (ack) ack(...args);
    else socket.emit("echo", ...args);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(room);
  });
  socket.on("leave", (room, ack) => {
    socket.leave(room);
    if (typeof ack === "function") ack(room);
  });
  socket.on("broadcast", (room, ...all) => {
    const [args, ack] = splitAck(all);
    nsp.to(room).emit("broadcast", ...args);
    if (ack) ack();
  });
  socket.on("broadcast-except", (room, except, ...all) => {
    const [args, ack] = splitAck(all);
    nsp.to(room).except(except).emit("broadcast", ...args);
    if (ack) ack();
  });
  socket.on("sockets", async (room, ack) => {
    const sockets = await nsp.in(room).fetchSockets();
    if (typeof ack === "function") ack(sockets.map((s) => s.id));
  });
  socket.on("request", (room, timeoutMs, ...all) => {
    const [args, ack] = splitAck(all);
    nsp.to(room).timeout(timeoutMs).emit("request", ...args, (err, responses) => {
      if (ack) ack({ error: err ? err.message : null, responses: responses ?? [] });
    });
  });
  socket.on("rooms", (ack) => {
    if (typeof ack === "function") ack([...socket.rooms]);
  });
  socket.on("disconnect-me", (close) => socket.disconnect(close === true));
}

function setupNamespaces(io) {
  const root = io.of("/");
  root.on("connection", (socket) => registerEvents(root, socket));

  const priv = io.of("/private");
  priv.use((socket, next) => {
    if (socket.handshake.auth?.token === "secret") return next();
    const err = new Error("unauthorized");
    err.data = { code: 401 };
    next(err);
  });
  priv.on("connection", (socket) => socket.emit("welcome", socket.id));

  io.of(/^\/dyn-[0-9]+$/).on("connection", (socket) => socket.emit("welcome", socket.nsp.name));
}

const opts = parseArgs(process.argv.slice(2));
const sep = opts.addr.lastIndexOf(":");
const host = opts.addr.slice(0, sep);
const port = Number(opts.addr.slice(sep + 1));
const [options, redisClients] = await serverOptions(opts);
const io = new Server(options);
setupNamespaces(io);
// destroy, not close: close would wait for the streams adapter's blocking read.
const dropRedis = () => redisClients.forEach((c) => c.destroy());

// Handlers first: uWebSockets.js calls the listen callback, which prints
// "listening", synchronously.
let stop = () => process.exit(0);
process.on("SIGUSR2", () => globalThis.gc?.());
process.on("SIGINT", () => stop());
process.on("SIGTERM", () => stop());
if (opts.engine === "uws") {
  const uws = loadNativeUWS();
  const app = uws.App();
  io.attachApp(app);
  app.listen(host, port, (token) => {
    if (!token) {
      console.error(`server.mjs: cannot listen on ${opts.addr}`);
      process.exit(1);
    }
    console.log(`node socket.io ${require("socket.io/package.json").version} (uws native) listening on http://${opts.addr}`);
  });
  stop = () => {
    io.close();
    dropRedis();
    process.exit(0);
  };
} else if (opts.engine === "ws") {
  const http = createServer();
  io.attach(http);
  http.on("error", (err) => {
    console.error(`server.mjs: ${err.message}`);
    process.exit(1);
  });
  http.listen(port, host, () => {
    console.log(`node socket.io ${require("socket.io/package.json").version} (ws) listening on http://${opts.addr}`);
  });
  stop = () =>
    io.close(() => {
      dropRedis();
      process.exit(0);
    });
} else {
  console.error(`server.mjs: unknown engine ${opts.engine} (want ws or uws)`);
  process.exit(2);
}
