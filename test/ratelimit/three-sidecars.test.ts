// One global limit held across proxies: three running sidecars, each with the `ratelimit` filter
// on its listener, share one limit of N per minute through two `amime ratelimit-service`
// replicas (the sidecars' cluster balances over both) counting in one real redis-server. Under
// concurrent load on all three sidecars, N requests pass in the window (±2 %, the bound;
// fixed windows in Redis make it exact) and the rest are 429 with x-envoy-ratelimited.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { unusedPort } from "../support/ports.ts";
import { forward, proxyConfig, route, send, startProxy, startUpstream, type RunningProxy, type Upstream } from "../proxy/sidecar-harness.ts";
import { awayFromWindowEnd, RedisServer, startService, type ServiceProcess } from "./harness.ts";

const N = 150;
const PER_SIDECAR = 100;
const CONCURRENCY = 16;
const catchAll = { headers: [], queryParams: [], ignoreUriCase: false };

function config(id: number, upstreamPort: number, rlsPorts: number[]): Record<string, unknown> {
  const limits = { rateLimits: { route: [{ stage: 0, actions: [{ kind: "generic_key", descriptorKey: "generic_key", descriptorValue: "shared" }] }], virtualHost: [] } };
  const c = proxyConfig({
    version: "1",
    virtualHosts: [{ domains: ["svc"], routes: [route("all", catchAll, forward("c1"), limits)] }],
    clusters: [{ name: "c1", endpoints: [{ port: upstreamPort }] }, { name: "rls", endpoints: rlsPorts.map((port) => ({ port })) }],
  }) as { node: { id: string }; listeners: Record<string, unknown>[]; clusters: Record<string, unknown>[] };
  c.node.id = `sidecar~test-${id}`;
  c.listeners[0]!.httpFilters = [{ name: "ratelimit", config: { domain: "shared", stage: 0, failureModeDeny: true, timeoutMs: 5000, rateLimitedAsResourceExhausted: false, xRateLimitHeaders: false, cluster: "rls" } }, { name: "router" }];
  c.clusters.find((x) => x.name === "rls")!.protocol = "http2";
  return c;
}

describe("three sidecars behind one global limit", { timeout: 150_000 }, () => {
  let redis: RedisServer;
  const services: ServiceProcess[] = [];
  const proxies: RunningProxy[] = [];
  let up: Upstream;
  before(async () => {
    redis = new RedisServer(await unusedPort());
    await redis.start();
    const dir = mkdtempSync(join(tmpdir(), "amime-rl3-"));
    writeFileSync(join(dir, "config.yaml"), `domain: shared\ndescriptors:\n  - key: generic_key\n    value: shared\n    rate_limit: { unit: minute, requests_per_unit: ${N} }\n`);
    for (let i = 0; i < 2; i++) services.push(await startService(["--config", join(dir, "config.yaml"), "--store", `redis://127.0.0.1:${redis.port}`]));
    up = await startUpstream("v1");
    for (let i = 0; i < 3; i++) proxies.push(await startProxy(config(i, up.port, services.map((s) => s.grpcPort)), { adminPort: 0 }));
  });
  after(async () => {
    for (const p of proxies) await p.close();
    for (const s of services) await s.stop();
    await up?.close();
    await redis?.kill();
  });

  it(`${3 * PER_SIDECAR} concurrent requests over three sidecars: ${N} pass (±2 %), the rest are 429`, async () => {
    await awayFromWindowEnd(60_000, 20_000);
    const window = Math.floor(Date.now() / 60_000);
    const statuses: number[] = [];
    const limited: (string | string[] | undefined)[] = [];
    await Promise.all(
      proxies.map(async (p) => {
        let left = PER_SIDECAR;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (left > 0) {
              left--;
              const r = await send(p.port, { path: "/x" });
              statuses.push(r.status);
              if (r.status === 429) limited.push(r.headers["x-envoy-ratelimited"]);
            }
          }),
        );
      }),
    );
    assert.equal(Math.floor(Date.now() / 60_000), window, "the burst stayed in one window");
    const passed = statuses.filter((s) => s === 200).length;
    assert.equal(statuses.length, 3 * PER_SIDECAR);
    assert.ok(Math.abs(passed - N) <= Math.ceil(N * 0.02), `${passed} passed, limit ${N}`);
    assert.equal(passed + limited.length, statuses.length, `statuses: ${[...new Set(statuses)].join(", ")}`);
    assert.ok(limited.every((h) => h === "true"));
    assert.equal(up.requests.length, passed);
    // Every sidecar both passed and limited requests: the limit is shared, not per proxy.
    for (const p of proxies) assert.ok(p.records.some((r) => r.status === 200) && p.records.some((r) => r.status === 429));
  });
});
