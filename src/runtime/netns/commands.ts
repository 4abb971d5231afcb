// Running `ip` and `iptables-restore` (iproute2, iptables): async, with the tool's stderr in the
// error, so a failed step says which command and why.
import { spawn } from "node:child_process";

export class NetnsCommandError extends Error {
  readonly code = "AMIME_NETNS_COMMAND";
}

/** Run a command to completion; resolves with stdout, rejects with its stderr. */
export function run(command: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.once("error", (e) => reject(new NetnsCommandError(`${command} ${args.join(" ")}: ${e.message}`)));
    child.once("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new NetnsCommandError(`${command} ${args.join(" ")}: exit ${code}: ${err.trim()}`));
    });
    if (child.stdin) {
      // A tool that exits early (bad usage) closes its stdin: its exit status tells what went wrong.
      child.stdin.on("error", () => {});
      child.stdin.end(input);
    }
  });
}

export const ip = (...args: string[]): Promise<string> => run("ip", args);

/** `ip netns exec NS iptables-restore [--noflush]` with `rules` on stdin. */
export function iptablesRestore(netns: string, rules: string, noflush = false): Promise<string> {
  return run("ip", ["netns", "exec", netns, "iptables-restore", ...(noflush ? ["--noflush"] : [])], rules);
}

/** Whether this process can create network namespaces and rules (root). */
export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}
