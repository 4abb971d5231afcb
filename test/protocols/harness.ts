// Helpers for the protocol tests: a minimal ProxyConfig builder for listeners of any protocol,
// child-process clients (nc, curl, openssl) run asynchronously (the sidecar shares this event
// loop, so a synchronous spawn would deadlock), and small socket utilities.
import { spawn } from "node:child_process";
import { connect, type AddressInfo, type Server, type Socket } from "node:net";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";

type Obj = Record<string, unknown>;

export interface ClusterDef {
  name: string;
  endpoints: { address?: string; port: number }[];
  protocol?: string;
  connectionPool?: Obj;
  tls?: Obj;
  discovery?: string;
}

export function config(listeners: Obj[], clusters: ClusterDef[], extra: Obj = {}): Obj {
  return {
    version: "protocols-1",
    node: { id: "sidecar~test", kind: "sidecar", workload: "test", namespace: "default", labels: {}, serviceAccount: "default", trustDomain: "cluster.local", ip: "127.0.0.1" },
    listeners,
    routes: [],
    clusters: clusters.map((c) => ({
      name: c.name,
      direction: "outbound",
      discovery: c.discovery ?? "eds",
      protocol: c.protocol ?? "tcp",
      lb: { policy: "ROUND_ROBIN" },
      connectionPool: c.connectionPool ?? {},
      ...(c.tls ? { tls: c.tls } : {}),
    })),
    endpoints: Object.fromEntries(clusters.map((c) => [c.name, c.endpoints.map((e) => ({ address: e.address ?? "127.0.0.1", port: e.port, weight: 1, labels: {}, healthy: true }))])),
    ...extra,
  };
}

/**
 * A sidecar config for TLS origination tests: an outbound HTTP listener that sends Host `name` to
 * cluster `name` (no retries), each cluster one HTTP/1.1 endpoint on 127.0.0.1 with its `tls`.
 */
export function originationConfig(clusters: readonly [name: string, port: number, tls: Obj][], node: Obj = { id: "sidecar~t", kind: "sidecar", workload: "t", namespace: "default", labels: {}, serviceAccount: "default", trustDomain: "cluster.local", ip: "127.0.0.1" }): ProxyConfig {
  const noRetry = { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: false };
  return {
    version: "tls",
    node,
    listeners: [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "outbound" }],
    routes: [{
      name: "outbound",
      virtualHosts: clusters.map(([name]) => ({
        name,
        domains: [name],
        routes: [{ name, match: { headers: [], queryParams: [], ignoreUriCase: false }, action: { kind: "forward", clusters: [{ cluster: name, weight: 100 }], timeoutMs: 0, retry: noRetry, mirrors: [] }, origin: { resource: "t", ruleIndex: 0, matchIndex: -1 } }],
      })),
    }],
    clusters: clusters.map(([name, , tls]) => ({ name, direction: "outbound", discovery: "eds", protocol: "http1", lb: { policy: "ROUND_ROBIN" }, connectionPool: {}, tls })),
    endpoints: Object.fromEntries(clusters.map(([name, p]) => [name, [{ address: "127.0.0.1", port: p, weight: 1, labels: {}, healthy: true }]])),
  } as unknown as ProxyConfig;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion (bounded by `timeoutMs`), feeding `input` on stdin. */
export function run(cmd: string, args: string[], input = "", timeoutMs = 5000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("latin1")));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}

/** curl https://host:port/path with host resolved to 127.0.0.1 (--resolve), trusting only `ca`. */
export function curlHttps(ca: string, host: string, port: number, path: string): Promise<RunResult> {
  return run("curl", ["--silent", "--show-error", "--max-time", "5", "--cacert", ca, "--resolve", `${host}:${port}:127.0.0.1`, `https://${host}:${port}${path}`], "", 8000);
}

export function listen(server: Server, host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const s = server as Server & { closeAllConnections?: () => void };
    server.close(() => resolve());
    s.closeAllConnections?.();
  });
}

/** Connect and resolve once connected. */
export function dial(port: number, host = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Everything the socket sends until it closes, and whether it closed. */
export function readAll(s: Socket, timeoutMs = 3000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const t = setTimeout(() => resolve({ data: Buffer.concat(chunks), closed: false }), timeoutMs);
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("error", () => undefined);
    s.on("close", () => {
      clearTimeout(t);
      resolve({ data: Buffer.concat(chunks), closed: true });
    });
  });
}

/** Resolve with the first bytes the socket receives that satisfy `done`. */
export function readUntil(s: Socket, done: (all: Buffer) => boolean, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let all = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.off("data", on);
      reject(new Error(`timeout; got ${JSON.stringify(all.toString("latin1"))}`));
    }, timeoutMs);
    const on = (b: Buffer): void => {
      all = Buffer.concat([all, b]);
      if (done(all)) {
        clearTimeout(t);
        s.off("data", on);
        resolve(all);
      }
    };
    s.on("data", on);
  });
}
