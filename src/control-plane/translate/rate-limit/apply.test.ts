import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { ProxyConfig } from "../../../model/proxy-config.ts";
import { translate } from "../index.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "../testing.ts";
import { appliedPatches } from "../../../config/envoy-filter/applied-patches.ts";

// Istio's task, unchanged: its EnvoyFilter documents by metadata.name (the two local steps share one name).
const TASK = readFileSync("test/fixtures/istio/istio.io-tasks/policy-enforcement/rate-limit.yaml", "utf8").split(/\n---\n/).filter((d) => /kind: EnvoyFilter/.test(d));
const LOCAL_STEP_2 = TASK.find((d) => d.includes("snip_local_rate_limit_2"))!;
const LOCAL_STEP_3 = TASK.find((d) => d.includes("snip_local_rate_limit_3"))!;
const TASK_ALL = readFileSync("test/fixtures/istio/istio.io-tasks/policy-enforcement/rate-limit.yaml", "utf8").split(/\n---\n/);
const GLOBAL = TASK.filter((d) => !d.includes("local_ratelimit")).join("\n---\n");

const BUCKET = {
  statPrefix: "http_local_rate_limiter",
  tokenBucket: { maxTokens: 4, tokensPerFill: 4, fillIntervalMs: 60000 },
  enabledPerMillion: 1_000_000,
  enforcedPerMillion: 1_000_000,
  responseHeadersToAdd: [{ key: "x-local-rate-limit", value: "true", append: false }],
  status: 429,
  xRateLimitHeaders: false,
};
const NO_BUCKET = { statPrefix: "http_local_rate_limiter", enabledPerMillion: 0, enforcedPerMillion: 0, responseHeadersToAdd: [], status: 429, xRateLimitHeaders: false };

const ef = (ns: string, name: string, spec: unknown): string => JSON.stringify({ apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: { name, namespace: ns }, spec });
const localPatch = (context: string, extra: object = {}): object => ({
  applyTo: "HTTP_FILTER",
  match: { context, listener: { filterChain: { filter: { name: "envoy.filters.network.http_connection_manager", subFilter: { name: "envoy.filters.http.router" } } }, ...extra } },
  patch: { operation: "INSERT_BEFORE", value: { name: "envoy.filters.http.local_ratelimit", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", stat_prefix: "s" } } },
});

function filters(cfg: ProxyConfig, direction: string): string[][] {
  return cfg.listeners.filter((l) => l.direction === direction).map((l) => (l.httpFilters ?? []).map((f) => f.name));
}

const BOOKINFO = k8sService("productpage") + "\n---\n" + k8sService("reviews", "default", [{ name: "http", port: 9080 }]) + "\n---\n" + k8sService("ratings", "foo") + "\n---\n";
const INSTANCES = [inst("productpage", "v1", "10.0.0.1"), inst("reviews", "v1", "10.0.0.2"), inst("ratings", "v1", "10.0.0.3", { namespace: "foo" })];
const PRODUCTPAGE = sidecarProxy({ app: "productpage", version: "v1" });
const REVIEWS = sidecarProxy({ app: "reviews", version: "v1" });
const RATINGS = sidecarProxy({ app: "ratings", version: "v1" }, "foo");

describe("EnvoyFilter local rate limits → ProxyConfig", () => {
  const cases: { name: string; yaml: string; proxy: typeof PRODUCTPAGE; inbound: string[][]; outbound?: string[][]; listenerConfig?: unknown; routeConfig?: unknown }[] = [
    { name: "task step 2 (istio-system, selector app=productpage): productpage's inbound listener, the task's bucket", yaml: LOCAL_STEP_2, proxy: PRODUCTPAGE, inbound: [["cors", "fault", "local_ratelimit", "router"]], listenerConfig: BUCKET },
    { name: "task step 2: reviews is not selected", yaml: LOCAL_STEP_2, proxy: REVIEWS, inbound: [["cors", "fault", "router"]] },
    { name: "task step 3: a filter without a bucket, the bucket on the routes of vhost inbound|http|9080", yaml: LOCAL_STEP_3, proxy: PRODUCTPAGE, inbound: [["cors", "fault", "local_ratelimit", "router"]], listenerConfig: NO_BUCKET, routeConfig: BUCKET },
    { name: "the task's global EnvoyFilters (GATEWAY, ratelimit filter) change no sidecar", yaml: GLOBAL, proxy: PRODUCTPAGE, inbound: [["cors", "fault", "router"]] },
    { name: "root namespace without selector: every proxy", yaml: ef("istio-system", "all", { configPatches: [localPatch("SIDECAR_INBOUND")] }), proxy: RATINGS, inbound: [["cors", "fault", "local_ratelimit", "router"]] },
    { name: "namespace foo without selector: foo's proxies", yaml: ef("foo", "ns", { configPatches: [localPatch("SIDECAR_INBOUND")] }), proxy: RATINGS, inbound: [["cors", "fault", "local_ratelimit", "router"]] },
    { name: "namespace foo without selector: not default's proxies", yaml: ef("foo", "ns", { configPatches: [localPatch("SIDECAR_INBOUND")] }), proxy: REVIEWS, inbound: [["cors", "fault", "router"]] },
    { name: "SIDECAR_OUTBOUND: the outbound listener only", yaml: ef("default", "out", { configPatches: [localPatch("SIDECAR_OUTBOUND")] }), proxy: REVIEWS, inbound: [["cors", "fault", "router"]], outbound: [["cors", "fault", "local_ratelimit", "router"]] },
    { name: "ANY: inbound and outbound", yaml: ef("default", "any", { configPatches: [localPatch("ANY")] }), proxy: REVIEWS, inbound: [["cors", "fault", "local_ratelimit", "router"]], outbound: [["cors", "fault", "local_ratelimit", "router"]] },
    { name: "GATEWAY: no sidecar listener", yaml: ef("default", "gw", { configPatches: [localPatch("GATEWAY")] }), proxy: REVIEWS, inbound: [["cors", "fault", "router"]], outbound: [["cors", "fault", "router"]] },
    { name: "portNumber 9080 matches the inbound listener of that port", yaml: ef("default", "p", { configPatches: [localPatch("SIDECAR_INBOUND", { portNumber: 9080 })] }), proxy: REVIEWS, inbound: [["cors", "fault", "local_ratelimit", "router"]] },
    { name: "portNumber 9999 matches none", yaml: ef("default", "p", { configPatches: [localPatch("SIDECAR_INBOUND", { portNumber: 9999 })] }), proxy: REVIEWS, inbound: [["cors", "fault", "router"]] },
    { name: "two patches: inserted in order before router", yaml: ef("default", "two", { configPatches: [localPatch("SIDECAR_INBOUND"), localPatch("SIDECAR_INBOUND")] }), proxy: REVIEWS, inbound: [["cors", "fault", "local_ratelimit", "local_ratelimit", "router"]] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cfg = translate(snapshotFrom(BOOKINFO + c.yaml, INSTANCES), c.proxy);
      assert.deepEqual(filters(cfg, "inbound"), c.inbound);
      assert.deepEqual(filters(cfg, "outbound"), c.outbound ?? [["cors", "fault", "router"]]);
      const inbound = cfg.listeners.find((l) => l.direction === "inbound");
      if (c.listenerConfig !== undefined) assert.deepEqual(inbound?.httpFilters?.find((f) => f.name === "local_ratelimit")?.config, c.listenerConfig);
      const routes = cfg.routes.find((r) => r.name === "inbound")!.virtualHosts.flatMap((v) => v.routes);
      assert.ok(routes.length > 0);
      for (const r of routes) assert.deepEqual(r.filterConfig?.local_ratelimit, c.routeConfig);
    });
  }

  it("the local runtime's bound ports: Istio's port 9080 still names the listener and vhost bound at 19080", () => {
    const mapped = [inst("productpage", "v1", "10.0.0.1", { ports: { "9080": 19080 } })];
    const step3 = translate(snapshotFrom(BOOKINFO + LOCAL_STEP_3, mapped), PRODUCTPAGE);
    const routes = step3.routes.find((r) => r.name === "inbound")!.virtualHosts.flatMap((v) => v.routes);
    assert.deepEqual(routes.map((r) => [r.name, r.match.port, r.filterConfig?.local_ratelimit]), [["inbound|9080||", 19080, BUCKET]]);
    const byPort = translate(snapshotFrom(BOOKINFO + ef("default", "p", { configPatches: [localPatch("SIDECAR_INBOUND", { portNumber: 9080 })] }), mapped), PRODUCTPAGE);
    assert.deepEqual(byPort.listeners.filter((l) => l.direction === "inbound").map((l) => [l.port, l.httpFilters?.map((f) => f.name)]), [[19080, ["cors", "fault", "local_ratelimit", "router"]]]);
  });

  it("GATEWAY: the filter on the gateway's listeners, a route patch on the routes of its vhost (*:8080) and route name (api)", () => {
    const gw = JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "gw" }, spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 8080, name: "http", protocol: "HTTP" }, hosts: ["*"] }] } });
    const vs = JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "bookinfo" }, spec: { hosts: ["*"], gateways: ["gw"], http: [{ name: "api", match: [{ uri: { prefix: "/api" } }], route: [{ destination: { host: "productpage" } }] }, { route: [{ destination: { host: "productpage" } }] }] } });
    const bucket = { "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", stat_prefix: "gw", token_bucket: { max_tokens: 1, fill_interval: "10s" } };
    const filter = ef("istio-system", "gw", {
      workloadSelector: { labels: { istio: "ingressgateway" } },
      configPatches: [localPatch("GATEWAY"), {
        applyTo: "HTTP_ROUTE",
        match: { context: "GATEWAY", routeConfiguration: { vhost: { name: "*:8080", route: { name: "api" } } } },
        patch: { operation: "MERGE", value: { typed_per_filter_config: { "envoy.filters.http.local_ratelimit": bucket } } },
      }],
    });
    const proxy = { id: "gateway~ingress-0.istio-system", kind: "gateway" as const, workload: "ingress", namespace: "istio-system", labels: { istio: "ingressgateway" }, serviceAccount: "gw", trustDomain: "cluster.local", ip: "127.0.0.1" };
    const cfg = translate(snapshotFrom(BOOKINFO + [gw, vs, filter].join("\n---\n"), INSTANCES), proxy);
    assert.deepEqual(filters(cfg, "gateway"), [["cors", "fault", "local_ratelimit", "router"]]);
    const routes = cfg.routes.find((r) => r.name === "http.8080")!.virtualHosts.flatMap((v) => v.routes);
    assert.deepEqual(routes.map((r) => [r.name, (r.filterConfig?.local_ratelimit as { tokenBucket?: unknown } | undefined)?.tokenBucket]), [
      ["api", { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 10000 }],
      [routes[1]!.name, undefined],
    ]);
    // The same EnvoyFilter selects no sidecar (its selector), and GATEWAY patches touch no sidecar anyway.
    assert.deepEqual(filters(translate(snapshotFrom(BOOKINFO + filter, INSTANCES), PRODUCTPAGE), "inbound"), [["cors", "fault", "router"]]);
  });

  it("the task's global EnvoyFilters on the ingress gateway: ratelimit before router, PATH = :path on every route, route api its own header_value_match", () => {
    const gw = JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "bookinfo-gateway" }, spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 8080, name: "http", protocol: "HTTP" }, hosts: ["*"] }] } });
    const vs = TASK_ALL.find((d) => d.includes("snip_global_rate_limit_advanced_case_1"))!;
    const proxy = { id: "gateway~ingress-0.istio-system", kind: "gateway" as const, workload: "ingress", namespace: "istio-system", labels: { istio: "ingressgateway" }, serviceAccount: "gw", trustDomain: "cluster.local", ip: "127.0.0.1" };
    const cfg = translate(snapshotFrom(BOOKINFO + [gw, vs, GLOBAL].join("\n---\n"), INSTANCES), proxy);
    assert.deepEqual(filters(cfg, "gateway"), [["cors", "fault", "ratelimit", "router"]]);
    const listener = cfg.listeners.find((l) => l.direction === "gateway")!;
    assert.deepEqual(listener.httpFilters!.find((f) => f.name === "ratelimit")!.config, {
      domain: "ratelimit",
      stage: 0,
      failureModeDeny: true,
      timeoutMs: 10_000,
      rateLimitedAsResourceExhausted: false,
      xRateLimitHeaders: false,
      cluster: "outbound|8081||ratelimit.default.svc.cluster.local",
      authority: "ratelimit.default.svc.cluster.local",
    });
    const path = [{ stage: 0, actions: [{ kind: "request_headers", headerName: ":path", descriptorKey: "PATH", skipIfAbsent: false }] }];
    const api = [{ stage: 0, actions: [{ kind: "header_value_match", descriptorKey: "PATH", descriptorValue: "api", expectMatch: true, headers: [{ name: ":path", invert: false, match: { regex: "/api/v1/products/[1-9]{1,2}" } }] }] }];
    const routes = cfg.routes.find((r) => r.name === "http.8080")!.virtualHosts.flatMap((v) => v.routes);
    // The VirtualService's first http route has four matches (four routes), its second is `api`.
    assert.deepEqual(routes.map((r) => [r.name, r.rateLimits]), [
      ...Array.from({ length: 4 }, () => ["", { route: [], virtualHost: path }]),
      ["api", { route: api, virtualHost: path }],
    ]);
    // A sidecar is selected by none of them.
    const pp = translate(snapshotFrom(BOOKINFO + [gw, vs, GLOBAL].join("\n---\n"), INSTANCES), PRODUCTPAGE);
    assert.ok(pp.routes.every((rc) => rc.virtualHosts.every((v) => v.routes.every((r) => r.rateLimits === undefined))));
  });

  it("SIDECAR_INBOUND: the ratelimit filter on the inbound listener, a VIRTUAL_HOST rate_limits on the routes of inbound|http|9080", () => {
    const filter = { applyTo: "HTTP_FILTER", match: { context: "SIDECAR_INBOUND" }, patch: { operation: "INSERT_BEFORE", value: { name: "envoy.filters.http.ratelimit", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit", domain: "d", rate_limit_service: { grpc_service: { envoy_grpc: { cluster_name: "outbound|8081||ratelimit.default.svc.cluster.local" } } } } } } };
    const vhost = { applyTo: "VIRTUAL_HOST", match: { context: "SIDECAR_INBOUND", routeConfiguration: { vhost: { name: "inbound|http|9080" } } }, patch: { operation: "MERGE", value: { rate_limits: [{ actions: [{ remote_address: {} }] }] } } };
    const cfg = translate(snapshotFrom(BOOKINFO + ef("default", "rl", { workloadSelector: { labels: { app: "reviews" } }, configPatches: [filter, vhost, vhost] }), INSTANCES), REVIEWS);
    assert.deepEqual(filters(cfg, "inbound"), [["cors", "fault", "ratelimit", "router"]]);
    const routes = cfg.routes.find((r) => r.name === "inbound")!.virtualHosts.flatMap((v) => v.routes);
    // MERGE appends the repeated field: two patches, two entries.
    assert.deepEqual(routes.map((r) => r.rateLimits?.virtualHost.length), [2]);
  });

  it("the shared outbound routes are never patched (a per-route patch touches the proxy's own inbound routes)", () => {
    const s = snapshotFrom(BOOKINFO + LOCAL_STEP_3, INSTANCES);
    const cfg = translate(s, PRODUCTPAGE);
    const other = translate(s, REVIEWS);
    for (const c of [cfg, other]) for (const r of c.routes.find((x) => x.name === "outbound")!.virtualHosts.flatMap((v) => v.routes)) assert.equal(r.filterConfig?.local_ratelimit, undefined);
    for (const r of other.routes.find((x) => x.name === "inbound")!.virtualHosts.flatMap((v) => v.routes)) assert.equal(r.filterConfig?.local_ratelimit, undefined);
  });

  it("what is not applied, per patch: non-inbound route patches, unknown vhosts; the task's global EnvoyFilters all apply", () => {
    const route = (context: string, vhost: string): object => ({
      applyTo: "HTTP_ROUTE",
      match: { context, routeConfiguration: { vhost: { name: vhost, route: { action: "ANY" } } } },
      patch: { operation: "MERGE", value: { typed_per_filter_config: { "envoy.filters.http.local_ratelimit": { "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", stat_prefix: "s" } } } },
    });
    const got = appliedPatches({ configPatches: [localPatch("SIDECAR_INBOUND"), route("SIDECAR_OUTBOUND", ""), route("SIDECAR_INBOUND", "reviews:9080"), route("SIDECAR_INBOUND", "inbound|http|9080"), route("GATEWAY", "*:8080")] });
    assert.deepEqual(got.patches.map((p) => p.kind), ["filter", "route", "gateway-route"]);
    assert.deepEqual(got.notApplied.map((p) => p.path), ["spec.configPatches[1].match.context", "spec.configPatches[2].match.routeConfiguration.vhost.name"]);
    const task = TASK.filter((d) => !d.includes("local_ratelimit")).map((d) => JSON.parse(JSON.stringify(snapshotFrom(d).envoyFilters[0]!.spec)) as unknown);
    assert.deepEqual(task.map((spec) => [appliedPatches(spec).patches.map((p) => p.kind), appliedPatches(spec).notApplied]), [[["filter"], []], [["gateway-route"], []], [["gateway-route"], []]]);
  });
});
