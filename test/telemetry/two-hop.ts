// Two sidecars on loopback, as in a real mesh hop: the app's request enters the client sidecar's
// outbound listener (productpage-v1), goes to the server sidecar's inbound listener (reviews-v2)
// and from there to the app upstream. Both have telemetry on (metrics listener on port 0).
import { get } from "node:http";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import type { TelemetryConfig } from "../../src/model/proxy-config.ts";
import { seededRandom } from "../../src/core/random.ts";
import { parsePrometheusText } from "../../src/control-plane/telemetry/prometheus-parse.ts";
import { waitFor } from "../support/wait.ts";
import { startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";

type Obj = Record<string, unknown>;
const NO_RETRY = { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: true };
export const REVIEWS = { host: "reviews.default.svc.cluster.local", name: "reviews", namespace: "default", port: 9080 };

export function serverConfig(appPort: number, telemetry: TelemetryConfig): Obj {
  return {
    version: "7",
    node: { id: "sidecar~reviews-v2-0.default", kind: "sidecar", workload: "reviews-v2", namespace: "default", labels: { app: "reviews", version: "v2" }, serviceAccount: "bookinfo-reviews", trustDomain: "cluster.local", ip: "127.0.0.1" },
    listeners: [{ name: "inbound|9080", direction: "inbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "inbound" }],
    routes: [{ name: "inbound", virtualHosts: [{ name: "inbound|http|*", domains: ["*"], routes: [{ name: "inbound|9080||", match: {}, action: { kind: "forward", clusters: [{ cluster: "inbound|9080||", weight: 100 }], timeoutMs: 0, retry: NO_RETRY, mirrors: [] } }] }] }],
    clusters: [{ name: "inbound|9080||", direction: "inbound", discovery: "eds", service: REVIEWS, protocol: "http1", lb: { policy: "ROUND_ROBIN" }, connectionPool: {} }],
    endpoints: { "inbound|9080||": [{ address: "127.0.0.1", port: appPort, weight: 1, labels: { app: "reviews", version: "v2" }, healthy: true }] },
    telemetry,
  };
}

export function clientConfig(serverPort: number, telemetry: TelemetryConfig, extraRoutes: Obj[] = []): Obj {
  const cluster = "outbound|9080|v2|reviews.default.svc.cluster.local";
  return {
    version: "3",
    node: { id: "sidecar~productpage-v1-0.default", kind: "sidecar", workload: "productpage-v1", namespace: "default", labels: { app: "productpage", version: "v1" }, serviceAccount: "bookinfo-productpage", trustDomain: "cluster.local", ip: "127.0.0.1" },
    listeners: [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "outbound" }],
    routes: [
      {
        name: "outbound",
        virtualHosts: [
          {
            name: "reviews.default.svc.cluster.local:9080",
            domains: ["reviews", "reviews:9080", "reviews.default.svc.cluster.local:9080"],
            routes: [...extraRoutes, { name: "default", match: { uri: { prefix: "/" } }, action: { kind: "forward", clusters: [{ cluster, weight: 100 }], timeoutMs: 0, retry: NO_RETRY, mirrors: [] } }],
          },
        ],
      },
    ],
    clusters: [{ name: cluster, direction: "outbound", discovery: "eds", service: REVIEWS, subset: "v2", protocol: "http1", lb: { policy: "ROUND_ROBIN" }, connectionPool: {} }],
    endpoints: { [cluster]: [{ address: "127.0.0.1", port: serverPort, weight: 1, labels: { app: "reviews", version: "v2" }, healthy: true, workload: "reviews-v2-0" }] },
    telemetry,
  };
}

export interface TwoHop {
  client: Sidecar;
  server: Sidecar;
  clientPort: number;
  close(): Promise<void>;
}

export async function startTwoHop(appPort: number, telemetry: TelemetryConfig, seed = 1, extraRoutes: Obj[] = []): Promise<TwoHop> {
  const server = await Sidecar.start(serverConfig(appPort, telemetry), { random: seededRandom(seed) });
  const serverPort = server.ports()["inbound|9080"] as number;
  const client = await Sidecar.start(clientConfig(serverPort, telemetry, extraRoutes), { random: seededRandom(seed + 1) });
  return {
    client,
    server,
    clientPort: client.ports().outbound as number,
    close: async () => {
      await client.close(100);
      await server.close(100);
    },
  };
}

export function fetchText(url: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

export function scrape(s: Sidecar): Promise<string> {
  const port = s.telemetry?.metricsPort;
  if (port === undefined || port === 0) throw new Error("no metrics listener");
  return fetchText(`http://127.0.0.1:${port}/stats/prometheus`).then((r) => r.body);
}

/** The sum of `istio_requests_total` over every series a sidecar exports (0 before any request). */
export async function requestsCounted(s: Sidecar): Promise<number> {
  let n = 0;
  for (const f of parsePrometheusText(await scrape(s)).values()) for (const x of f.samples) if (x.name === "istio_requests_total") n += x.value;
  return n;
}

/** Requests counted so far by each sidecar of the two-hop mesh. */
export async function counts(mesh: TwoHop): Promise<{ client: number; server: number }> {
  return { client: await requestsCounted(mesh.client), server: await requestsCounted(mesh.server) };
}

/**
 * Wait until both sidecars have counted `more` requests beyond `from` (telemetry is recorded off
 * the request path, so the count may trail the client's last response by a moment).
 */
export function untilCounted(mesh: TwoHop, from: { client: number; server: number }, more: number): Promise<true> {
  return waitFor(async () => {
    const now = await counts(mesh);
    return now.client === from.client + more && now.server === from.server + more;
  }, { what: `both sidecars to count ${more} more requests` });
}

/** The app behind the sidecars in the exporter tests: 418 for /teapot, 404 for /missing, else 200 "ok". */
export function startStatusApp(): Promise<Upstream> {
  return startUpstream("reviews", (req, res) => {
    res.statusCode = req.url === "/teapot" ? 418 : req.url === "/missing" ? 404 : 200;
    res.end("ok");
  });
}
