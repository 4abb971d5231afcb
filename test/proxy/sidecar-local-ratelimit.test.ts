// The local_ratelimit filter in a running sidecar, real sockets: Istio's task bucket (4 tokens per
// 60 s, x-local-rate-limit: true) on the listener lets 4 requests through and answers the 5th
// with Envoy's 429; an HTTP/2 client gets the same; the access record carries flag RL; the
// admin /stats page counts as Envoy does; a per-route bucket limits only its route.
import assert from "node:assert/strict";
import { connect } from "node:http2";
import { after, before, describe, it } from "node:test";
import { formatResponseFlags } from "../../src/proxy/request/response-flags.ts";
import { forward, proxyConfig, route, send, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const catchAll = { headers: [], queryParams: [], ignoreUriCase: false };
const TASK_BUCKET = {
  statPrefix: "http_local_rate_limiter",
  tokenBucket: { maxTokens: 4, tokensPerFill: 4, fillIntervalMs: 60_000 },
  enabledPerMillion: 1_000_000,
  enforcedPerMillion: 1_000_000,
  responseHeadersToAdd: [{ key: "x-local-rate-limit", value: "true", append: false }],
  status: 429,
  xRateLimitHeaders: false,
};

function config(upstreamPort: number, listenerLevel: unknown, perRoute?: unknown): Record<string, unknown> {
  const limited = route("limited", { ...catchAll, uri: { prefix: "/limited" } }, forward("c1"), perRoute === undefined ? {} : { filterConfig: { local_ratelimit: perRoute } });
  const c = proxyConfig({
    version: "1",
    virtualHosts: [{ domains: ["svc"], routes: [limited, route("rest", catchAll, forward("c1"))] }],
    clusters: [{ name: "c1", endpoints: [{ port: upstreamPort }] }],
  }) as { listeners: Record<string, unknown>[] };
  c.listeners[0]!.httpFilters = [{ name: "local_ratelimit", config: listenerLevel }, { name: "router" }];
  return c;
}

async function stats(p: RunningProxy): Promise<Record<string, number>> {
  const r = await send(p.sidecar.adminPort as number, { path: "/stats", host: "admin" });
  return Object.fromEntries(r.body.trim().split("\n").map((l) => [l.slice(0, l.lastIndexOf(":")), Number(l.slice(l.lastIndexOf(":") + 1))]));
}

describe("local_ratelimit in a running sidecar", () => {
  let up: Upstream;
  let proxy: RunningProxy;
  before(async () => {
    up = await startUpstream("v1");
    proxy = await startProxy(config(up.port, TASK_BUCKET), { adminPort: 0 });
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  it("4 requests pass, the 5th (HTTP/1.1) and the 6th (HTTP/2) get 429 local_rate_limited, flag RL", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(proxy.port, { path: "/a" })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    const limited = await send(proxy.port, { path: "/a" });
    assert.equal(limited.status, 429);
    assert.equal(limited.body, "local_rate_limited");
    assert.equal(limited.headers["x-envoy-ratelimited"], "true");
    assert.equal(limited.headers["x-local-rate-limit"], "true");
    assert.equal(up.requests.length, 4);
    const rec = proxy.records.find((r) => r.status === 429);
    assert.equal(formatResponseFlags(rec!.flags), "RL");

    const client = connect(`http://127.0.0.1:${proxy.port}`);
    try {
      const h2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = client.request({ ":path": "/a", ":authority": "svc" });
        let status = 0;
        let body = "";
        req.on("response", (h) => (status = Number(h[":status"])));
        req.setEncoding("utf8").on("data", (c: string) => (body += c));
        req.on("end", () => resolve({ status, body }));
        req.on("error", reject);
        req.end();
      });
      assert.deepEqual(h2, { status: 429, body: "local_rate_limited" });
    } finally {
      client.close();
    }
  });

  it("the admin /stats page counts as Envoy: enabled, ok, rate_limited, enforced", async () => {
    const s = await stats(proxy);
    assert.deepEqual(
      ["enabled", "ok", "rate_limited", "enforced"].map((k) => s[`http_local_rate_limiter.http_local_rate_limit.${k}`]),
      [6, 4, 2, 2],
    );
  });

  it("a push that leaves the bucket's config unchanged does not refill it", async () => {
    const r = await proxy.sidecar.applyConfig({ ...config(up.port, TASK_BUCKET), version: "1b" });
    assert.equal(r.ok, true, r.ok ? "" : r.error);
    assert.equal(proxy.sidecar.config.version, "1b");
    assert.equal((await send(proxy.port, { path: "/a" })).status, 429);
  });

  it("a per-route bucket (the task's second variant) limits its route only", async () => {
    const { tokenBucket: _none, ...noBucket } = TASK_BUCKET;
    const r = await proxy.sidecar.applyConfig({ ...config(up.port, { ...noBucket, statPrefix: "listener" }, { ...TASK_BUCKET, statPrefix: "route", tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 60_000 } }), version: "2" });
    assert.equal(r.ok, true, r.ok ? "" : r.error);
    assert.deepEqual([(await send(proxy.port, { path: "/limited" })).status, (await send(proxy.port, { path: "/limited" })).status], [200, 429]);
    for (let i = 0; i < 6; i++) assert.equal((await send(proxy.port, { path: "/other" })).status, 200);
  });

  it("a bad bucket is NACKed with its field path; the running config keeps serving", async () => {
    const r = await proxy.sidecar.applyConfig({ ...config(up.port, { ...TASK_BUCKET, tokenBucket: { maxTokens: 4, tokensPerFill: 4, fillIntervalMs: 10 } }), version: "3" });
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, /^listeners\[0\]\.httpFilters\[0\]\.config: tokenBucket\.fillIntervalMs/);
    assert.equal(proxy.sidecar.config.version, "2");
  });
});
