// Harness for the resilience suites: Istio YAML (fixtures or inline) → snapshot → translate →
// a real Sidecar on loopback, plus a fortio-like load client with keep-alive connections and an
// admin /stats reader. The config is the one translation produces; only what a local test must
// change is changed (the outbound listener binds port 0, endpoints point at in-test servers).
import { readFileSync } from "node:fs";
import { Agent, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parseDocuments } from "../../src/config/parse.ts";
import type { Resource } from "../../src/model/resource.ts";
import { translate } from "../../src/control-plane/translate/index.ts";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import type { WorkloadInstance } from "../../src/model/registry.ts";
import { buildSnapshot } from "../../src/model/snapshot.ts";
import { formatResponseFlags } from "../../src/proxy/request/response-flags.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";

export const FIXTURES = join(import.meta.dirname, "..", "fixtures", "istio");

/** Resources from fixture files (paths under test/fixtures/istio) and inline YAML strings. */
export function resources(files: string[], inline: string[] = []): Resource[] {
  const out: Resource[] = [];
  const add = (text: string, name: string): void => {
    const { resources: rs, diagnostics } = parseDocuments(text, name);
    const errors = diagnostics.filter((d) => d.level === "error");
    if (errors.length > 0) throw new Error(`${name}: ${errors.map((d) => d.message).join("; ")}`);
    out.push(...rs);
  };
  for (const f of files) add(readFileSync(join(FIXTURES, f), "utf8"), f);
  inline.forEach((t, i) => add(t, `inline-${i}.yaml`));
  return out;
}

/** Service NAME (namespace default, selector `app: NAME`): port 8000 named http → targetPort 8080. */
export const service = (name: string): string => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  selector: {app: ${name}}
  ports:
  - {name: http, port: 8000, targetPort: 8080}
---
`;

/** A ready instance on loopback whose `targetPort` is served at `port`. */
export function instance(name: string, labels: Record<string, string>, targetPort: number | string, port: number): WorkloadInstance {
  return { name, namespace: "default", labels, serviceAccount: labels.app ?? "default", address: "127.0.0.1", ports: { [String(targetPort)]: port }, ready: true };
}

/** The config a client sidecar (`app: fortio`) gets, with its outbound listener on port 0 and no inbound listeners. */
export function clientConfig(rs: Resource[], instances: WorkloadInstance[]): ProxyConfig {
  const cfg = translate(buildSnapshot(rs, { services: [], instances }), {
    id: "sidecar~fortio-0.default", kind: "sidecar", workload: "fortio", namespace: "default", labels: { app: "fortio" },
    serviceAccount: "fortio", trustDomain: "cluster.local", ip: "127.0.0.1",
  });
  cfg.listeners = cfg.listeners.filter((l) => l.direction === "outbound").map((l) => ({ ...l, port: 0 }));
  return cfg;
}

export interface Record1 {
  status: number;
  flags: string;
  upstreamHost: string;
  durationMs: number;
}

export interface Proxy {
  sidecar: Sidecar;
  port: number;
  adminPort: number;
  records: Record1[];
  close(): Promise<void>;
}

export async function startSidecar(cfg: ProxyConfig): Promise<Proxy> {
  const records: Record1[] = [];
  const sidecar = await Sidecar.start(cfg, {
    adminPort: 0,
    observer: (r) => records.push({ status: r.status, flags: formatResponseFlags(r.flags), upstreamHost: r.upstreamHost, durationMs: r.durationMs }),
  });
  return { sidecar, port: sidecar.ports().outbound as number, adminPort: sidecar.adminPort as number, records, close: () => sidecar.close(200) };
}

/** Listens on 127.0.0.1, any free port; resolves to that port. */
export async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

/** Closes a server now, keep-alive connections included. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** One request through the proxy (plain HTTP proxying: the Host header names the service). */
export function get(port: number, host: string, path = "/", agent: Agent | false = false): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * fortio-like load: `n` requests over `concurrency` keep-alive connections, as fast as they go
 * (fortio -qps 0). An Agent with maxSockets = concurrency holds exactly that many connections
 * and sends each connection's next request when its previous response is complete.
 */
export async function load(port: number, host: string, path: string, n: number, concurrency: number): Promise<Reply[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  try {
    return await Promise.all(Array.from({ length: n }, () => get(port, host, path, agent)));
  } finally {
    agent.destroy();
  }
}

/** Admin /stats as a map; `cluster.<name>.` prefixes are kept. */
export async function stats(adminPort: number): Promise<Map<string, string>> {
  const r = await get(adminPort, "admin", "/stats");
  const m = new Map<string, string>();
  for (const line of r.body.split("\n")) {
    const i = line.lastIndexOf(": ");
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 2));
  }
  return m;
}

export async function clusterStat(adminPort: number, cluster: string, name: string): Promise<number> {
  const v = (await stats(adminPort)).get(`cluster.${cluster}.${name}`);
  if (v === undefined) throw new Error(`no stat cluster.${cluster}.${name}`);
  return Number(v);
}

