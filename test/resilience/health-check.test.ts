// Active health checks end to end: the amime.dev/health-check annotation (on a DestinationRule for
// HTTP, on the Service for TCP) goes through validation-free translation into the client
// sidecar's cluster; the sidecar probes three real upstreams; a host whose check fails stops
// getting traffic and comes back once it passes again. Admin /clusters and /stats show it.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, it } from "node:test";
import { waitFor } from "../support/wait.ts";
import { clientConfig, get, instance, resources, startSidecar, stats, type Proxy } from "./harness.ts";

const CLUSTER = "outbound|8000||web.default.svc.cluster.local";

interface App {
  name: string;
  port: number;
  server: Server;
  /** Status /health answers. */
  health: number;
  /** Non-health requests served. */
  served: number;
  healthChecks: number;
  lastHealthHost: string;
  listen(port?: number): Promise<void>;
  stop(): Promise<void>;
}

async function app(name: string): Promise<App> {
  const a: App = {
    name,
    port: 0,
    health: 200,
    served: 0,
    healthChecks: 0,
    lastHealthHost: "",
    server: createServer((req, res) => {
      if (req.url === "/health") {
        a.healthChecks++;
        a.lastHealthHost = req.headers.host ?? "";
        res.statusCode = a.health;
        res.end();
        return;
      }
      a.served++;
      res.end(name);
    }),
    listen: (port = 0) => new Promise<void>((r) => a.server.listen(port, "127.0.0.1", () => ((a.port = (a.server.address() as AddressInfo).port), r()))),
    stop: () =>
      new Promise<void>((r) => {
        a.server.closeAllConnections();
        a.server.close(() => r());
      }),
  };
  await a.listen();
  return a;
}

const service = (annotation = ""): string => `
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
${annotation}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 8000, targetPort: 8080}
`;

/** Wait until `cond` holds (polling), or fail naming `what`. */
const until = (what: string, cond: () => boolean | Promise<boolean>): Promise<true> => waitFor(cond, { what });

describe("active health checks", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)();
  });

  const mesh = async (yaml: string): Promise<{ apps: App[]; p: Proxy }> => {
    const apps = [await app("a"), await app("b"), await app("c")];
    cleanups.push(async () => void (await Promise.all(apps.map((x) => x.stop()))));
    const cfg = clientConfig(resources([], [yaml]), apps.map((x, i) => instance(`web-${i}`, { app: "web" }, 8080, x.port)));
    const p = await startSidecar(cfg);
    cleanups.push(() => p.close());
    return { apps, p };
  };
  const hostState = async (p: Proxy, port: number): Promise<{ healthCheckFailed: boolean; healthy: boolean; healthCheckState?: { lastDetail: string } }> => {
    const body = JSON.parse((await get(p.adminPort, "admin", "/clusters")).body) as { clusters: { name: string; hosts: { port: number; healthCheckFailed: boolean; healthy: boolean }[] }[] };
    const h = body.clusters.find((c) => c.name === CLUSTER)?.hosts.find((x) => x.port === port);
    assert.ok(h, `host ${port} in /clusters`);
    return h;
  };
  /** Send n requests; which apps served them. */
  const spread = async (p: Proxy, apps: App[], n: number): Promise<Record<string, number>> => {
    const before = apps.map((x) => x.served);
    for (let i = 0; i < n; i++) assert.equal((await get(p.port, "web:8000", `/x${i}`)).status, 200);
    return Object.fromEntries(apps.map((x, i) => [x.name, x.served - (before[i] ?? 0)]));
  };

  it("HTTP: a host answering 503 on /health is taken out at once and returns after healthyThreshold passes", async () => {
    const annotation = '{"http":{"path":"/health"},"interval":"100ms","timeout":"100ms","unhealthyThreshold":3,"healthyThreshold":2}';
    const dr = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: web
  namespace: default
  annotations:
    amime.dev/health-check: '${annotation}'
spec:
  host: web
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
`;
    const { apps, p } = await mesh(service() + "---\n" + dr);
    const [a, b, c] = apps as [App, App, App];
    await until("first checks", () => apps.every((x) => x.healthChecks >= 1));
    assert.equal(b.lastHealthHost, "web.default.svc.cluster.local:8000");
    assert.deepEqual(await spread(p, apps, 9), { a: 3, b: 3, c: 3 });

    b.health = 503;
    await until("b taken out", async () => (await hostState(p, b.port)).healthCheckFailed);
    const checksAtFailure = b.healthChecks;
    assert.deepEqual(await spread(p, apps, 10), { a: 5, b: 0, c: 5 }, "no traffic to the failing host");
    assert.equal((await hostState(p, b.port)).healthy, false);
    assert.equal((await hostState(p, a.port)).healthy, true);

    b.health = 200;
    await until("b back", async () => !(await hostState(p, b.port)).healthCheckFailed);
    assert.ok(b.healthChecks - checksAtFailure >= 2, "healthyThreshold 2: at least two passing checks");
    const back = await spread(p, apps, 9);
    assert.equal(back.b, 3, `traffic reaches b again: ${JSON.stringify(back)}`);
    assert.ok(c.served > 0);
    const s = await stats(p.adminPort);
    assert.ok(Number(s.get(`cluster.${CLUSTER}.health_check.failure`)) >= 1);
    assert.equal(s.get(`cluster.${CLUSTER}.health_check.healthy`), "3");
  });

  it("TCP: a host that stops accepting connections is taken out after unhealthyThreshold failures and put back when it listens again", async () => {
    const annotation = '{"tcp":{},"interval":"100ms","timeout":"100ms","unhealthyThreshold":2,"healthyThreshold":1}';
    const { apps, p } = await mesh(service(`  annotations:\n    amime.dev/health-check: '${annotation}'`));
    const c = apps[2] as App;
    await until("a first passing check of each host", async () => Number((await stats(p.adminPort)).get(`cluster.${CLUSTER}.health_check.success`)) >= 3);
    assert.equal((await hostState(p, c.port)).healthCheckFailed, false);
    const port = c.port;
    await c.stop();
    await until("c taken out", async () => (await hostState(p, port)).healthCheckFailed);
    const out = await spread(p, apps, 10);
    assert.equal(out.c, 0);
    assert.equal(out.a! + out.b!, 10, "every request answered by a and b, no connect failures");
    assert.equal(p.records.filter((r) => r.flags.includes("UF")).length, 0);

    await c.listen(port);
    await until("c back", async () => !(await hostState(p, port)).healthCheckFailed);
    await until("c gets traffic", async () => (await spread(p, apps, 6)).c! > 0);
  });
});
