// Starting and stopping benchmark processes, pinned to a CPU with taskset, and finding free ports.
import { spawn, type ChildProcess, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { createServer, connect } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function pinned(cpu: string, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn("taskset", ["-c", cpu, cmd, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

/** Run a command to completion and return its stdout (throws on non-zero exit). */
export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err.slice(0, 500)}`))));
  });
}

/** A start slower than this is a hung start (a normal one, 1,000 services pushed under load, takes under 1 s). */
const READY_TIMEOUT_MS = 60_000;

/**
 * Start `amime proxy` (node, its flags, the entry and the proxy's arguments in `args`) pinned to `cpu`;
 * resolves once it prints its ready line, with the time from spawn to ready. Rejects, with its stderr,
 * if it exits first, or if it is not ready within a minute: then it is killed (no process left behind)
 * and the error says what it logged (a sidecar that is not ready says what it waits for every 10 s).
 */
export async function startProxyUntilReady(cpu: string, node: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ child: ChildProcessByStdio<null, Readable, Readable>; readyMs: number }> {
  const spawnedAt = performance.now();
  const child = spawn("taskset", ["-c", cpu, node, ...args], { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const readyMs = await new Promise<number>((resolve, reject) => {
    let out = "";
    const hung = setTimeout(() => {
      reject(new Error(`amime proxy (pid ${child.pid}) not ready after ${READY_TIMEOUT_MS / 1000} s, killed; its stderr: ${stderr.slice(-2000)}`));
      child.kill("SIGKILL");
    }, READY_TIMEOUT_MS);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!out.includes('"ready":true')) return;
      clearTimeout(hung);
      resolve(performance.now() - spawnedAt);
    });
    child.once("exit", (code) => {
      clearTimeout(hung);
      reject(new Error(`amime proxy exited ${code}: ${stderr.slice(0, 2000)}`));
    });
  });
  return { child, readyMs };
}
