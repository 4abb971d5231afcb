// The global `ratelimit` filter in a running sidecar, real sockets and a real `amime
// ratelimit-service` process: a route's `rate_limits` (PATH = :path) send a descriptor to the
// service through the sidecar's own HTTP/2 cluster; 2 per day pass, the 3rd is 429 with
// x-envoy-ratelimited, the x-ratelimit-* headers and flag RL; a gRPC client gets RESOURCE_EXHAUSTED
// (rate_limited_as_resource_exhausted); a route without rate_limits never calls the service; the
// counters are Envoy's. Then the service is stopped: failure_mode_deny false lets requests through
// (error, failure_mode_allowed), true answers 500 with flag RLSE; a service that never answers
// costs the request the filter's timeout, no more.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect as h2connect } from "node:http2";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { formatResponseFlags } from "../../src/proxy/request/response-flags.ts";
import { startService, type ServiceProcess } from "../ratelimit/harness.ts";
import { forward, proxyConfig, route, send, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const catchAll = { headers: [], queryParams: [], ignoreUriCase: false };
const PATH_POLICY = [{ stage: 0, actions: [{ kind: "request_headers", headerName: ":path", descriptorKey: "PATH", skipIfAbsent: false }] }];
// Per day: a fixed window the test does not cross (the service counts in windows of the unit).
const SERVICE_CONFIG = `domain: ratelimit
descriptors:
  - key: PATH
    value: /limited
    rate_limit: { unit: day, requests_per_unit: 2 }
  - key: PATH
    value: /grpc
    rate_limit: { unit: day, requests_per_unit: 1 }
`;

function filterConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { domain: "ratelimit", stage: 0, failureModeDeny: false, timeoutMs: 5000, rateLimitedAsResourceExhausted: true, xRateLimitHeaders: true, cluster: "rls", ...over };
}

function config(version: string, upstreamPort: number, rlsPort: number, filter: Record<string, unknown>): Record<string, unknown> {
  const limits = { rateLimits: { route: PATH_POLICY, virtualHost: [] } };
  const c = proxyConfig({
    version,
    virtualHosts: [{ domains: ["svc"], routes: [route("limited", { ...catchAll, uri: { prefix: "/limited" } }, forward("c1"), limits), route("grpc", { ...catchAll, uri: { prefix: "/grpc" } }, forward("c1"), limits), route("post", { ...catchAll, uri: { prefix: "/post" } }, forward("c1"), { rateLimits: { route: [{ stage: 0, actions: [{ kind: "generic_key", descriptorKey: "generic_key", descriptorValue: "unlimited" }] }], virtualHost: [] } }), route("rest", catchAll, forward("c1"))] }],
    clusters: [{ name: "c1", endpoints: [{ port: upstreamPort }] }, { name: "rls", endpoints: [{ port: rlsPort }] }],
  }) as { listeners: Record<string, unknown>[]; clusters: Record<string, unknown>[] };
  c.listeners[0]!.httpFilters = [{ name: "ratelimit", config: filter }, { name: "router" }];
  c.clusters.find((x) => x.name === "rls")!.protocol = "http2";
  return c;
}

async function stats(p: RunningProxy): Promise<Record<string, number>> {
  const r = await send(p.sidecar.adminPort as number, { path: "/stats", host: "admin" });
  return Object.fromEntries(r.body.trim().split("\n").map((l) => [l.slice(0, l.lastIndexOf(":")), Number(l.slice(l.lastIndexOf(":") + 1))]));
}

function counters(s: Record<string, number>): number[] {
  return ["ok", "over_limit", "error", "failure_mode_allowed"].map((k) => s[`cluster.c1.ratelimit.${k}`] ?? 0);
}

describe("the global ratelimit filter in a running sidecar", { timeout: 60_000 }, () => {
  let up: Upstream;
  let rls: ServiceProcess;
  let proxy: RunningProxy;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "amime-rl-"));
    writeFileSync(join(dir, "config.yaml"), SERVICE_CONFIG);
    up = await startUpstream("v1");
    rls = await startService(["--config", join(dir, "config.yaml"), "--store", "memory"]);
    proxy = await startProxy(config("1", up.port, rls.grpcPort, filterConfig()), { adminPort: 0 });
  });
  after(async () => {
    await proxy.close();
    await rls.stop();
    await up.close();
  });

  it("2 requests pass, the 3rd is 429 with x-envoy-ratelimited and the x-ratelimit-* headers, flag RL", async () => {
    assert.deepEqual([(await send(proxy.port, { path: "/limited" })).status, (await send(proxy.port, { path: "/limited" })).status], [200, 200]);
    const limited = await send(proxy.port, { path: "/limited" });
    assert.equal(limited.status, 429);
    assert.equal(limited.body, "");
    assert.equal(limited.headers["x-envoy-ratelimited"], "true");
    assert.equal(limited.headers["x-ratelimit-limit"], "2, 2;w=86400");
    assert.equal(limited.headers["x-ratelimit-remaining"], "0");
    assert.match(String(limited.headers["x-ratelimit-reset"]), /^\d+$/);
    assert.ok(Number(limited.headers["x-ratelimit-reset"]) <= 86400);
    assert.equal(up.requests.length, 2);
    assert.equal(formatResponseFlags(proxy.records.find((r) => r.status === 429)!.flags), "RL");
  });

  it("a route without rate_limits is not limited and does not call the service", async () => {
    for (let i = 0; i < 4; i++) assert.equal((await send(proxy.port, { path: "/other" })).status, 200);
    assert.deepEqual(counters(await stats(proxy)), [2, 1, 0, 0]);
  });

  it("a request body that arrives while the request waits for the service reaches the upstream whole", async () => {
    // A descriptor the service has no limit for: OK, after a round trip.
    const body = Buffer.alloc(300 * 1024, "x");
    const r = await send(proxy.port, { method: "POST", path: "/post", body, headers: { "content-type": "application/octet-stream" } });
    assert.equal(r.status, 200);
    const got = up.requests.at(-1)!;
    assert.equal(got.url, "/post");
    assert.equal(got.body.length, body.length);
  });

  it("a gRPC client over the limit gets RESOURCE_EXHAUSTED (rate_limited_as_resource_exhausted)", async () => {
    const client = h2connect(`http://127.0.0.1:${proxy.port}`);
    try {
      const call = (): Promise<Record<string, unknown>> =>
        new Promise((resolve, reject) => {
          const req = client.request({ ":method": "POST", ":path": "/grpc", ":authority": "svc", "content-type": "application/grpc", te: "trailers" });
          req.on("response", (h) => resolve(h as Record<string, unknown>));
          req.on("error", reject);
          req.resume();
          req.end(Buffer.from([0, 0, 0, 0, 0]));
        });
      // The first of the day passes (1 per day); the second is limited.
      await call();
      const head = await call();
      assert.equal(head[":status"], 200);
      assert.equal(head["grpc-status"], "8");
      assert.equal(head["x-envoy-ratelimited"], "true");
    } finally {
      client.close();
    }
  });

  it("the service stopped, failure_mode_deny false: requests pass, counted error and failure_mode_allowed", async () => {
    await rls.stop();
    const before = counters(await stats(proxy));
    assert.equal((await send(proxy.port, { path: "/limited" })).status, 200);
    const now = counters(await stats(proxy));
    assert.deepEqual([now[2]! - before[2]!, now[3]! - before[3]!], [1, 1]);
  });

  it("failure_mode_deny true: 500 with flag RLSE", async () => {
    const r = await proxy.sidecar.applyConfig(config("2", up.port, rls.grpcPort, filterConfig({ failureModeDeny: true })));
    assert.equal(r.ok, true, r.ok ? "" : r.error);
    const before = up.requests.length;
    const denied = await send(proxy.port, { path: "/limited" });
    assert.equal(denied.status, 500);
    assert.equal(formatResponseFlags(proxy.records.at(-1)!.flags), "RLSE");
    assert.equal(up.requests.length, before);
  });

  it("a service that accepts but never answers: the request waits the timeout, then fails per the failure mode", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const r = await proxy.sidecar.applyConfig(config("3", up.port, port, filterConfig({ timeoutMs: 200 })));
      assert.equal(r.ok, true, r.ok ? "" : r.error);
      const res = await send(proxy.port, { path: "/limited" });
      assert.equal(res.status, 200);
      assert.ok(sockets.length > 0, "the sidecar dialed the service's endpoint");
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it("a bad config is NACKed with its field path", async () => {
    const r = await proxy.sidecar.applyConfig(config("4", up.port, 1, filterConfig({ domain: "" })));
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, /^listeners\[0\]\.httpFilters\[0\]\.config: domain: required/);
    const bad = config("5", up.port, 1, filterConfig()) as { routes: { virtualHosts: { routes: { rateLimits?: unknown }[] }[] }[] };
    bad.routes[0]!.virtualHosts[0]!.routes[0]!.rateLimits = { route: [{ stage: 0, actions: [{ kind: "header_value_match", descriptorKey: "k", descriptorValue: "v", expectMatch: true, headers: [{ name: "x", invert: false, match: { regex: "(" } }] }] }], virtualHost: [] };
    const r2 = await proxy.sidecar.applyConfig(bad);
    assert.equal(r2.ok, false);
    assert.match(r2.ok ? "" : r2.error, /^routes\[0\]\.virtualHosts\[0\]\.routes\[0\]\.rateLimits\.route\[0\]\.actions\[0\]\.headers: /);
  });
});
