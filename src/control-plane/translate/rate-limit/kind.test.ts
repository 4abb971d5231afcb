import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ProxyConfig } from "../../../model/proxy-config.ts";
import type { GlobalRateLimitConfig, LocalRateLimitConfig } from "../../../model/rate-limit.ts";
import { buildDescriptors, policiesOf } from "../../../proxy/http/filters/ratelimit/descriptors.ts";
import { requestView } from "../../../proxy/router/request-view.ts";
import { translate } from "../index.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "../testing.ts";

const BOOKINFO = k8sService("productpage") + "\n---\n" + k8sService("reviews") + "\n---\n" + k8sService("ratings", "foo") + "\n---\n" + k8sService("ratelimit", "default", [{ name: "grpc", port: 8081 }]) + "\n---\n";
const INSTANCES = [inst("productpage", "v1", "10.0.0.1"), inst("reviews", "v1", "10.0.0.2"), inst("ratings", "v1", "10.0.0.3", { namespace: "foo" })];
const PRODUCTPAGE = sidecarProxy({ app: "productpage", version: "v1" });
const REVIEWS = sidecarProxy({ app: "reviews", version: "v1" });
const RATINGS = sidecarProxy({ app: "ratings", version: "v1" }, "foo");

const rl = (ns: string, spec: unknown): string => JSON.stringify({ apiVersion: "amime.dev/v1alpha1", kind: "RateLimit", metadata: { name: "api", namespace: ns }, spec });
const PER_USER = { selector: { matchLabels: { app: "productpage" } }, rules: [{ match: { uri: { prefix: "/api" }, method: { exact: "GET" } }, limit: { requests: 10, per: "minute" }, key: { header: "x-user" } }] };

function inbound(cfg: ProxyConfig): string[][] {
  return cfg.listeners.filter((l) => l.direction === "inbound").map((l) => (l.httpFilters ?? []).map((f) => f.name));
}
function filterConfig<T>(cfg: ProxyConfig, name: string): T {
  return cfg.listeners.find((l) => l.direction === "inbound")!.httpFilters!.find((f) => f.name === name)!.config as T;
}

// The same limit written as an EnvoyFilter: local_ratelimit with rate_limits and descriptors.
const ENVOY_FILTER = JSON.stringify({
  apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: { name: "per-user", namespace: "default" },
  spec: {
    workloadSelector: { labels: { app: "productpage" } },
    configPatches: [{
      applyTo: "HTTP_FILTER",
      match: { context: "SIDECAR_INBOUND", listener: { filterChain: { filter: { name: "envoy.filters.network.http_connection_manager" } } } },
      patch: { operation: "INSERT_BEFORE", value: { name: "envoy.filters.http.local_ratelimit", typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        stat_prefix: "amime_ratelimit",
        filter_enabled: { runtime_key: "e", default_value: { numerator: 100, denominator: "HUNDRED" } },
        filter_enforced: { runtime_key: "e", default_value: { numerator: 100, denominator: "HUNDRED" } },
        enable_x_ratelimit_headers: "DRAFT_VERSION_03",
        max_dynamic_descriptors: 10000,
        rate_limits: [{ actions: [
          { header_value_match: { descriptor_key: "amime_ratelimit_rule", descriptor_value: "default/api/0", headers: [{ name: ":path", prefix_match: "/api" }, { name: ":method", exact_match: "GET" }] } },
          { request_headers: { header_name: "x-user", descriptor_key: "x-user" } },
        ] }],
        descriptors: [{ entries: [{ key: "amime_ratelimit_rule", value: "default/api/0" }, { key: "x-user" }], token_bucket: { max_tokens: 10, tokens_per_fill: 10, fill_interval: "60s" } }],
      } } },
    }],
  },
});

describe("RateLimit kind → ProxyConfig", () => {
  it("a local rule keyed by a header: the same local_ratelimit config as the EnvoyFilter shape, on productpage's inbound listener only", () => {
    const byKind = translate(snapshotFrom(BOOKINFO + rl("default", PER_USER), INSTANCES), PRODUCTPAGE);
    const byEnvoyFilter = translate(snapshotFrom(BOOKINFO + ENVOY_FILTER, INSTANCES), PRODUCTPAGE);
    assert.deepEqual(inbound(byKind), [["cors", "fault", "local_ratelimit", "router"]]);
    assert.deepEqual(inbound(byKind), inbound(byEnvoyFilter));
    assert.deepEqual(filterConfig<LocalRateLimitConfig>(byKind, "local_ratelimit"), filterConfig<LocalRateLimitConfig>(byEnvoyFilter, "local_ratelimit"));
    assert.deepEqual(inbound(translate(snapshotFrom(BOOKINFO + rl("default", PER_USER), INSTANCES), REVIEWS)), [["cors", "fault", "router"]]);
  });

  it("selection: a service host selects its workloads; no selector means the namespace, the root namespace the mesh", () => {
    const rules = [{ limit: { requests: 1, per: "second" } }];
    const cases: [string, typeof PRODUCTPAGE, boolean][] = [
      [rl("default", { service: "reviews.default.svc.cluster.local", rules }), REVIEWS, true],
      [rl("default", { service: "reviews.default.svc.cluster.local", rules }), PRODUCTPAGE, false],
      [rl("default", { rules }), REVIEWS, true],
      [rl("default", { rules }), RATINGS, false],
      [rl("istio-system", { rules }), RATINGS, true],
      [rl("istio-system", { selector: { matchLabels: { app: "ratings" } }, rules }), REVIEWS, false],
    ];
    for (const [yaml, proxy, selected] of cases) {
      const got = inbound(translate(snapshotFrom(BOOKINFO + yaml, INSTANCES), proxy));
      assert.deepEqual(got, [selected ? ["cors", "fault", "local_ratelimit", "router"] : ["cors", "fault", "router"]], `${yaml} ${proxy.id}`);
    }
  });

  it("a global rule: the ratelimit filter, domain amime-ratelimit, the sample service by default, its limit on the descriptor; the descriptors equal the EnvoyFilter route shape's", () => {
    const spec = { ...PER_USER, rules: [{ ...PER_USER.rules[0], scope: "global", limit: { requests: 100, per: "hour" } }], failureMode: "deny" };
    const cfg = translate(snapshotFrom(BOOKINFO + rl("default", spec), INSTANCES), PRODUCTPAGE);
    assert.deepEqual(inbound(cfg), [["cors", "fault", "ratelimit", "router"]]);
    const c = filterConfig<GlobalRateLimitConfig>(cfg, "ratelimit");
    assert.equal(c.domain, "amime-ratelimit");
    assert.equal(c.cluster, "outbound|8081||ratelimit.default.svc.cluster.local");
    assert.equal(c.failureModeDeny, true);
    assert.ok(cfg.clusters.some((cl) => cl.name === c.cluster), "the service's cluster is in the proxy's config");
    // Istio's global task shape for the same limit: route rate_limits with the same actions.
    const routeShape = policiesOf({ route: [{ stage: 0, actions: c.rateLimits![0]!.actions }], virtualHost: [] });
    const view = requestView({ authority: "productpage:9080", path: "/api/v1?x=1", headers: { "x-user": "alice" } });
    const kindDescriptors = buildDescriptors(view, c.rateLimits!, 0, "c");
    assert.deepEqual(kindDescriptors, [{ entries: [{ key: "amime_ratelimit_rule", value: "default/api/0" }, { key: "x-user", value: "alice" }], limit: { requests_per_unit: 100, unit: "HOUR" } }]);
    assert.deepEqual(kindDescriptors.map((d) => d.entries), buildDescriptors(view, routeShape, 0, "c").map((d) => d.entries));
    assert.deepEqual(buildDescriptors(requestView({ authority: "p", path: "/api", method: "POST", headers: { "x-user": "a" } }), c.rateLimits!, 0, "c"), []);
  });

  it("keys: a claim (nested), the source principal, the remote address; an exact uri allows a query", () => {
    const spec = { rules: [
      { match: { uri: { exact: "/login" } }, limit: { requests: 5, per: "minute" }, key: { claim: "realm.user" } },
      { limit: { requests: 5, per: "minute" }, key: "sourcePrincipal" },
      { name: "by-ip", limit: { requests: 5, per: "day" }, key: "remoteAddress" },
    ] };
    const c = filterConfig<LocalRateLimitConfig>(translate(snapshotFrom(BOOKINFO + rl("default", spec), INSTANCES), REVIEWS), "local_ratelimit");
    assert.deepEqual(c.descriptors!.map((d) => [d.entries, d.tokenBucket.fillIntervalMs]), [
      [[{ key: "amime_ratelimit_rule", value: "default/api/0" }, { key: "realm.user", value: "" }], 60_000],
      [[{ key: "amime_ratelimit_rule", value: "default/api/1" }, { key: "source_principal", value: "" }], 60_000],
      [[{ key: "amime_ratelimit_rule", value: "default/api/by-ip" }, { key: "remote_address", value: "" }], 86_400_000],
    ]);
    const view = { ...requestView({ authority: "r", path: "/login?next=/", sourceIp: "10.1.2.3", jwtPayload: { realm: { user: "bob" } } }), peerPrincipal: "spiffe://cluster.local/ns/default/sa/productpage" };
    assert.deepEqual(buildDescriptors(view, c.rateLimits!, 0, "c").map((d) => d.entries.map((e) => e.value).join(" ")), ["default/api/0 bob", "default/api/1 cluster.local/ns/default/sa/productpage", "default/api/by-ip 10.1.2.3"]);
    assert.deepEqual(buildDescriptors(requestView({ authority: "r", path: "/login/x" }), c.rateLimits!, 0, "c").map((d) => d.entries[0]!.value), ["default/api/by-ip"]);
  });
});
