// Sidecar routing end to end on real sockets: virtual hosts, header matches, weighted splits,
// no route, redirects, rewrites, direct responses, CORS preflight, header edits, standard headers.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { seededRandom } from "../../src/core/random.ts";
import { formatResponseFlags } from "../../src/proxy/request/response-flags.ts";
import { forward, proxyConfig, route, send, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

describe("sidecar routing", () => {
  let v1: Upstream;
  let v2: Upstream;
  let other: Upstream;
  let proxy: RunningProxy;

  before(async () => {
    v1 = await startUpstream("v1");
    v2 = await startUpstream("v2");
    other = await startUpstream("other");
    const config = proxyConfig({
      clusters: [
        { name: "reviews-v1", endpoints: [{ port: v1.port }] },
        { name: "reviews-v2", endpoints: [{ port: v2.port }] },
        { name: "other", endpoints: [{ port: other.port }] },
      ],
      virtualHosts: [
        {
          domains: ["reviews", "reviews:9080"],
          cors: { allowOrigins: [{ exact: "https://app.example" }], allowMethods: ["GET", "POST"], allowHeaders: ["x-custom"], exposeHeaders: ["x-upstream"], maxAgeSeconds: 60, unmatchedPreflights: "FORWARD" },
          routes: [
            route("jason", { headers: [{ name: "end-user", match: { exact: "jason" }, invert: false }] }, forward("reviews-v2")),
            route("split", { uri: { prefix: "/split" } }, forward([{ cluster: "reviews-v1", weight: 20 }, { cluster: "reviews-v2", weight: 80 }])),
            route("moved", { uri: { prefix: "/old" } }, { kind: "redirect", prefixRewrite: "/new", code: 302 }),
            route("direct", { uri: { exact: "/healthz" } }, { kind: "direct", status: 418, body: "short and stout" }),
            route("rewrite", { uri: { prefix: "/api/" } }, forward("reviews-v1", { rewrite: { uri: "/v2/", authority: "reviews.internal" } })),
            route(
              "edits",
              { uri: { prefix: "/edits" } },
              forward([{ cluster: "reviews-v1", weight: 1, headers: { request: { set: { "x-dest": "v1" }, add: {}, remove: [] } } }]),
              {
                headers: {
                  request: { set: { "x-route": "edits" }, add: { "x-added": "yes" }, remove: ["x-secret"] },
                  response: { set: { "x-resp": "set" }, add: {}, remove: ["x-upstream"] },
                },
              },
            ),
            route("default", { uri: { prefix: "/" } }, forward("reviews-v1")),
          ],
        },
        { domains: ["other.default.svc.cluster.local"], routes: [route("all", {}, forward("other"))] },
      ],
    });
    // Seeded: the weighted split below is counted, and an unseeded run falls outside its band with
    // probability 2.6 × 10⁻⁶.
    proxy = await startProxy(config, { random: seededRandom(20) });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([v1.close(), v2.close(), other.close()]);
  });

  it("selects the virtual host by Host and the route by header", async () => {
    assert.match((await send(proxy.port, { host: "reviews:9080", path: "/r" })).body, /^v1 GET \/r/);
    assert.match((await send(proxy.port, { host: "reviews", path: "/r", headers: { "end-user": "jason" } })).body, /^v2 GET \/r/);
    assert.match((await send(proxy.port, { host: "other.default.svc.cluster.local", path: "/o" })).body, /^other GET \/o/);
    const rec = proxy.records.at(-1);
    assert.equal(rec?.cluster, "other");
    assert.equal(rec?.routeName, "all");
    assert.equal(rec?.status, 200);
  });

  it("answers 404 with flag NR when no virtual host or route matches", async () => {
    const r = await send(proxy.port, { host: "nobody.example", path: "/" });
    assert.equal(r.status, 404);
    assert.equal(formatResponseFlags(proxy.records.at(-1)?.flags ?? 0), "NR");
  });

  it("splits traffic by weight", async () => {
    const before1 = v1.requests.length;
    const before2 = v2.requests.length;
    const n = 200;
    for (let i = 0; i < n; i++) await send(proxy.port, { host: "reviews", path: "/split" });
    const to1 = v1.requests.length - before1;
    const to2 = v2.requests.length - before2;
    assert.equal(to1 + to2, n);
    // 20 % of 200 = 40; a 5σ band (σ ≈ 5.7): a correct picker passes on any seed but 1 in 390,000.
    assert.ok(to1 > 12 && to1 < 68, `v1 got ${to1} of ${n}`);
  });

  it("redirects, rewrites and answers directly", async () => {
    const r = await send(proxy.port, { host: "reviews", path: "/old/page?q=1" });
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, "http://reviews/new/page?q=1");

    const d = await send(proxy.port, { host: "reviews", path: "/healthz" });
    assert.equal(d.status, 418);
    assert.equal(d.body, "short and stout");

    const w = await send(proxy.port, { host: "reviews", path: "/api/items?x=1" });
    assert.equal(w.status, 200);
    const got = v1.requests.at(-1);
    assert.equal(got?.url, "/v2/items?x=1");
    assert.equal(got?.headers.host, "reviews.internal");
  });

  it("answers CORS preflights and adds CORS headers to allowed origins", async () => {
    const pre = await send(proxy.port, {
      method: "OPTIONS",
      host: "reviews",
      path: "/r",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(pre.headers["access-control-allow-methods"], "GET,POST");
    assert.equal(pre.headers["access-control-max-age"], "60");
    const actual = await send(proxy.port, { host: "reviews", path: "/r", headers: { origin: "https://app.example" } });
    assert.equal(actual.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(actual.headers["access-control-expose-headers"], "x-upstream");
    const foreign = await send(proxy.port, { host: "reviews", path: "/r", headers: { origin: "https://evil.example" } });
    assert.equal(foreign.headers["access-control-allow-origin"], undefined);
  });

  it("applies request and response header edits of the destination and the route", async () => {
    const r = await send(proxy.port, { host: "reviews", path: "/edits", headers: { "x-secret": "s3", "x-route": "client" } });
    assert.equal(r.status, 200);
    const got = v1.requests.at(-1);
    assert.equal(got?.headers["x-secret"], undefined);
    assert.equal(got?.headers["x-route"], "edits");
    assert.equal(got?.headers["x-added"], "yes");
    assert.equal(got?.headers["x-dest"], "v1");
    assert.equal(r.headers["x-resp"], "set");
    assert.equal(r.headers["x-upstream"], undefined);
  });

  it("adds x-request-id when absent, keeps it when present, appends x-forwarded-for", async () => {
    const r = await send(proxy.port, { host: "reviews", path: "/id" });
    assert.equal(r.status, 200);
    const a = v1.requests.at(-1);
    assert.match(String(a?.headers["x-request-id"]), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(a?.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(a?.headers["x-forwarded-proto"], "http");
    assert.equal(a?.headers["x-envoy-attempt-count"], "1");
    assert.ok(r.headers["x-envoy-upstream-service-time"] !== undefined);
    assert.equal(proxy.records.at(-1)?.requestId, a?.headers["x-request-id"]);

    await send(proxy.port, { host: "reviews", path: "/id", headers: { "x-request-id": "given-id", "x-forwarded-for": "10.0.0.1" } });
    const b = v1.requests.at(-1);
    assert.equal(b?.headers["x-request-id"], "given-id");
    assert.equal(b?.headers["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
  });

  it("acts as an HTTP proxy for absolute-form requests", async () => {
    const r = await send(proxy.port, { host: "ignored", path: "http://other.default.svc.cluster.local/abs?x=1" });
    assert.equal(r.status, 200);
    assert.match(r.body, /^other GET \/abs\?x=1/);
  });
});
