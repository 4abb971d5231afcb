// Harness for the local-mesh end-to-end tests: runs `amime up` as a real process (in its own
// process group, in a temp directory), reads its output and state file, and makes sure nothing
// it started survives the test.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { trustMeshRootFile } from "../support/mesh-root.ts";
import { unusedPort } from "../support/ports.ts";
import type { UpState } from "../../src/runtime/local/state-file.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
export const NODE = join(ROOT, "node_modules", ".bin", "node");
export const AMIME = join(ROOT, "bin", "amime.js");

/** A port base outside the ephemeral range with 64 free ports above it (see test/support/ports.ts). */
export function randomPortBase(): Promise<number> {
  // A mesh takes a few dozen ports upwards from its base: keep all of them below the ephemeral range.
  return unusedPort(64);
}

export class UpRun {
  readonly child: ChildProcess;
  readonly cwd: string;
  output = "";
  exitCode: number | null = null;
  readonly exited: Promise<number | null>;
  /** Every process group seen in the state file, for cleanup and leak checks. */
  readonly groups = new Set<number>();

  constructor(args: string[], cwd = mkdtempSync(join(tmpdir(), "amime-up-"))) {
    this.cwd = cwd;
    this.child = spawn(NODE, [AMIME, "up", ...args], { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.setEncoding("utf8").on("data", (d: string) => (this.output += d));
    this.child.stderr?.setEncoding("utf8").on("data", (d: string) => (this.output += d));
    this.exited = new Promise((r) => this.child.once("exit", (code) => r((this.exitCode = code))));
  }

  /** Resolves once the startup report is printed; rejects on exit or timeout. */
  async waitStarted(timeoutMs = 45_000): Promise<UpState> {
    const deadline = Date.now() + timeoutMs;
    while (!/instances ready\. Press Ctrl-C/.test(this.output)) {
      if (this.exitCode !== null) throw new Error(`amime up exited with ${this.exitCode}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`amime up not started after ${timeoutMs} ms:\n${this.output}${this.logTails()}`);
      await sleep(100);
    }
    // The control plane serves https with a certificate from the mesh CA: trust its root here, as the CLI does.
    trustMeshRootFile(join(this.cwd, ".amime", "root-cert.pem"));
    return this.state();
  }

  /** The last lines of every instance's log (.amime/logs), for a failure message: why an app or sidecar is not ready. */
  logTails(lines = 15): string {
    const dir = join(this.cwd, ".amime", "logs");
    if (!existsSync(dir)) return "";
    let out = "";
    for (const name of readdirSync(dir).sort()) {
      const tail = readFileSync(join(dir, name), "utf8").trimEnd().split("\n").slice(-lines).join("\n  ");
      out += `\n--- .amime/logs/${name} (last ${lines} lines):\n  ${tail}`;
    }
    return out;
  }

  state(): UpState {
    const s = JSON.parse(readFileSync(join(this.cwd, ".amime", "up.json"), "utf8")) as UpState;
    for (const i of s.instances) for (const p of [i.pid, i.sidecarPid]) if (p) this.groups.add(p);
    if (s.gatewayPid) this.groups.add(s.gatewayPid);
    return s;
  }

  /** The admin credential `amime up` wrote (.amime/admin-token), as an Authorization header. */
  auth(): Record<string, string> {
    return { authorization: `Bearer ${readFileSync(join(this.cwd, ".amime", "admin-token"), "utf8").trim()}` };
  }

  async waitOutput(re: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.output)) {
      if (Date.now() > deadline) throw new Error(`no ${re} in output after ${timeoutMs} ms:\n${this.output}`);
      await sleep(100);
    }
  }

  /** `amime exec` (or any amime command) in this run's directory (or `cwd`). */
  amime(args: string[], cwd = this.cwd): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(NODE, [AMIME, ...args], { cwd, encoding: "utf8", timeout: 20_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Signal `amime up` and wait for it to exit (SIGKILL everything after timeoutMs). */
  async stop(signal: NodeJS.Signals = "SIGINT", timeoutMs = 15_000): Promise<number | null> {
    if (this.exitCode === null) signalPid(this.child.pid, signal);
    const code = await Promise.race([this.exited, sleep(timeoutMs).then(() => "timeout" as const)]);
    if (code === "timeout") {
      this.killAll();
      throw new Error(`amime up did not exit within ${timeoutMs} ms after ${signal}:\n${this.output}`);
    }
    return code;
  }

  /** Last resort for `after`: SIGKILL amime up and every process group it reported. */
  killAll(): void {
    try {
      if (existsSync(join(this.cwd, ".amime", "up.json"))) this.state();
    } catch {
      // a half-written or removed state file: use the groups already seen
    }
    if (this.child.pid) signalPid(-this.child.pid, "SIGKILL");
    for (const g of this.groups) signalPid(-g, "SIGKILL");
  }

  cleanup(): void {
    this.killAll();
    rmSync(this.cwd, { recursive: true, force: true });
  }
}

/** Live (non-zombie) processes whose process group is one of `groups`. */
export function survivors(groups: Iterable<number>): string[] {
  const want = new Set(groups);
  const out: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …; comm may contain spaces, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = fields[0];
    const pgrp = Number(fields[2]);
    if (state !== "Z" && want.has(pgrp)) out.push(`${entry} ${stat.slice(0, stat.lastIndexOf(")") + 1)}`);
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function signalPid(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export interface HttpResult {
  status: number;
  body: string;
}

/** A plain GET with no proxy and no keep-alive; never rejects (status 0 = connection error). */
/** http or https by the URL (the control plane is https, apps and sidecars http). */
function request(url: string, o: RequestOptions, cb: (res: IncomingMessage) => void): ClientRequest {
  return url.startsWith("https:") ? httpsRequest(url, o, cb) : httpRequest(url, o, cb);
}

export function get(url: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<HttpResult> {
  return new Promise((resolve) => {
    const req = request(url, { headers, agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => resolve({ status: 0, body }));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", (e) => resolve({ status: 0, body: e.message }));
    req.end();
  });
}

/** POST YAML to the control plane's apply (or delete) API. */
export function postYaml(url: string, yaml: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve) => {
    const req = request(url, { method: "POST", agent: false, headers: { "content-type": "text/yaml", "x-amime-source": "e2e", ...headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", (e) => resolve({ status: 0, body: e.message }));
    req.end(yaml);
  });
}

/** Retry `fn` until it returns true (every 200 ms) or the time is up. */
export async function eventually(fn: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await sleep(200);
  }
  return false;
}
