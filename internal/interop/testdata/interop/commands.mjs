// Exercises the harness: each stdin command is answered on stdout.
import { spawn } from "node:child_process";
import { emit, commands } from "#interop/harness.mjs";

emit("ready", { args: process.argv.slice(2), env: process.env.INTEROP_TEST_VALUE ?? null });
for await (const cmd of commands()) {
  switch (cmd.op) {
    case "echo":
      emit("echo", cmd);
      break;
    case "stderr":
      console.error(cmd.text);
      emit("logged");
      break;
    case "raw":
      process.stdout.write(cmd.text + "\n");
      break;
    case "long":
      process.stdout.write(JSON.stringify({ event: "long", pad: "x".repeat(cmd.size) }) + "\n");
      break;
    case "spawn": {
      // A grandchild that would run forever unless its process group is killed.
      const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
      emit("spawned", { pid: child.pid });
      break;
    }
    case "throw":
      throw new Error(cmd.text);
    case "exit":
      process.exit(cmd.code);
  }
}
emit("stdin-closed");
