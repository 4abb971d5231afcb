// Starts a sample app as a real child process on a free port (PORT=0; the app prints the port it
// got) and stops it with SIGTERM, as the mesh runtime does.
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { unusedPort } from "../support/ports.ts";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const NODE = `${REPO}node_modules/.bin/node`;

export interface SampleProcess {
  port: number;
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves once the output matches (log lines arrive through a pipe, after the response). */
  waitForOutput: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
  /** SIGTERM, then the exit code (null if killed by a signal). */
  stop: () => Promise<number | null>;
}

/** The test runner's environment without proxy settings, so a child only proxies when told to. */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(https?_proxy|no_proxy|all_proxy|node_use_env_proxy)$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, PORT: "0", HOST: "127.0.0.1", ...extra };
}

export async function startSample(file: string, env: Record<string, string> = {}): Promise<SampleProcess> {
  const child = spawn(NODE, [`${REPO}${file}`], { env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start in 10 s:\n${out}`)), 10_000);
    const check = (): void => {
      const m = / listening on port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off("data", check);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    waitForOutput: async (pattern, timeoutMs = 5000) => {
      const deadline = performance.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (performance.now() > deadline) throw new Error(`output never matched ${pattern}:\n${out}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

export interface Captured {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface CaptureServer {
  url: string;
  port: number;
  requests: Captured[];
  close: () => Promise<void>;
}

/**
 * A stand-in service in the test process that records each request. `answer` returns the JSON
 * to send, or "hang" to never answer (a service that is too slow).
 */
export async function captureServer(answer: (req: Captured) => unknown): Promise<CaptureServer> {
  const requests: Captured[] = [];
  const server = http.createServer((req, res) => {
    const c = { method: req.method ?? "", url: req.url ?? "", headers: req.headers };
    requests.push(c);
    const body = answer(c);
    if (body === "hang") return;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on, outside the ephemeral range (see test/support/ports.ts). */
export function closedPort(): Promise<number> {
  return unusedPort();
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain request with node:http (fetch would add its own headers and pool connections). */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary JSON
export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const r = await request(url, { headers });
  return { status: r.status, json: JSON.parse(r.body) };
}
