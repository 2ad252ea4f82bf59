// Several socket.io-client sockets driven by the Go test: JSON commands on
// stdin, one JSON line per thing that happens on stdout.
//
// usage: node client.mjs URL
//
// commands:
//   {"op":"connect","name":N,"nsp":"/support","auth":{...},"reconnect":bool,"url":U}
//   (url: another server than URL, optional)
//   {"op":"auth","name":N,"auth":{...}}          auth for the next reconnection
//   {"op":"emit","name":N,"ev":E,"args":[...],"ref":R}   with an ack callback
//   {"op":"close","name":N}
// lines: connect {name,id}, connect_error {name,message,data},
//   disconnect {name,reason}, event {name,ev,args}, ack {name,ref,args}
import { io } from "socket.io-client";
import { emit, commands } from "#interop/harness.mjs";

const [url] = process.argv.slice(2);
const sockets = new Map();
const auths = new Map();

function connect(cmd) {
  const name = cmd.name;
  auths.set(name, cmd.auth || {});
  const s = io((cmd.url || url) + cmd.nsp, {
    forceNew: true,
    transports: ["websocket"],
    reconnection: cmd.reconnect === true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 200,
    auth: (cb) => cb(auths.get(name)),
  });
  sockets.set(name, s);
  s.on("connect", () => emit("connect", { name, id: s.id }));
  s.on("connect_error", (err) => emit("connect_error", { name, message: err.message, data: err.data ?? null }));
  s.on("disconnect", (reason) => emit("disconnect", { name, reason }));
  s.onAny((ev, ...args) => emit("event", { name, ev, args }));
}

for await (const cmd of commands()) {
  switch (cmd.op) {
    case "connect":
      connect(cmd);
      break;
    case "auth":
      auths.set(cmd.name, cmd.auth);
      break;
    case "emit":
      sockets.get(cmd.name).emit(cmd.ev, ...(cmd.args || []), (...args) =>
        emit("ack", { name: cmd.name, ref: cmd.ref, args }),
      );
      break;
    case "close":
      sockets.get(cmd.name).close();
      break;
    default:
      throw new Error("unknown op " + cmd.op);
  }
}
for (const s of sockets.values()) s.close();
