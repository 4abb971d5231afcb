// explainRequest on configs produced by the real translation of Istio's bookinfo samples: the
// virtual host and why, each rule's verdict with the failing condition, origins with file:line,
// shares of a weighted split, cluster settings and endpoints, and 404 NR cases.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseDocuments } from "../config/parse.ts";
import type { Resource } from "../model/resource.ts";
import { translate, type ProxyInput } from "../control-plane/translate/index.ts";
import type { ProxyConfig } from "../model/proxy-config.ts";
import type { WorkloadInstance } from "../model/registry.ts";
import { buildSnapshot } from "../model/snapshot.ts";
import { forward, route, routeConfig, vhost } from "../proxy/router/fixtures.ts";
import { formatExplainReport } from "./format.ts";
import { explainRequest } from "./report.ts";
import { parseExplainRequest } from "./request.ts";

const BOOKINFO = join(import.meta.dirname, "..", "..", "test", "fixtures", "istio", "samples", "bookinfo");

function load(...files: string[]): Resource[] {
  return files.flatMap((f) => parseDocuments(readFileSync(join(BOOKINFO, f), "utf8"), f).resources);
}

const inst = (app: string, version: string, n: number, ready = true): WorkloadInstance => ({
  name: `${app}-${version}-0`, namespace: "default", labels: { app, version }, serviceAccount: `bookinfo-${app}`, address: `10.1.0.${n}`, ready,
});
const INSTANCES = [inst("productpage", "v1", 1), inst("reviews", "v1", 3), inst("reviews", "v2", 4, false), inst("reviews", "v3", 5), inst("ratings", "v1", 6)];
const PRODUCTPAGE: ProxyInput = {
  id: "sidecar~productpage-v1-0.default", kind: "sidecar", workload: "productpage-v1", namespace: "default",
  labels: { app: "productpage", version: "v1" }, serviceAccount: "bookinfo-productpage", trustDomain: "cluster.local", ip: "10.1.0.1",
};

function config(vs: string): ProxyConfig {
  const resources = load("platform/kube/bookinfo.yaml", "networking/destination-rule-all.yaml", `networking/${vs}`);
  return translate(buildSnapshot(resources, { services: [], instances: INSTANCES }), PRODUCTPAGE);
}

test("parseExplainRequest keeps the authority as written and folds -H and Host", () => {
  const r = parseExplainRequest("reviews:9080/reviews/1?x=1", "POST", ["End-User: jason", "x-a: 1", "X-A: 2"]);
  assert.deepEqual(r, { method: "POST", url: "reviews:9080/reviews/1?x=1", scheme: "http", authority: "reviews:9080", path: "/reviews/1?x=1", port: 9080, headers: { "end-user": "jason", "x-a": "1,2" } });
  const h = parseExplainRequest("https://10.0.0.1/", "GET", ["Host: shop.example.com"]);
  assert.equal(h.authority, "shop.example.com");
  assert.equal(h.port, 443);
  assert.equal(parseExplainRequest("http://reviews:80/").authority, "reviews:80");
  assert.throws(() => parseExplainRequest("http://x/", "GET", ["no-colon"]), /name: value/);
  assert.throws(() => parseExplainRequest("ftp://x/"), /only http/);
});

test("test-v2: jason matches rule 0 (v2); others fail on the header and take rule 1 (v1)", () => {
  const cfg = config("virtual-service-reviews-test-v2.yaml");
  const jason = explainRequest(cfg, parseExplainRequest("http://reviews:9080/reviews/1", "GET", ["end-user: jason"]));
  assert.equal(jason.listener?.name, "outbound");
  assert.equal(jason.virtualHost?.name, "reviews.default.svc.cluster.local:9080");
  assert.equal(jason.virtualHost?.matchedDomain, "reviews:9080");
  assert.equal(jason.selected?.index, 0);
  assert.deepEqual(jason.selected?.origin, { resource: "VirtualService default/reviews", ruleIndex: 0, matchIndex: 0, file: "networking/virtual-service-reviews-test-v2.yaml", line: 9 });
  assert.deepEqual(jason.destinations.map((d) => [d.cluster, d.share]), [["outbound|9080|v2|reviews.default.svc.cluster.local", 100]]);
  // reviews-v2 is not ready: its only endpoint is unhealthy; below the 50% panic threshold Envoy uses it anyway.
  assert.equal(jason.destinations[0]?.healthy, 0);
  assert.equal(jason.destinations[0]?.panic, true);
  assert.equal(jason.outcome.kind, "forward");

  const other = explainRequest(cfg, parseExplainRequest("http://reviews:9080/reviews/1", "GET", ["end-user: mary"]));
  assert.equal(other.selected?.index, 1);
  assert.deepEqual(other.routes[0]?.failures, ['header end-user: expected exact "jason", got "mary"']);
  assert.equal(other.destinations[0]?.cluster, "outbound|9080|v1|reviews.default.svc.cluster.local");
  const text = formatExplainReport(other);
  assert.match(text, /#0 .*not matched .*VirtualService default\/reviews http\[0\]\.match\[0\] \(networking\/virtual-service-reviews-test-v2\.yaml:9\)/);
  assert.match(text, /✗ header end-user: expected exact "jason", got "mary"/);
  assert.match(text, /Selected route #1/);
  assert.match(text, /10\.1\.0\.3:9080\s+HEALTHY\s+candidate\s+reviews-v1-0/);
  assert.match(text, /retries: +2 attempts \(Istio's default policy\)/);
});

test("90-10: destinations carry weights and shares", () => {
  const r = explainRequest(config("virtual-service-reviews-90-10.yaml"), parseExplainRequest("http://reviews:9080/"));
  assert.deepEqual(r.destinations.map((d) => [d.config?.subset, d.weight, d.share]), [["v1", 90, 90], ["v2", 10, 10]]);
  assert.match(formatExplainReport(r), /90%  outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local  \(weight 90; reviews\.default\.svc\.cluster\.local:9080, subset v1\)/);
  assert.match(r.outcome.summary, /90% to outbound\|9080\|v1\|.*10% to outbound\|9080\|v2\|/);
});

test("fault injection and an unknown host: abort percentages; 404 NR with the reason", () => {
  const cfg = config("virtual-service-ratings-test-abort.yaml");
  const jason = explainRequest(cfg, parseExplainRequest("http://ratings:9080/ratings/0", "GET", ["end-user: jason"]));
  assert.match(formatExplainReport(jason), /fault: +abort with HTTP 500 for 100% of requests/);
  assert.equal(jason.outcome.kind, "fail");
  // ALLOW_ANY gives unknown hosts a passthrough route; a port with no listener is refused outright.
  const none = explainRequest({ ...cfg, routes: cfg.routes.map((rc) => ({ ...rc, virtualHosts: rc.virtualHosts.filter((v) => !v.domains.includes("*")) })) }, parseExplainRequest("http://nowhere.example:8080/"));
  assert.equal(none.outcome.kind, "fail");
  assert.match(none.outcome.summary, /no virtual host .* "nowhere\.example:8080": 404 NR/);
  assert.match(formatExplainReport(none), /Result: no virtual host/);
});

test("a gateway has no listener for an unknown port", () => {
  const cfg = config("virtual-service-all-v1.yaml");
  const gw = { ...cfg, node: { ...cfg.node, kind: "gateway" as const }, listeners: [] };
  const r = explainRequest(gw, parseExplainRequest("http://x:8080/"));
  assert.match(r.outcome.summary, /no listener takes port 8080/);
});

test("a split with an unservable destination says which share would fail; partial faults are listed", () => {
  const cfg = config("virtual-service-reviews-90-10.yaml");
  const noV2 = { ...cfg, endpoints: Object.fromEntries(Object.entries(cfg.endpoints).filter(([k]) => !k.includes("|v2|"))) };
  const r = explainRequest(noV2, parseExplainRequest("http://reviews:9080/"));
  assert.equal(r.outcome.kind, "forward");
  assert.equal(r.outcome.summary, "forwarded: 90% to outbound|9080|v1|reviews.default.svc.cluster.local; 10% would fail: outbound|9080|v2|reviews.default.svc.cluster.local: no endpoints (503 UH)");
});

test("redirects and direct responses are outcomes of their own, with status", () => {
  const cfg = config("virtual-service-all-v1.yaml");
  const rc = routeConfig([vhost("shop", ["shop.example"], [
    route("old", { uri: { prefix: "/old" } }, { kind: "redirect", uri: "/new", code: 308 }),
    route("gone", { uri: { prefix: "/gone" } }, { kind: "direct", status: 410, body: "bye" }),
    route("rest", {}, forward(["outbound|9080|v1|reviews.default.svc.cluster.local"])),
  ])]);
  const custom = { ...cfg, routes: [{ ...rc, name: "outbound" }] };
  const redirect = explainRequest(custom, parseExplainRequest("http://shop.example/old/x"));
  assert.deepEqual(redirect.outcome, { kind: "redirect", status: 308, summary: "redirect 308, nothing is forwarded" });
  assert.match(formatExplainReport(redirect), /redirect: +308, uri \/new/);
  const direct = explainRequest(custom, parseExplainRequest("http://shop.example/gone"));
  assert.equal(direct.outcome.kind, "direct");
  assert.match(formatExplainReport(direct), /direct: +410 body "bye"/);
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(direct))), ["node", "version", "request", "listener", "routeConfiguration", "virtualHost", "routes", "selected", "destinations", "mirrors", "outcome"]);
});
