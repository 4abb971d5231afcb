import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../../config/parse.ts";
import type { Service } from "../../model/registry.ts";
import type { Resource } from "../../model/resource.ts";
import { buildSnapshot } from "../../model/snapshot.ts";
import { translate } from "./index.ts";
import { forgetReused } from "./class-reuse.ts";
import { outboundClusters } from "./clusters.ts";
import { buildScope } from "./scope.ts";
import { findVhost, forwardOf, inst, k8sService, sidecarProxy } from "./testing.ts";

const vs = (subset: string): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: ${subset}}}]
  - route: [{destination: {host: reviews, subset: v1}}]
`;

function parsed(yaml: string): Resource[] {
  return parseDocuments(yaml, "test.yaml").resources;
}

const base = parsed(k8sService("reviews") + k8sService("ratings") + `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec: {host: ratings, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}
`);
const proxy = sidecarProxy({ app: "productpage", version: "v1" });
const outbound = (c: ReturnType<typeof translate>) => c.routes.find((r) => r.name === "outbound")!;

/** The same snapshot translated with no class's routes kept: what an uncached control plane sends. */
function uncached(resources: Resource[], services: Service[] = [], instances = [inst("reviews", "v1", "10.0.0.1")]): string {
  forgetReused();
  return JSON.stringify(translate(buildSnapshot(resources, { services, instances }, { version: "v9" }), proxy));
}

test("a registration (an instance more) keeps the class's outbound routes and the other services' clusters: the same objects, the same config as without the cache", () => {
  const resources = [...base, ...parsed(vs("v2"))];
  forgetReused();
  const first = translate(buildSnapshot(resources, { services: [], instances: [inst("reviews", "v1", "10.0.0.1")] }, { version: "v1" }), proxy);
  const registered = buildSnapshot(resources, { services: [], instances: [inst("reviews", "v1", "10.0.0.1"), inst("reviews", "v2", "10.0.0.2")] }, { version: "v2" });
  const second = translate(registered, proxy);
  assert.equal(outbound(second), outbound(first), "not translated again");
  const ratings = "outbound|9080||ratings.default.svc.cluster.local";
  assert.equal(second.clusters.find((c) => c.name === ratings), first.clusters.find((c) => c.name === ratings), "a service whose instances did not change keeps its cluster");
  assert.equal(second.endpoints[ratings], first.endpoints[ratings], "and its endpoint list");
  assert.equal(second.endpoints["outbound|9080|v2|reviews.default.svc.cluster.local"], undefined, "no subsets without a DestinationRule");
  assert.deepEqual(second.endpoints["outbound|9080||reviews.default.svc.cluster.local"]!.map((e) => e.address), ["10.0.0.1", "10.0.0.2"], "the endpoints are the new snapshot's");
  const cached = JSON.stringify(second);
  assert.equal(cached, uncached(resources, [], [inst("reviews", "v1", "10.0.0.1"), inst("reviews", "v2", "10.0.0.2")]).replace('"version":"v9"', '"version":"v2"'));
});

test("outboundClusters keeps a service's clusters and endpoints when only another service's instances changed, and rebuilds that one", () => {
  forgetReused();
  const ratings = "outbound|9080||ratings.default.svc.cluster.local";
  const reviews = "outbound|9080||reviews.default.svc.cluster.local";
  const one = [inst("reviews", "v1", "10.0.0.1"), inst("ratings", "v1", "10.0.0.3")];
  const a = outboundClusters(buildScope(buildSnapshot(base, { services: [], instances: one }, { version: "v1" }), proxy), "class");
  const b = outboundClusters(buildScope(buildSnapshot(base, { services: [], instances: [...one, inst("reviews", "v2", "10.0.0.2")] }, { version: "v2" }), proxy), "class");
  assert.equal(b.clusters.find((c) => c.name === ratings), a.clusters.find((c) => c.name === ratings));
  assert.equal(b.endpoints[ratings], a.endpoints[ratings]);
  assert.notEqual(b.endpoints[reviews], a.endpoints[reviews]);
  assert.deepEqual(b.endpoints[reviews]!.map((e) => e.address), ["10.0.0.1", "10.0.0.2"]);
  assert.deepEqual(b, outboundClusters(buildScope(buildSnapshot(base, { services: [], instances: [...one, inst("reviews", "v2", "10.0.0.2")] }, { version: "v2" }), proxy)), "as built without a class");
});

test("a changed DestinationRule is never served from the kept clusters", () => {
  forgetReused();
  const resources = [...base, ...parsed(vs("v2"))];
  const instances = [inst("ratings", "v1", "10.0.0.3")];
  const lbOf = (c: ReturnType<typeof translate>): string | undefined => c.clusters.find((x) => x.name === "outbound|9080||ratings.default.svc.cluster.local")?.lb.policy;
  const before = translate(buildSnapshot(resources, { services: [], instances }, { version: "v1" }), proxy);
  assert.equal(lbOf(before), "ROUND_ROBIN");
  const dr = parsed(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec: {host: ratings, trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}}
`);
  const changed = [...resources.filter((r) => r.kind !== "DestinationRule"), ...dr];
  const after = translate(buildSnapshot(changed, { services: [], instances }, { version: "v2" }), proxy);
  assert.equal(lbOf(after), "LEAST_REQUEST");
  assert.equal(JSON.stringify(after), uncached(changed, [], instances).replace('"version":"v9"', '"version":"v2"'));
});

test("a changed VirtualService, service or mesh setting is never served from the kept routes", () => {
  forgetReused();
  const before = translate(buildSnapshot([...base, ...parsed(vs("v2"))], { services: [], instances: [] }, { version: "v1" }), proxy);
  const jason = (c: ReturnType<typeof translate>): string => forwardOf(findVhost(c, "reviews.default.svc.cluster.local:9080")!.routes[0]).clusters[0]!.cluster;
  assert.equal(jason(before), "outbound|9080|v2|reviews.default.svc.cluster.local");
  // The VirtualService changed (a new resource object, as the store makes one): v3 now.
  const changed = [...base, ...parsed(vs("v3"))];
  const after = translate(buildSnapshot(changed, { services: [], instances: [] }, { version: "v2" }), proxy);
  assert.notEqual(outbound(after), outbound(before));
  assert.equal(jason(after), "outbound|9080|v3|reviews.default.svc.cluster.local");
  assert.equal(JSON.stringify(after), uncached(changed, [], []).replace('"version":"v9"', '"version":"v2"'));
  // A registry service added (same resources): its virtual host appears.
  const extra: Service = { host: "details.default.svc.cluster.local", name: "details", namespace: "default", origin: "registry", kind: "registry", ports: [{ name: "http", port: 9080, targetPort: 9080, protocol: "http" }], resolution: "STATIC", location: "MESH_INTERNAL", exportTo: ["*"], addresses: [], subjectAltNames: [] };
  translate(buildSnapshot(changed, { services: [], instances: [] }, { version: "v3" }), proxy);
  const withService = translate(buildSnapshot(changed, { services: [extra], instances: [] }, { version: "v4" }), proxy);
  assert.ok(findVhost(withService, "details.default.svc.cluster.local:9080"), "the new service's virtual host");
  assert.equal(JSON.stringify(withService), uncached(changed, [extra], []).replace('"version":"v9"', '"version":"v4"'));
  // The mesh's outbound traffic policy: the catch-all virtual host follows it.
  const registryOnly = translate(buildSnapshot(changed, { services: [extra], instances: [] }, { version: "v5", mesh: { outboundTrafficPolicy: "REGISTRY_ONLY" } }), proxy);
  assert.notEqual(outbound(registryOnly), outbound(withService));
  assert.ok(findVhost(withService, "allow_any"));
  assert.deepEqual([findVhost(registryOnly, "allow_any"), findVhost(registryOnly, "block_all")?.name], [undefined, "block_all"]);
});
