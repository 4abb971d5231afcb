import assert from "node:assert/strict";
import { test } from "node:test";
import { translate } from "./index.ts";
import { findVhost, forwardOf, inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

const R = "reviews.default.svc.cluster.local";
const key = (port: number, subset: string, host = R) => `outbound|${port}|${subset}|${host}`;

function reviewsRoutes(vsSpec: object, proxyLabels: Record<string, string> = { app: "productpage", version: "v1" }, extra = "", ns = "default") {
  const yaml = k8sService("reviews") + k8sService("ratings") + extra +
    JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "reviews" }, spec: { hosts: ["reviews"], ...vsSpec } });
  const cfg = translate(snapshotFrom(yaml, [inst("reviews", "v1", "10.0.0.1")]), sidecarProxy(proxyLabels, ns));
  const vh = findVhost(cfg, `${R}:9080`);
  assert.ok(vh);
  return vh.routes;
}

test("source conditions are decided per proxy; non-matching entries and rules are dropped", () => {
  const spec = {
    http: [
      { match: [{ sourceLabels: { app: "productpage" }, headers: { a: { exact: "1" } } }, { sourceLabels: { app: "other" } }], route: [{ destination: { host: "reviews", subset: "v2" } }] },
      { match: [{ sourceNamespace: "elsewhere" }], route: [{ destination: { host: "reviews", subset: "v3" } }] },
      { match: [{ gateways: ["some-gateway"] }], route: [{ destination: { host: "reviews", subset: "v4" } }] },
      { route: [{ destination: { host: "reviews", subset: "v1" } }] },
    ],
  };
  const routes = reviewsRoutes(spec);
  assert.deepEqual(routes.map((r) => [forwardOf(r).clusters[0]!.cluster, r.origin.ruleIndex, r.origin.matchIndex]), [[key(9080, "v2"), 0, 0], [key(9080, "v1"), 3, -1]]);
  // A proxy matching the second entry: it selects everything, so later rules are unreachable.
  const other = reviewsRoutes(spec, { app: "other" });
  assert.deepEqual(other.map((r) => [r.origin.ruleIndex, r.origin.matchIndex]), [[0, 1]]);
});

test("a catch-all ends the list; match.port filters by virtual host port", () => {
  const routes = reviewsRoutes({
    http: [
      { match: [{ port: 9999 }], route: [{ destination: { host: "reviews", subset: "x" } }] },
      { match: [{ uri: { prefix: "/" } }], route: [{ destination: { host: "reviews", subset: "v1" } }] },
      { route: [{ destination: { host: "reviews", subset: "v2" } }] },
    ],
  });
  assert.deepEqual(routes.map((r) => forwardOf(r).clusters[0]!.cluster), [key(9080, "v1")]);
  // Port-matched entries lose the port: the virtual host already selected it.
  const r2 = reviewsRoutes({ http: [{ match: [{ port: 9080 }], route: [{ destination: { host: "reviews" } }] }] });
  assert.equal(r2[0]!.match.port, undefined);
});

test("route details: weights (zero dropped), timeout, mirror(s), rewrite, headers, names", () => {
  const [r] = reviewsRoutes({
    http: [{
      name: "main",
      match: [{ name: "api", uri: { prefix: "/api" } }],
      route: [
        { destination: { host: "reviews", subset: "v1" }, weight: 75, headers: { request: { set: { "x-v": "1" } } } },
        { destination: { host: "reviews", subset: "v2" }, weight: 25 },
        { destination: { host: "reviews", subset: "v3" }, weight: 0 },
      ],
      timeout: "1.5s",
      mirror: { host: "ratings" },
      mirrorPercentage: { value: 10 },
      mirrors: [{ destination: { host: "reviews", subset: "v3" } }],
      rewrite: { uri: "/v2/api" },
      headers: { response: { add: { "x-served": "yes" } } },
    }],
  });
  assert.equal(r!.name, "main.api");
  const a = forwardOf(r);
  assert.deepEqual(a.clusters, [
    { cluster: key(9080, "v1"), weight: 75, headers: { request: { set: { "x-v": "1" }, add: {}, remove: [] } } },
    { cluster: key(9080, "v2"), weight: 25 },
  ]);
  assert.equal(a.timeoutMs, 1500);
  assert.deepEqual(a.mirrors, [{ cluster: key(9080, "", "ratings.default.svc.cluster.local"), percentage: 10 }, { cluster: key(9080, "v3"), percentage: 100 }]);
  assert.deepEqual(a.rewrite, { uri: "/v2/api" });
  assert.deepEqual(r!.headers, { response: { set: {}, add: { "x-served": "yes" }, remove: [] } });
});

test("destination port: explicit, the service's only port, else the incoming port", () => {
  const multi = k8sService("multi", "default", [{ name: "http", port: 8080 }, { name: "http-admin", port: 9000 }]);
  const routes = reviewsRoutes({
    http: [
      { match: [{ headers: { a: {} } }], route: [{ destination: { host: "multi", port: { number: 9000 } } }] },
      { match: [{ headers: { b: {} } }], route: [{ destination: { host: "multi" } }] },
      { match: [{ headers: { c: {} } }], route: [{ destination: { host: "ratings" } }] },
      { route: [{ destination: { host: "unknown.example.com" } }] },
    ],
  }, undefined, multi);
  assert.deepEqual(routes.map((r) => forwardOf(r).clusters[0]!.cluster), [
    "outbound|9000||multi.default.svc.cluster.local", "outbound|9080||multi.default.svc.cluster.local",
    "outbound|9080||ratings.default.svc.cluster.local", "outbound|9080||unknown.example.com",
  ]);
});

test("redirect and direct response rules", () => {
  const routes = reviewsRoutes({
    http: [
      { match: [{ uri: { exact: "/old" } }], redirect: { uri: "/new" } },
      { match: [{ uri: { exact: "/gone" } }], directResponse: { status: 410, body: { string: "gone" } } },
    ],
  });
  assert.deepEqual(routes.map((r) => r.action), [{ kind: "redirect", code: 301, uri: "/new" }, { kind: "direct", status: 410, body: "gone" }]);
});

test("delegate: root matches AND delegate matches; origins point at the delegate", () => {
  const delegate = JSON.stringify({
    apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "reviews-api", namespace: "team" },
    spec: { http: [{ match: [{ uri: { prefix: "/api/v2" } }, { uri: { prefix: "/other" } }], route: [{ destination: { host: "reviews.default.svc.cluster.local", subset: "v2" } }] }, { route: [{ destination: { host: "reviews.default.svc.cluster.local", subset: "v1" } }] }] },
  }) + "\n---\n";
  const routes = reviewsRoutes({ http: [{ match: [{ uri: { prefix: "/api" }, headers: { x: { exact: "1" } } }], delegate: { name: "reviews-api", namespace: "team" } }] }, undefined, delegate);
  assert.deepEqual(routes.map((r) => [r.match.uri, r.match.headers.map((h) => h.name), forwardOf(r).clusters[0]!.cluster, r.origin.resource, r.origin.ruleIndex, r.origin.matchIndex]), [
    [{ prefix: "/api/v2" }, ["x"], key(9080, "v2"), "VirtualService team/reviews-api", 0, 0],
    [{ prefix: "/api" }, ["x"], key(9080, "v1"), "VirtualService team/reviews-api", 1, -1],
  ]);
});

test("VirtualServices bound only to a gateway, or not exported here, do not apply to sidecars", () => {
  const gwOnly = reviewsRoutes({ gateways: ["ingress"], http: [{ route: [{ destination: { host: "reviews", subset: "v9" } }] }] });
  assert.equal(gwOnly[0]!.name, "default");
  const both = reviewsRoutes({ gateways: ["ingress", "mesh"], http: [{ route: [{ destination: { host: "reviews", subset: "v9" } }] }] });
  assert.equal(forwardOf(both[0]).clusters[0]!.cluster, key(9080, "v9"));
  const hidden = reviewsRoutes({ exportTo: ["."], http: [{ route: [{ destination: { host: "reviews", subset: "v9" } }] }] }, undefined, k8sService("productpage", "front"), "front");
  assert.equal(hidden[0]!.name, "default");
});
