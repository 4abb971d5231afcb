// Test harness for the sidecar: real upstream servers on port 0 that record what reached them,
// a compact ProxyConfig builder, and clients (node:http without keep-alive, and raw sockets for
// pipelining / malformed input).
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse, type OutgoingHttpHeaders } from "node:http";
import type { ChildProcessByStdio } from "node:child_process";
import { connect, type AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { unusedPort } from "../support/ports.ts";
import { Sidecar, type SidecarOptions } from "../../src/proxy/sidecar.ts";
import type { RequestRecord } from "../../src/proxy/request/context.ts";

export interface Captured {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

export interface Upstream {
  readonly port: number;
  readonly name: string;
  readonly requests: Captured[];
  /** TCP connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer, up: Upstream) => void;

const defaultHandler: Handler = (req, res, body, up) => {
  res.setHeader("x-upstream", up.name);
  res.end(`${up.name} ${req.method} ${req.url} ${body.length}`);
};

/** An HTTP upstream; by default answers `<name> <method> <url> <bodyLength>`. */
export async function startUpstream(name: string, handler: Handler = defaultHandler, collectBody = true): Promise<Upstream> {
  const holder: { server?: Server } = {};
  const up: Upstream = {
    port: 0,
    name,
    requests: [],
    connections: 0,
    close: () =>
      new Promise<void>((r) => {
        holder.server?.close(() => r());
        holder.server?.closeAllConnections();
      }),
  };
  const server = createServer((req, res) => {
    if (!collectBody) {
      up.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.alloc(0) });
      handler(req, res, Buffer.alloc(0), up);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      up.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(req, res, body, up);
    });
  });
  holder.server = server;
  server.keepAliveTimeout = 30_000;
  server.on("connection", () => up.connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  (up as { port: number }).port = (server.address() as AddressInfo).port;
  return up;
}

type Obj = Record<string, unknown>;

export interface ClusterSpec {
  name: string;
  endpoints: { address?: string; port: number; healthy?: boolean; weight?: number }[];
  lb?: string;
  connectionPool?: Obj;
  outlierDetection?: Obj;
  discovery?: string;
}

/** A route entry: `match` and `action` as in the model; defaults fill the rest. */
export function route(name: string, match: Obj, action: Obj, extra: Obj = {}): Obj {
  return { name, match, action, ...extra };
}

export function forward(clusters: string | { cluster: string; weight: number; headers?: Obj }[], extra: Obj = {}): Obj {
  const list = typeof clusters === "string" ? [{ cluster: clusters, weight: 100 }] : clusters;
  return { kind: "forward", clusters: list, timeoutMs: 0, retry: { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: true }, mirrors: [], ...extra };
}

export interface ConfigSpec {
  /** Virtual hosts: domains → routes. */
  virtualHosts: { name?: string; domains: string[]; routes: Obj[]; cors?: Obj }[];
  clusters: ClusterSpec[];
  version?: string;
}

export function proxyConfig(spec: ConfigSpec): Obj {
  return {
    version: spec.version ?? "test-1",
    node: { id: "sidecar~test", kind: "sidecar", workload: "test", namespace: "default", labels: {}, serviceAccount: "default", trustDomain: "cluster.local", ip: "127.0.0.1" },
    listeners: [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "outbound" }],
    routes: [{ name: "outbound", virtualHosts: spec.virtualHosts.map((v, i) => ({ name: v.name ?? `vh${i}`, domains: v.domains, routes: v.routes, cors: v.cors })) }],
    clusters: spec.clusters.map((c) => ({
      name: c.name,
      direction: "outbound",
      discovery: c.discovery ?? "eds",
      protocol: "http1",
      lb: { policy: c.lb ?? "ROUND_ROBIN" },
      connectionPool: c.connectionPool ?? {},
      outlierDetection: c.outlierDetection,
    })),
    endpoints: Object.fromEntries(
      spec.clusters.map((c) => [c.name, c.endpoints.map((e) => ({ address: e.address ?? "127.0.0.1", port: e.port, weight: e.weight ?? 1, labels: {}, healthy: e.healthy ?? true }))]),
    ),
  };
}

export interface RunningProxy {
  sidecar: Sidecar;
  port: number;
  records: RequestRecord[];
  close(): Promise<void>;
}

/** Start a sidecar; every finished request's record is copied into `records`. */
export async function startProxy(config: Obj, opts: SidecarOptions = {}): Promise<RunningProxy> {
  const records: RequestRecord[] = [];
  const sidecar = await Sidecar.start(config, { observer: (r) => records.push({ ...pick(r) }), ...opts });
  return { sidecar, port: sidecar.ports().outbound as number, records, close: () => sidecar.close(200) };
}

function pick(r: RequestRecord): RequestRecord {
  return {
    listener: r.listener,
    method: r.method,
    path: r.path,
    authority: r.authority,
    requestId: r.requestId,
    flags: r.flags,
    status: r.status,
    startWallMs: r.startWallMs,
    durationMs: r.durationMs,
    upstreamHost: r.upstreamHost,
    upstreamPrincipal: r.upstreamPrincipal,
    cluster: r.cluster,
    routeName: r.routeName,
    attempts: r.attempts,
    bytesReceived: r.bytesReceived,
    bytesSent: r.bytesSent,
    sourceIp: r.sourceIp,
  };
}

export interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
}

const SEND_TIMEOUT_MS = 60_000;

/** One request on a fresh connection (no agent keep-alive). */
export function send(port: number, opts: { method?: string; path?: string; host?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, method: opts.method ?? "GET", path: opts.path ?? "/", agent: false, headers: { host: opts.host ?? "svc", ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    // No test waits forever on a proxy that never answers: it fails, naming the request.
    req.setTimeout(SEND_TIMEOUT_MS, () => req.destroy(new Error(`no response to ${opts.method ?? "GET"} ${opts.path ?? "/"} on port ${port} within ${SEND_TIMEOUT_MS} ms`)));
    req.end(opts.body);
  });
}

/** Write raw bytes; resolve with everything read until the server closes (or `timeoutMs`). */
export function raw(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let closed = false;
    const t = setTimeout(() => {
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed });
    }, timeoutMs);
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", () => {});
    s.on("close", () => {
      closed = true;
      clearTimeout(t);
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed });
    });
    s.write(bytes);
  });
}

/** A port with nothing listening, outside the ephemeral range (see test/support/ports.ts). */
export function closedPort(): Promise<number> {
  return unusedPort();
}

/** The first line the process prints (the ready line); rejects if it exits first. */
export function firstLine(child: ChildProcessByStdio<null, Readable, Readable>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.on("exit", (code) => reject(new Error(`exited ${code}`)));
  });
}
