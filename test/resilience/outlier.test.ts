// Outlier detection end to end: a DestinationRule's outlierDetection goes through translation into
// the client sidecar; three real endpoints; one (or more) start answering 500. Checks Envoy's
// behaviour as Istio configures it: ejection as soon as the consecutive-5xx threshold is reached,
// no traffic to an ejected host, return after baseEjectionTime (at the next interval sweep),
// maxEjectionPercent, and minHealthPercent (panic: serve every host) versus 503 UH when every
// host is ejected and panic is off. Real durations are small (interval 100 ms, base 500 ms).
import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, it } from "node:test";
import { waitFor } from "../support/wait.ts";
import { clientConfig, closeServer, get, instance, listen, resources, service, startSidecar, stats, type Proxy } from "./harness.ts";

const CLUSTER = "outbound|8000||web.default.svc.cluster.local";

interface App {
  name: string;
  port: number;
  status: number;
  served: number;
  server: Server;
}

async function app(name: string): Promise<App> {
  const a: App = {
    name,
    port: 0,
    status: 200,
    served: 0,
    server: createServer((_req, res) => {
      a.served++;
      res.statusCode = a.status;
      res.end(name);
    }),
  };
  a.port = await listen(a.server);
  return a;
}

const yaml = (outlier: string, extra = ""): string => `${service("web")}
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: default}
spec:
  host: web
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    outlierDetection: ${outlier}
${extra}`;

describe("outlier detection", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)();
  });

  const mesh = async (outlier: string, extra = "", ports?: (apps: App[]) => number[]): Promise<{ apps: [App, App, App]; p: Proxy }> => {
    const apps = [await app("a"), await app("b"), await app("c")] as [App, App, App];
    cleanups.push(async () => {
      for (const x of apps) await closeServer(x.server);
    });
    const at = ports?.(apps) ?? apps.map((x) => x.port);
    const p = await startSidecar(clientConfig(resources([], [yaml(outlier, extra)]), at.map((port, i) => instance(`web-${i}`, { app: "web" }, 8080, port))));
    cleanups.push(() => p.close());
    return { apps, p };
  };
  const outlierStat = async (p: Proxy, name: string): Promise<number> => Number((await stats(p.adminPort)).get(`cluster.${CLUSTER}.outlier_detection.${name}`));
  const ejected = (p: Proxy): string[] => {
    const c = p.sidecar.runtime.clusters.get(CLUSTER);
    assert.ok(c);
    return c.hostSet.hosts.filter((h) => h.outlierEjected).map((h) => String(h.port));
  };
  /** n requests; per app, how many it served. */
  const spread = async (p: Proxy, apps: App[], n: number): Promise<{ served: Record<string, number>; statuses: number[] }> => {
    const before = apps.map((x) => x.served);
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await get(p.port, "web:8000", `/r${i}`)).status);
    return { served: Object.fromEntries(apps.map((x, i) => [x.name, x.served - (before[i] ?? 0)])), statuses };
  };

  it("ejects a host on its 2nd consecutive 500, sends it nothing, and takes it back after baseEjectionTime", async () => {
    const { apps, p } = await mesh("{consecutive5xxErrors: 2, interval: 100ms, baseEjectionTime: 500ms, maxEjectionPercent: 100}");
    const [a, b, c] = apps;
    b.status = 500;
    // Its 2nd consecutive 500 ejects it right then (Envoy: on the response, not at a sweep).
    // `sentAt`: when the request that ejected it was sent, so no later than the ejection.
    let sentAt = 0;
    for (let i = 0; i < 9 && b.served < 2; i++) {
      assert.deepEqual(ejected(p), [], "not ejected before the threshold");
      sentAt = Date.now();
      await get(p.port, "web:8000", "/");
    }
    assert.equal(b.served, 2);
    assert.deepEqual(ejected(p), [String(b.port)]);
    assert.equal(await outlierStat(p, "ejections_enforced_consecutive_5xx"), 1);
    assert.equal(await outlierStat(p, "ejections_active"), 1);

    b.status = 200;
    const during = await spread(p, apps, 10);
    assert.equal(during.served.b, 0, "an ejected host gets no traffic");
    assert.deepEqual(during.statuses, Array(10).fill(200));
    assert.equal(during.served.a! + during.served.c!, 10);

    // Back at the first sweep at least baseEjectionTime (500 ms) after the ejection: seen no
    // earlier than 500 ms after the request that caused it (timers never fire early; 10 ms for
    // the event loop's coarse clock).
    await waitFor(() => ejected(p).length === 0, { what: "the ejected host to return after baseEjectionTime" });
    assert.ok(Date.now() - sentAt >= 490, `not before baseEjectionTime (${Date.now() - sentAt} ms)`);
    const after = await spread(p, apps, 6);
    assert.deepEqual(after.served, { a: 2, b: 2, c: 2 });
    assert.ok(a.served > 0 && c.served > 0);
    assert.equal(await outlierStat(p, "ejections_active"), 0);
  });

  it("connect failures and timeouts count as errors (local origin, no split): both broken hosts are ejected", async () => {
    const vs = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [web]
  http:
  - timeout: 150ms
    retries: {attempts: 0}
    route:
    - destination: {host: web}
`;
    // b's address refuses connections (closed port); c accepts and never answers.
    const closed = createServer();
    const closedPort = await listen(closed);
    await closeServer(closed);
    const hung: ServerResponse[] = [];
    const { apps, p } = await mesh("{consecutive5xxErrors: 2, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100}", vs, (xs) => [xs[0]!.port, closedPort, xs[2]!.port]);
    const [a, , c] = apps;
    c.server.removeAllListeners("request");
    c.server.on("request", (_req, res) => void hung.push(res));
    cleanups.push(async () => void hung.forEach((r) => r.destroy()));
    const statuses: number[] = [];
    for (let i = 0; i < 12 && ejected(p).length < 2; i++) statuses.push((await get(p.port, "web:8000", "/")).status);
    assert.deepEqual(ejected(p).sort(), [String(closedPort), String(c.port)].sort());
    assert.ok(statuses.includes(503) && statuses.includes(504), `UF and UT seen: ${statuses.join(",")}`);
    const r = await spread(p, apps, 5);
    assert.deepEqual(r.statuses, Array(5).fill(200));
    assert.equal(r.served.a, 5);
    assert.ok(a.served > 0);
  });

  it("maxEjectionPercent caps ejections: with 3 hosts and 34 %, only one of two failing hosts is ejected", async () => {
    const { apps, p } = await mesh("{consecutive5xxErrors: 1, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 34}");
    const [a, b, c] = apps;
    b.status = 500;
    c.status = 500;
    await spread(p, apps, 6);
    const out = ejected(p);
    assert.equal(out.length, 1, "the first failing host is ejected; ejecting the second would make 66 % > 34 %");
    assert.ok(out[0] === String(b.port) || out[0] === String(c.port));
    assert.ok((await outlierStat(p, "ejections_overflow")) >= 1);
    const [gone, kept] = out[0] === String(b.port) ? ["b", "c"] : ["c", "b"];
    const r = await spread(p, apps, 10);
    assert.equal(r.served[gone], 0);
    assert.ok(r.served[kept]! > 0, "the other failing host keeps traffic: the cap kept it in");
    assert.ok(a.served > 0);
  });

  it("with every host failing: minHealthPercent 50 → panic, every host still served; minHealthPercent 0 → 503 UH at once", async () => {
    const panic = await mesh("{consecutive5xxErrors: 1, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100, minHealthPercent: 50}");
    for (const x of panic.apps) x.status = 500;
    await spread(panic.p, panic.apps, 6);
    assert.equal(ejected(panic.p).length, 3, "maxEjectionPercent 100 lets all three go");
    const served = await spread(panic.p, panic.apps, 9);
    assert.deepEqual(served.served, { a: 3, b: 3, c: 3 }, "panic: load is spread over all hosts, ejected or not");
    assert.deepEqual(served.statuses, Array(9).fill(500), "the upstreams' own answers, not UH");
    assert.equal(panic.p.records.filter((r) => r.flags.includes("UH")).length, 0);

    const strict = await mesh("{consecutive5xxErrors: 1, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100, minHealthPercent: 0}");
    for (const x of strict.apps) x.status = 500;
    await spread(strict.p, strict.apps, 3);
    assert.equal(ejected(strict.p).length, 3);
    const before = strict.apps.map((x) => x.served);
    const r = await get(strict.p.port, "web:8000", "/");
    assert.equal(r.status, 503);
    assert.equal(r.body, "no healthy upstream");
    assert.equal(strict.p.records.at(-1)?.flags, "UH");
    // At once: no upstream was tried (a stopwatch bound would only measure the machine).
    assert.deepEqual(strict.apps.map((x) => x.served), before, "nothing reached an upstream");
  });
});
