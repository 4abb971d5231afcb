// ProxyConfig builders for the HTTP/2 and gRPC tests: one HTTP (or auto) listener, one route
// per entry with its own policy, clusters of any protocol.
import type { Listener } from "../../src/model/proxy-config.ts";

type Obj = Record<string, unknown>;

export const NO_RETRY = { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: false };

export interface RouteDef {
  name: string;
  /** Path prefix; default "/". */
  prefix?: string;
  cluster: string;
  timeoutMs?: number;
  retry?: Obj;
  fault?: Obj;
  /** Mirror policies ({ cluster, percentage }); default none. */
  mirrors?: Obj[];
  domains?: string[];
}

export interface ClusterDef {
  name: string;
  protocol?: "http1" | "http2" | "tcp";
  ports: number[];
  tls?: Obj;
}

export function h2Config(listener: Partial<Listener>, routes: RouteDef[], clusters: ClusterDef[]): Obj {
  const byDomain = new Map<string, RouteDef[]>();
  for (const r of routes) {
    const d = (r.domains ?? ["*"]).join(",");
    byDomain.set(d, [...(byDomain.get(d) ?? []), r]);
  }
  return {
    version: "h2-1",
    node: { id: "sidecar~t", kind: "sidecar", workload: "t", namespace: "default", labels: {}, serviceAccount: "default", trustDomain: "cluster.local", ip: "127.0.0.1" },
    listeners: [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "outbound", ...listener }],
    routes: [
      {
        name: "outbound",
        virtualHosts: [...byDomain].map(([d, rs], i) => ({
          name: `vh${i}`,
          domains: d.split(","),
          routes: rs.map((r) => ({
            name: r.name,
            match: { uri: { prefix: r.prefix ?? "/" }, headers: [], queryParams: [], ignoreUriCase: false },
            action: { kind: "forward", clusters: [{ cluster: r.cluster, weight: 100 }], timeoutMs: r.timeoutMs ?? 0, retry: r.retry ?? NO_RETRY, mirrors: r.mirrors ?? [], ...(r.fault ? { fault: r.fault } : {}) },
            origin: { resource: "t", ruleIndex: 0, matchIndex: -1 },
          })),
        })),
      },
    ],
    clusters: clusters.map((c) => ({ name: c.name, direction: "outbound", discovery: "eds", protocol: c.protocol ?? "http1", lb: { policy: "ROUND_ROBIN" }, connectionPool: {}, ...(c.tls ? { tls: c.tls } : {}) })),
    endpoints: Object.fromEntries(clusters.map((c) => [c.name, c.ports.map((port) => ({ address: "127.0.0.1", port, weight: 1, labels: {}, healthy: true }))])),
  };
}
