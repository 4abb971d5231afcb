import assert from "node:assert/strict";
import { it } from "node:test";
import { translate } from "./index.ts";
import { proxyClassKey, selectedLabelKeys } from "./proxy-class.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

// A varied mesh: sourceLabels and sourceNamespace rules, a DR with a workloadSelector, a Sidecar
// selecting one workload, a namespace-default Sidecar, a TCP port, a ServiceEntry, two namespaces.
const YAML = k8sService("reviews") + k8sService("ratings") + k8sService("db", "default", [{ name: "tcp", port: 5432 }]) +
  k8sService("shop", "other", [{ name: "http", port: 80 }]) + `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{sourceLabels: {app: productpage, version: v2}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - match: [{sourceNamespace: other}]
    route: [{destination: {host: reviews, subset: v3}}]
  - route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}, {name: v3, labels: {version: v3}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings-canary}
spec:
  host: ratings
  workloadSelector: {matchLabels: {track: canary}}
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: narrow}
spec:
  workloadSelector: {labels: {app: ratings}}
  egress: [{hosts: ["./reviews.default.svc.cluster.local"]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: other}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
`;
const INSTANCES = [
  inst("reviews", "v1", "10.0.0.1"), inst("reviews", "v2", "10.0.0.2"), inst("reviews", "v3", "10.0.0.3"),
  inst("ratings", "v1", "10.0.0.4"), inst("db", "v1", "10.0.0.5"), inst("shop", "v1", "10.0.0.6", { namespace: "other" }),
  inst("productpage", "v1", "10.0.0.7"), inst("productpage", "v2", "10.0.0.8"),
];
const PROXIES = [
  sidecarProxy({ app: "productpage", version: "v1" }),
  sidecarProxy({ app: "productpage", version: "v2" }),
  sidecarProxy({ app: "productpage", version: "v1", track: "canary" }),
  sidecarProxy({ app: "ratings", version: "v1" }),
  sidecarProxy({ app: "reviews", version: "v1" }),
  sidecarProxy({ app: "reviews", version: "v2" }),
  sidecarProxy({ app: "shop", version: "v1" }, "other"),
  sidecarProxy({ app: "shop", version: "v2" }, "other"),
  { ...sidecarProxy({ app: "productpage", version: "v1" }), id: "sidecar~productpage-v1-1.default", instanceName: "productpage-v1", tcpPorts: { "db.default.svc.cluster.local:5432": 25432 } },
  { ...sidecarProxy({ istio: "ingressgateway" }), id: "router~gw.default", kind: "gateway" as const },
];

it("translation through shared proxy classes equals a fresh translation of every proxy", () => {
  const shared = snapshotFrom(YAML, INSTANCES);
  // Twice over the same snapshot: the second pass is served entirely from the class cache.
  for (const pass of [1, 2]) {
    for (const p of PROXIES) assert.deepEqual(translate(shared, p), translate(snapshotFrom(YAML, INSTANCES), p), `${p.id} pass ${pass}`);
  }
});

it("proxies of one class share outbound objects; sourceLabels split classes", () => {
  const snap = snapshotFrom(YAML, INSTANCES);
  assert.deepEqual(selectedLabelKeys(snap), ["app", "track", "version"]);
  const a = translate(snap, PROXIES[4]!);
  const b = translate(snap, { ...PROXIES[4]!, id: "sidecar~reviews-v1-9.default", ip: "10.9.9.9" });
  assert.equal(a.routes.find((r) => r.name === "outbound"), b.routes.find((r) => r.name === "outbound"));
  assert.equal(a.clusters.find((c) => c.name.startsWith("outbound|9080||ratings")), b.clusters.find((c) => c.name.startsWith("outbound|9080||ratings")));
  // Differing in a label that sourceLabels reads: a different class, different routes.
  const v1 = translate(snap, PROXIES[0]!);
  const v2 = translate(snap, PROXIES[1]!);
  assert.notEqual(proxyClassKey(snap, PROXIES[0]!), proxyClassKey(snap, PROXIES[1]!));
  const first = (c: typeof v1) => JSON.stringify(c.routes.find((r) => r.name === "outbound")!.virtualHosts.find((v) => v.name === "reviews.default.svc.cluster.local:9080")!.routes[0]!.action);
  assert.match(first(v2), /\|v2\|/);
  assert.match(first(v1), /\|v1\|/);
  // A label no selector reads does not split a class.
  assert.equal(proxyClassKey(snap, { ...PROXIES[4]!, labels: { ...PROXIES[4]!.labels, team: "x" } }), proxyClassKey(snap, PROXIES[4]!));
});
