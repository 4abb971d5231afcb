// The sidecar's and the gateway's entry point: `amime proxy` alone, with the same command line
// (`run-proxy.js proxy --xds …`). The runtimes start it from the bundle (dist/bundle/run-proxy.js,
// src/runtime/js-build/bundle.ts), which holds only the proxy's code and its lazy rooms because this
// file imports no other command: a sidecar resolves a few files at start, too few to make Node's
// path functions hot enough for TurboFan (docs/performance.md, "Session 10: a bundle of the sidecar").
import { proxyCommand } from "./proxy.ts";
import { runCommand } from "./run-command.ts";

const [name, ...rest] = process.argv.slice(2);
if (name === "proxy") process.exitCode = await runCommand(name, async () => proxyCommand, rest);
else {
  process.stderr.write(`amime: this entry runs the sidecar (\`amime proxy\`) only, not ${name === undefined ? "no command" : `"${name}"`}; every other command: bin/amime.js\n`);
  process.exitCode = 2;
}
