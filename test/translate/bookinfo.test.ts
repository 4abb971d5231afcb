// Bookinfo through translation: Istio's own sample manifests (Services, DestinationRules, the
// traffic-management VirtualServices, the ingress Gateway) → the routes, clusters and endpoints
// each proxy gets, with origins pointing back to the sample files.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseDocuments } from "../../src/config/parse.ts";
import type { Resource } from "../../src/model/resource.ts";
import { translate, type ProxyInput } from "../../src/control-plane/translate/index.ts";
import type { ForwardAction, ProxyConfig, Route, VirtualHost } from "../../src/model/proxy-config.ts";
import type { WorkloadInstance } from "../../src/model/registry.ts";
import { buildSnapshot } from "../../src/model/snapshot.ts";

const BOOKINFO = join(import.meta.dirname, "..", "fixtures", "istio", "samples", "bookinfo");
const NET = "networking";

function load(...files: string[]): Resource[] {
  const out: Resource[] = [];
  for (const f of files) {
    const { resources, diagnostics } = parseDocuments(readFileSync(join(BOOKINFO, f), "utf8"), f);
    assert.deepEqual(diagnostics.filter((d) => d.level === "error"), [], f);
    out.push(...resources);
  }
  return out;
}

function instance(app: string, version: string, n: number, ready = true): WorkloadInstance {
  return { name: `${app}-${version}-0`, namespace: "default", labels: { app, version }, serviceAccount: `bookinfo-${app}`, address: `10.1.0.${n}`, ready };
}

// The Deployments of bookinfo.yaml, as a registry would report them.
const INSTANCES: WorkloadInstance[] = [
  instance("productpage", "v1", 1),
  instance("details", "v1", 2),
  instance("reviews", "v1", 3),
  instance("reviews", "v2", 4),
  instance("reviews", "v3", 5),
  instance("ratings", "v1", 6),
];

const PRODUCTPAGE: ProxyInput = {
  id: "sidecar~productpage-v1-0.default", kind: "sidecar", workload: "productpage-v1", namespace: "default",
  labels: { app: "productpage", version: "v1" }, serviceAccount: "bookinfo-productpage", trustDomain: "cluster.local", ip: "10.1.0.1",
};
const REVIEWS_V2: ProxyInput = {
  id: "sidecar~reviews-v2-0.default", kind: "sidecar", workload: "reviews-v2", namespace: "default",
  labels: { app: "reviews", version: "v2" }, serviceAccount: "bookinfo-reviews", trustDomain: "cluster.local", ip: "10.1.0.4",
};

function configFor(proxy: ProxyInput, files: string[], instances = INSTANCES): ProxyConfig {
  return translate(buildSnapshot(load("platform/kube/bookinfo.yaml", `${NET}/destination-rule-all.yaml`, ...files), { services: [], instances }), proxy);
}

function vhost(cfg: ProxyConfig, name: string, routeConfig = "outbound"): VirtualHost {
  const rc = cfg.routes.find((r) => r.name === routeConfig);
  const vh = rc?.virtualHosts.find((v) => v.name === name);
  assert.ok(vh, `virtual host ${name} in ${routeConfig}`);
  return vh;
}

function forward(r: Route | undefined): ForwardAction {
  assert.ok(r && r.action.kind === "forward", "forward route");
  return r.action;
}

const REVIEWS = "reviews.default.svc.cluster.local:9080";
const RATINGS = "ratings.default.svc.cluster.local:9080";
const cluster = (subset: string, svc: string) => `outbound|9080|${subset}|${svc}.default.svc.cluster.local`;

test("virtual-service-all-v1: every service goes to its v1 subset; origins name the file and line", () => {
  const cfg = configFor(PRODUCTPAGE, [`${NET}/virtual-service-all-v1.yaml`]);
  for (const svc of ["productpage", "reviews", "ratings", "details"]) {
    const vh = vhost(cfg, `${svc}.default.svc.cluster.local:9080`);
    assert.equal(vh.routes.length, 1);
    assert.deepEqual(forward(vh.routes[0]).clusters, [{ cluster: cluster("v1", svc), weight: 100 }]);
  }
  assert.deepEqual(vhost(cfg, REVIEWS).routes[0]!.origin, {
    resource: "VirtualService default/reviews", ruleIndex: 0, matchIndex: -1, file: `${NET}/virtual-service-all-v1.yaml`, line: 22,
  });
});

test("reviews-test-v2: end-user jason → v2, everyone else → v1, in order", () => {
  const cfg = configFor(PRODUCTPAGE, [`${NET}/virtual-service-reviews-test-v2.yaml`]);
  const [jason, rest, ...more] = vhost(cfg, REVIEWS).routes;
  assert.equal(more.length, 0);
  assert.deepEqual(jason!.match.headers, [{ name: "end-user", match: { exact: "jason" }, invert: false }]);
  assert.deepEqual(forward(jason).clusters, [{ cluster: "outbound|9080|v2|reviews.default.svc.cluster.local", weight: 100 }]);
  assert.deepEqual(jason!.origin, { resource: "VirtualService default/reviews", ruleIndex: 0, matchIndex: 0, file: `${NET}/virtual-service-reviews-test-v2.yaml`, line: 9 });
  assert.deepEqual(rest!.match.headers, []);
  assert.deepEqual(forward(rest).clusters, [{ cluster: cluster("v1", "reviews"), weight: 100 }]);
  assert.equal(rest!.origin.line, 17);
  // No retries configured: Istio's mesh default applies.
  assert.equal(forward(rest).retry.attempts, 2);
  assert.deepEqual(forward(rest).retry.retriableStatusCodes, [503]);
});

test("reviews-90-10 and 80-20 and 50-v3: weighted splits keep their weights", () => {
  const cases: [string, [string, number][]][] = [
    ["virtual-service-reviews-90-10.yaml", [["v1", 90], ["v2", 10]]],
    ["virtual-service-reviews-80-20.yaml", [["v1", 80], ["v2", 20]]],
    ["virtual-service-reviews-50-v3.yaml", [["v1", 50], ["v3", 50]]],
    ["virtual-service-reviews-v2-v3.yaml", [["v2", 50], ["v3", 50]]],
    ["virtual-service-reviews-v3.yaml", [["v3", 100]]],
  ];
  for (const [file, want] of cases) {
    const cfg = configFor(PRODUCTPAGE, [`${NET}/${file}`]);
    assert.deepEqual(forward(vhost(cfg, REVIEWS).routes[0]).clusters, want.map(([s, w]) => ({ cluster: cluster(s, "reviews"), weight: w })), file);
  }
});

test("reviews-jason-v2-v3: jason → v2, others → v3", () => {
  const routes = vhost(configFor(PRODUCTPAGE, [`${NET}/virtual-service-reviews-jason-v2-v3.yaml`]), REVIEWS).routes;
  assert.deepEqual(routes.map((r) => forward(r).clusters[0]!.cluster), [cluster("v2", "reviews"), cluster("v3", "reviews")]);
});

test("ratings-test-delay: 7 s delay for jason at 100 %, only on the jason route", () => {
  // reviews-v2 is the caller of ratings in bookinfo.
  const cfg = configFor(REVIEWS_V2, [`${NET}/virtual-service-ratings-test-delay.yaml`]);
  const [jason, rest] = vhost(cfg, RATINGS).routes;
  assert.deepEqual(forward(jason).fault, { delay: { fixedDelayMs: 7000, percentage: 100 } });
  assert.equal(forward(rest).fault, undefined);
  assert.deepEqual(forward(jason).clusters, [{ cluster: cluster("v1", "ratings"), weight: 100 }]);
});

test("ratings-test-abort: abort with HTTP 500 at 100 % for jason", () => {
  const cfg = configFor(REVIEWS_V2, [`${NET}/virtual-service-ratings-test-abort.yaml`]);
  const [jason] = vhost(cfg, RATINGS).routes;
  assert.deepEqual(forward(jason).fault, { abort: { httpStatus: 500, percentage: 100 } });
  assert.deepEqual(jason!.origin.line, 9);
});

test("destination-rule-all: one cluster per subset; endpoints filtered by subset labels; Istio defaults", () => {
  const instances = [...INSTANCES, { ...instance("reviews", "v2", 7, false), name: "reviews-v2-1" }];
  const cfg = configFor(PRODUCTPAGE, [], instances);
  const names = cfg.clusters.map((c) => c.name);
  for (const s of ["", "v1", "v2", "v3"]) assert.ok(names.includes(cluster(s, "reviews")), s);
  for (const s of ["v1", "v2", "v2-mysql", "v2-mysql-vm"]) assert.ok(names.includes(cluster(s, "ratings")), s);
  assert.deepEqual(cfg.endpoints[cluster("", "reviews")]!.map((e) => e.workload), ["reviews-v1-0", "reviews-v2-0", "reviews-v3-0", "reviews-v2-1"]);
  const v2 = cfg.endpoints[cluster("v2", "reviews")]!;
  assert.deepEqual(v2.map((e) => [e.address, e.port, e.healthy]), [["10.1.0.4", 9080, true], ["10.1.0.7", 9080, false]]);
  assert.equal(v2[0]!.serviceAccount, "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
  assert.deepEqual(cfg.endpoints[cluster("v2-mysql", "ratings")], []);
  const c = cfg.clusters.find((x) => x.name === cluster("v2", "reviews"))!;
  assert.equal(c.subset, "v2");
  assert.equal(c.protocol, "http1");
  assert.equal(c.lb.policy, "LEAST_REQUEST");
  assert.equal(c.connectionPool.maxConnections, 4294967295);
  assert.equal(c.outlierDetection, undefined);
  // No DestinationRule tls, instances without a registered sidecar: auto mTLS, which the proxy
  // applies per endpoint; these endpoints carry no tlsMode label, so it is plaintext to them.
  assert.equal(c.autoMtls, true);
  assert.deepEqual(v2.map((e) => e.labels["security.istio.io/tlsMode"]), [undefined, undefined]);
});

test("destination-rule-all-mtls: ISTIO_MUTUAL with Istio's SNI and the service's SPIFFE identities", () => {
  const snap = buildSnapshot(load("platform/kube/bookinfo.yaml", `${NET}/destination-rule-all-mtls.yaml`), { services: [], instances: INSTANCES });
  const cfg = translate(snap, PRODUCTPAGE);
  const c = cfg.clusters.find((x) => x.name === cluster("v3", "reviews"))!;
  assert.deepEqual(c.tls, {
    mode: "ISTIO_MUTUAL", sni: "outbound_.9080_.v3_.reviews.default.svc.cluster.local",
    subjectAltNames: ["spiffe://cluster.local/ns/default/sa/bookinfo-reviews"], insecureSkipVerify: false,
  });
});

test("sidecar domains: short names for the proxy's namespace, port forms only (port 9080 ≠ 80)", () => {
  const cfg = configFor(PRODUCTPAGE, []);
  assert.deepEqual(vhost(cfg, REVIEWS).domains, [
    "reviews.default.svc.cluster.local:9080", "reviews:9080", "reviews.default.svc:9080", "reviews.default:9080",
  ]);
  const other = configFor({ ...PRODUCTPAGE, namespace: "frontend", id: "sidecar~x.frontend" }, []);
  assert.deepEqual(vhost(other, REVIEWS).domains, ["reviews.default.svc.cluster.local:9080", "reviews.default.svc:9080", "reviews.default:9080"]);
});

test("inbound: the proxy's own service port becomes listener + inbound|9080|| to the local app", () => {
  const cfg = configFor(REVIEWS_V2, []);
  const l = cfg.listeners.find((x) => x.direction === "inbound")!;
  assert.deepEqual([l.address, l.port, l.protocol, l.routeConfigName], ["10.1.0.4", 9080, "http", "inbound"]);
  assert.deepEqual(cfg.endpoints["inbound|9080||"]?.map((e) => `${e.address}:${e.port}`), ["127.0.0.1:9080"]);
  const r = vhost(cfg, "inbound|http|*", "inbound").routes[0]!;
  assert.equal(r.match.port, 9080);
  assert.equal(forward(r).retry.attempts, 0);
});

test("bookinfo-gateway: ingress gateway listens on 8080 and routes the five productpage paths", () => {
  const snap = buildSnapshot(load("platform/kube/bookinfo.yaml", `${NET}/bookinfo-gateway.yaml`), { services: [], instances: INSTANCES });
  const gw = translate(snap, {
    id: "router~istio-ingressgateway-0.istio-system", kind: "gateway", workload: "istio-ingressgateway", namespace: "istio-system",
    labels: { istio: "ingressgateway", app: "istio-ingressgateway" }, serviceAccount: "istio-ingressgateway", trustDomain: "cluster.local", ip: "10.1.0.100",
  });
  assert.deepEqual(gw.listeners.map((l) => [l.name, l.port, l.direction, l.routeConfigName]), [["0.0.0.0_8080", 8080, "gateway", "http.8080"]]);
  const vh = vhost(gw, "*:8080", "http.8080");
  assert.deepEqual(vh.domains, ["*"]);
  assert.deepEqual(vh.routes.map((r) => r.match.uri), [{ exact: "/productpage" }, { prefix: "/static" }, { exact: "/login" }, { exact: "/logout" }, { prefix: "/api/v1/products" }]);
  assert.ok(vh.routes.every((r) => forward(r).clusters[0]!.cluster === "outbound|9080||productpage.default.svc.cluster.local"));
  assert.deepEqual(vh.routes.map((r) => r.origin.matchIndex), [0, 1, 2, 3, 4]);
  assert.ok(gw.clusters.some((c) => c.name === "outbound|9080||productpage.default.svc.cluster.local"));
  assert.ok(gw.endpoints["outbound|9080||productpage.default.svc.cluster.local"]!.length === 1);
  // The gateway-bound VirtualService does not leak into sidecars.
  const side = translate(snap, PRODUCTPAGE);
  assert.equal(vhost(side, "productpage.default.svc.cluster.local:9080").routes[0]!.name, "default");
  // A proxy whose labels the Gateway does not select gets no listener.
  assert.deepEqual(translate(snap, { ...PRODUCTPAGE, kind: "gateway", labels: { istio: "egressgateway" } }).listeners, []);
});

test("egress-rule-google-apis: port-80 HTTP goes to 443 where the DestinationRule originates TLS", () => {
  const cfg = configFor(PRODUCTPAGE, [`${NET}/egress-rule-google-apis.yaml`]);
  const vh = vhost(cfg, "www.googleapis.com:80");
  assert.deepEqual(vh.domains, ["www.googleapis.com", "www.googleapis.com:80"]);
  assert.deepEqual(forward(vh.routes[0]).clusters, [{ cluster: "outbound|443||www.googleapis.com", weight: 100 }]);
  const c443 = cfg.clusters.find((c) => c.name === "outbound|443||www.googleapis.com")!;
  assert.equal(c443.tls?.mode, "SIMPLE");
  assert.equal(c443.tls?.sni, "www.googleapis.com");
  assert.equal(c443.protocol, "http1");
  // Port-level settings replace the top level for that port: 443 falls back to the default LB.
  assert.equal(c443.lb.policy, "LEAST_REQUEST");
  assert.equal(cfg.clusters.find((c) => c.name === "outbound|80||www.googleapis.com")!.lb.policy, "ROUND_ROBIN");
  assert.deepEqual(cfg.endpoints["outbound|443||www.googleapis.com"], [{ address: "www.googleapis.com", port: 443, weight: 1, labels: {}, healthy: true }]);
});

test("translation is deterministic and leaves the snapshot untouched", () => {
  const files = [`${NET}/virtual-service-reviews-test-v2.yaml`, `${NET}/virtual-service-ratings-test-delay.yaml`];
  const snap = buildSnapshot(load("platform/kube/bookinfo.yaml", `${NET}/destination-rule-all.yaml`, ...files), { services: [], instances: INSTANCES });
  const before = JSON.stringify(snap);
  const a = JSON.stringify(translate(snap, PRODUCTPAGE));
  const b = JSON.stringify(translate(snap, PRODUCTPAGE));
  assert.equal(a, b);
  assert.equal(JSON.stringify(snap), before);
  assert.ok(Object.isFrozen(snap.virtualServices[0]!.spec));
});
