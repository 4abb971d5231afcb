// `amime control-plane` as a real process for the webhook tests: started with the given flags,
// resolved with its ready line; close() sends SIGTERM and waits for the exit.
import { spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
export const NODE = join(ROOT, "node_modules", ".bin", "node");
export const BIN = join(ROOT, "bin", "amime.js");

export interface ReadyLine {
  ready: true;
  url: string;
  port: number;
  rootCertFile: string;
  tokenFile: string;
  webhookPort?: number;
}

export interface ControlPlaneProcess {
  ready: ReadyLine;
  stderr(): string;
  close(): Promise<number | null>;
}

export function startControlPlane(args: readonly string[]): Promise<ControlPlaneProcess> {
  const child = spawn(NODE, [BIN, "control-plane", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exit = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      resolve({
        ready: JSON.parse(out.slice(0, nl)) as ReadyLine,
        stderr: () => err,
        close: async () => {
          if (child.exitCode === null) child.kill("SIGTERM");
          return exit;
        },
      });
    });
    void exit.then((c) => reject(new Error(`amime control-plane exited ${c} before its ready line: ${err}`)));
  });
}

/** Run a command to completion (curl, kubectl…), with its output. */
export function runTool(command: string, args: readonly string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    // A tool that reads no stdin may exit before it is written: its exit status tells the story.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.stdin ?? "");
  });
}
