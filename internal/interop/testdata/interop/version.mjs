// Prints the versions of the packages the interop tests rely on.
import { createRequire } from "node:module";
import { io } from "socket.io-client";
import { emit } from "#interop/harness.mjs";

const require = createRequire(import.meta.url);
emit("version", {
  node: process.versions.node,
  socketIOClient: require("socket.io-client/package.json").version,
  engineIOClient: require("engine.io-client/package.json").version,
  ioIsFunction: typeof io === "function",
});
