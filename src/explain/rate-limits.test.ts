// explain on configs translated from Istio's rate-limit task: the ingress gateway's global
// ratelimit filter and the descriptors each request would send, and a local bucket.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { translate } from "../control-plane/translate/index.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "../control-plane/translate/testing.ts";
import { formatExplainReport } from "./format.ts";
import { requestView } from "../proxy/router/request-view.ts";
import { explainInboundRateLimits } from "./rate-limits.ts";
import { explainRequest } from "./report.ts";
import { parseExplainRequest } from "./request.ts";

const TASK = readFileSync("test/fixtures/istio/istio.io-tasks/policy-enforcement/rate-limit.yaml", "utf8").split(/\n---\n/);
const step = (name: string): string => TASK.find((d) => d.includes(name))!;
const GW = JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "bookinfo-gateway" }, spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 8080, name: "http", protocol: "HTTP" }, hosts: ["*"] }] } });
const GATEWAY = { id: "gateway~ingress-0.istio-system", kind: "gateway" as const, workload: "ingress", namespace: "istio-system", labels: { istio: "ingressgateway" }, serviceAccount: "gw", trustDomain: "cluster.local", ip: "127.0.0.1" };
const yaml = [k8sService("productpage"), GW, step("snip_global_rate_limit_advanced_case_1"), step("snip_global_rate_limit_3"), step("snip_global_rate_limit_4"), step("snip_global_rate_limit_advanced_case_2")].join("\n---\n");
const gateway = translate(snapshotFrom(yaml, [inst("productpage", "v1", "10.0.0.1")]), GATEWAY);

test("the task on the gateway: each request's descriptors, or none, and where they go", () => {
  const descriptors = (path: string): unknown => explainRequest(gateway, parseExplainRequest(`http://bookinfo:8080${path}`)).rateLimits?.global?.descriptors;
  assert.deepEqual(descriptors("/productpage"), [[{ key: "PATH", value: "/productpage" }]]);
  assert.deepEqual(descriptors("/api/v1/products/3"), [[{ key: "PATH", value: "api" }]]);
  // Route api has its own rate_limits (they replace the vhost's), and the regex does not match.
  assert.deepEqual(descriptors("/api/v1/products"), []);
  const text = formatExplainReport(explainRequest(gateway, parseExplainRequest("http://bookinfo:8080/productpage")));
  assert.match(text, /^Rate limits on this listener:\n {2}ratelimit: asks domain "ratelimit" at outbound\|8081\|\|ratelimit\.default\.svc\.cluster\.local \(timeout 10s\): 429 if over the limit, 500 \(RLSE\) if it fails\n {4}descriptor PATH="\/productpage"$/m);
  assert.match(formatExplainReport(explainRequest(gateway, parseExplainRequest("http://bookinfo:8080/api/v1/products"))), /ratelimit: no descriptor for this request: the rate-limit service is not called/);
});

test("a local bucket on the sidecar's outbound listener", () => {
  const local = JSON.stringify({
    apiVersion: "networking.istio.io/v1alpha3",
    kind: "EnvoyFilter",
    metadata: { name: "out", namespace: "default" },
    spec: {
      configPatches: [{
        applyTo: "HTTP_FILTER",
        match: { context: "SIDECAR_OUTBOUND" },
        patch: { operation: "INSERT_BEFORE", value: { name: "envoy.filters.http.local_ratelimit", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", stat_prefix: "out", token_bucket: { max_tokens: 4, tokens_per_fill: 4, fill_interval: "60s" }, filter_enabled: { default_value: { numerator: 100 } }, filter_enforced: { default_value: { numerator: 100 } } } } },
      }],
    },
  });
  const cfg = translate(snapshotFrom([k8sService("reviews"), local].join("\n---\n"), [inst("reviews", "v1", "10.0.0.2")]), sidecarProxy({ app: "productpage", version: "v1" }));
  const r = explainRequest(cfg, parseExplainRequest("http://reviews:9080/reviews/1"));
  assert.deepEqual(r.rateLimits, { local: { statPrefix: "out", from: "listener", summary: "a token from a bucket of 4 (+4 every 1m), checked for 100% of requests; 429 when empty" } });
});

test("RateLimit rules at the destination's inbound listener: which rule a request falls under, its limit and key", () => {
  const rl = JSON.stringify({ apiVersion: "amime.dev/v1alpha1", kind: "RateLimit", metadata: { name: "api", namespace: "default" }, spec: { service: "reviews.default.svc.cluster.local", rules: [
    { name: "per-user", match: { uri: { prefix: "/reviews" } }, limit: { requests: 5, per: "minute" }, key: { header: "x-user" } },
    { name: "all", limit: { requests: 100, per: "hour" }, scope: "global" },
  ] } });
  const reviews = translate(snapshotFrom([k8sService("reviews"), rl].join("\n---\n"), [inst("reviews", "v1", "10.0.0.2")]), sidecarProxy({ app: "reviews", version: "v1" }));
  const at = (path: string, headers: Record<string, string>) => explainInboundRateLimits(reviews, 9080, requestView({ authority: "reviews:9080", path, port: 9080, headers }))!;
  const hit = at("/reviews/1", { "x-user": "alice" });
  assert.equal(hit.listener, reviews.listeners.find((l) => l.direction === "inbound")!.name);
  assert.deepEqual(hit.limits?.rules, [
    { rule: "default/api/per-user", scope: "local", limit: "5 per 1m", key: 'x-user="alice"' },
    { rule: "default/api/all", scope: "global", limit: "100 per 1h" },
  ]);
  assert.deepEqual(at("/reviews/1", {}).limits?.rules, [{ rule: "default/api/all", scope: "global", limit: "100 per 1h" }]);
  assert.match(hit.limits!.local!.summary, /^1 descriptor bucket\(s\) only/);
  const report = { ...explainRequest(reviews, parseExplainRequest("http://reviews:9080/reviews/1")), destinationRateLimits: [hit] };
  assert.match(formatExplainReport(report), /^Rate limits at the destination sidecar~reviews[^\n]*:\n(.*\n)*? {2}RateLimit rule default\/api\/per-user \(local\): 5 per 1m, key x-user="alice"\n {2}RateLimit rule default\/api\/all \(global\): 100 per 1h$/m);
});
