import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../config/parse.ts";
import { endpointPort, appPort, type WorkloadInstance } from "./registry.ts";
import { buildSnapshot, makeEntries, resolveHost } from "./snapshot.ts";
import { protocolFromPort } from "./snapshot-services.ts";

const YAML = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, annotations: {networking.istio.io/exportTo: "shop, ops"}}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: dns, port: 53, protocol: UDP}
  - {name: grpc-api, port: 9090, targetPort: grpc}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [api.example.com, db]
  ports: [{number: 443, name: https, protocol: HTTPS}, {number: 80, name: http, protocol: HTTP, targetPort: 8000}]
  resolution: STATIC
  location: MESH_INTERNAL
  endpoints: [{address: 10.9.0.1, labels: {v: "1"}, ports: {http: 8081}}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: shop}
spec: {address: 10.8.0.1, labels: {app: web}, serviceAccount: web-vm}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: z}
spec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: b}
spec: {hosts: [a]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: z}
spec: {hosts: [replaced]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ignored}
`;

test("services from v1 Service and ServiceEntry; instances from WorkloadEntry; sorted, deduplicated, frozen", () => {
  const { resources } = parseDocuments(YAML, "mesh.yaml");
  const pod: WorkloadInstance = { name: "web-1", namespace: "shop", labels: { app: "web" }, serviceAccount: "web", address: "10.0.0.1", ready: false };
  const snap = buildSnapshot(resources, { services: [], instances: [pod] }, { version: "7" });
  assert.equal(snap.version, "7");
  assert.deepEqual(snap.services.map((s) => s.host), ["api.example.com", "db.default.svc.cluster.local", "web.shop.svc.cluster.local"]);
  const web = snap.services[2]!;
  assert.deepEqual(web.ports, [{ name: "http", port: 80, targetPort: 8080, protocol: "http" }, { name: "grpc-api", port: 9090, targetPort: "grpc", protocol: "grpc" }]);
  assert.deepEqual(web.exportTo, ["shop", "ops"]);
  assert.deepEqual(web.selector, { app: "web" });
  const ext = snap.services[0]!;
  assert.deepEqual([ext.kind, ext.resolution, ext.location, ext.endpoints?.length], ["service-entry", "STATIC", "MESH_INTERNAL", 1]);
  assert.equal(endpointPort(ext.endpoints![0]!, ext.ports[0]!), 8081);
  assert.equal(endpointPort(ext.endpoints![0]!, ext.ports[1]!), 443);
  assert.deepEqual(snap.instances.map((i) => [i.name, i.serviceAccount, i.ready]), [["vm-1", "web-vm", true], ["web-1", "web", false]]);
  assert.deepEqual(snap.virtualServices.map((v) => [v.id, v.spec.hosts]), [["VirtualService b/a", ["a"]], ["VirtualService default/z", ["replaced"]]]);
  assert.equal(snap.virtualServices[1]!.positionOf(["spec"]).line, 40);
  assert.ok(Object.isFrozen(snap.services[0]!.ports));
  assert.throws(() => { (snap.instances as WorkloadInstance[]).push(pod); });
  // The caller's objects are not frozen or changed.
  assert.equal(Object.isFrozen(pod), false);
  assert.equal(Object.isFrozen(resources[0]!.body), false);
});

test("ports: protocol from appProtocol or name prefix; named target ports; local runtime port maps", () => {
  const cases: [string, string | undefined, string][] = [
    ["http", undefined, "http"], ["http-web", undefined, "http"], ["grpc-web", undefined, "grpc-web"], ["grpc-web-x", undefined, "grpc-web"],
    ["http2", undefined, "http2"], ["tcp-db", undefined, "tcp"], ["web", undefined, ""], ["", "http", "http"], ["tcp", "kubernetes.io/h2c", "http2"],
    ["x", "HTTPS", "https"], ["mongo", undefined, "mongo"],
  ];
  for (const [name, ap, want] of cases) assert.equal(protocolFromPort(name, ap), want, `${name}/${ap}`);
  const port = { name: "http", port: 80, targetPort: 8080, protocol: "http" };
  const local: WorkloadInstance = { name: "a", namespace: "d", labels: {}, serviceAccount: "a", address: "127.0.0.1", ready: true, ports: { "8080": 20001 }, appPorts: { http: 20002 } };
  assert.equal(endpointPort(local, port), 20001);
  assert.equal(appPort(local, port), 20002);
  const pod: WorkloadInstance = { ...local, ports: undefined, appPorts: undefined };
  assert.equal(endpointPort(pod, port), 8080);
  assert.equal(endpointPort(pod, { ...port, targetPort: "web" }), undefined);
  assert.equal(endpointPort({ ...pod, ports: { web: 3000 } }, { ...port, targetPort: "web" }), 3000);
});

test("short host names resolve in a namespace; dotted names and wildcards stay", () => {
  assert.equal(resolveHost("reviews", "default", "cluster.local"), "reviews.default.svc.cluster.local");
  assert.equal(resolveHost("reviews.prod", "default", "cluster.local"), "reviews.prod");
  assert.equal(resolveHost("*.example.com", "default", "cluster.local"), "*.example.com");
  assert.equal(resolveHost("*", "default", "cluster.local"), "*");
});

test("a new snapshot of the same resource objects shares their entries and WorkloadEntry instances; a changed resource gets its own", () => {
  const { resources } = parseDocuments(YAML, "mesh.yaml");
  const before = buildSnapshot(resources, { services: [], instances: [] }, { version: "v1" });
  const registered: WorkloadInstance = { name: "web-0", namespace: "shop", labels: { app: "web" }, serviceAccount: "web", address: "10.0.0.5", ready: true };
  const after = buildSnapshot(resources, { services: [], instances: [registered] }, { version: "v2" });
  assert.equal(after.virtualServices[0], before.virtualServices[0], "unchanged resource: the same (frozen) entry");
  assert.equal(after.workloadEntries[0], before.workloadEntries[0]);
  assert.ok(Object.isFrozen(after.virtualServices[0]!.spec));
  const vm = (s: typeof before): WorkloadInstance => s.instances.find((i) => i.name === "vm-1")!;
  assert.equal(vm(after), vm(before), "a WorkloadEntry's instance is shared too");
  assert.equal(after.instances.length, before.instances.length + 1);
  const changed = parseDocuments(YAML.replace("address: 10.8.0.1", "address: 10.8.0.2"), "mesh.yaml").resources;
  const next = buildSnapshot(changed, { services: [], instances: [] }, { version: "v3" });
  assert.notEqual(next.workloadEntries[0], before.workloadEntries[0], "a new resource object: a new entry");
  assert.equal(vm(next).address, "10.8.0.2");
  assert.equal(vm(before).address, "10.8.0.1", "the older snapshot keeps its own");
});

test("makeEntries makes the entries and WorkloadEntry instances that the next snapshot of the same resources shares", () => {
  const { resources } = parseDocuments(YAML, "mesh.yaml");
  // The Service, the ServiceEntry, the WorkloadEntry and three VirtualServices (one replaced by a later one of its name).
  assert.equal(makeEntries(resources), 6);
  assert.equal(makeEntries(resources), 0, "made once per resource object");
  const made = buildSnapshot(resources, { services: [], instances: [] }, { version: "v1" });
  const fresh = buildSnapshot(parseDocuments(YAML, "mesh.yaml").resources, { services: [], instances: [] }, { version: "v1" });
  assert.equal(JSON.stringify(made), JSON.stringify(fresh), "the same snapshot as one built without them");
  assert.ok(Object.isFrozen(made.workloadEntries[0]!.spec));
  const changed = parseDocuments(YAML.replace("address: 10.8.0.1", "address: 10.8.0.2"), "mesh.yaml").resources;
  assert.equal(makeEntries(changed), 6, "new resource objects: new entries");
  assert.equal(makeEntries(changed, "example.internal"), 1, "another domain suffix: the Service again");
  assert.equal(buildSnapshot(changed, { services: [], instances: [] }).instances.find((i) => i.name === "vm-1")!.address, "10.8.0.2");
});

test("a Kubernetes Service's Service is shared by the snapshots of the same resource; EndpointSlices and another domain suffix get their own", () => {
  const { resources } = parseDocuments(YAML, "mesh.yaml");
  const web = (snap: ReturnType<typeof buildSnapshot>) => snap.services.find((s) => s.name === "web")!;
  const before = buildSnapshot(resources, { services: [], instances: [] }, { version: "v1" });
  const after = buildSnapshot(resources, { services: [], instances: [] }, { version: "v2" });
  assert.equal(web(after), web(before), "the same (frozen) Service");
  assert.ok(Object.isFrozen(web(after).ports[0]));
  const fresh = buildSnapshot(parseDocuments(YAML, "mesh.yaml").resources, { services: [], instances: [] }, { version: "v2" });
  assert.notEqual(web(fresh), web(before), "a new resource object: a new Service");
  assert.equal(JSON.stringify(fresh), JSON.stringify(after), "the same snapshot as one built from new objects");
  const other = buildSnapshot(resources, { services: [], instances: [] }, { mesh: { domainSuffix: "example.internal" } });
  assert.equal(web(other).host, "web.shop.svc.example.internal");
  assert.equal(web(buildSnapshot(resources)).host, "web.shop.svc.cluster.local");

  const selectorless = parseDocuments(YAML.replace("  selector: {app: web}\n", ""), "mesh.yaml").resources;
  const slice: WorkloadInstance = { name: "web-slice-0", namespace: "shop", labels: {}, serviceAccount: "", address: "10.0.0.9", ready: true, ports: { http: 8080 } };
  const sliced = buildSnapshot(selectorless, { services: [], instances: [], serviceEndpoints: new Map([["shop/web", [slice]]]) });
  assert.equal(web(sliced).endpoints?.[0]?.address, "10.0.0.9");
  assert.equal(web(buildSnapshot(selectorless)).endpoints, undefined, "the shared Service is not given them");
});

test("makeEntries finds each VirtualService rule's position (what translation gives its routes), once per resource", () => {
  const { resources } = parseDocuments(YAML, "mesh.yaml");
  let walked = 0;
  const counted = resources.map((r) => ({ ...r, positionOf: (p: Parameters<typeof r.positionOf>[0]) => (walked++, r.positionOf(p)) }));
  makeEntries(counted);
  // Three VirtualServices (z, b/a and the later z that replaces it): one rule between them.
  assert.equal(walked, 1);
  const vs = buildSnapshot(counted, { services: [], instances: [] }).virtualServices;
  for (const e of vs) for (let i = 0; i < (e.spec.http?.length ?? 0); i++) e.positionOf(["spec", "http", i]);
  assert.equal(walked, 1, "translation finds them made");
  assert.deepEqual(vs[0]!.positionOf(["spec", "hosts"]), resources.find((r) => r.kind === "VirtualService" && r.metadata.namespace === "b")!.positionOf(["spec", "hosts"]));
  assert.equal(walked, 2, "another path is looked up when asked");
});

test("a snapshot of the same resource objects with another registry shares their sorted lists; the registry's services and instances are merged in as a sort would place them", () => {
  const { resources } = parseDocuments(YAML, "mesh.yaml");
  const before = buildSnapshot(resources, { services: [], instances: [] }, { version: "v1" });
  // Ties with the resources' own: the registry's instance first, its service after the resources' one.
  const vmTwin: WorkloadInstance = { name: "vm-1", namespace: "shop", labels: { app: "web", twin: "yes" }, serviceAccount: "web", address: "10.8.0.1", ready: true };
  const registry = { services: [{ ...before.services[1]!, subjectAltNames: ["spiffe://twin"] }], instances: [vmTwin, { ...vmTwin, name: "a-0", namespace: "a" }] };
  const after = buildSnapshot(resources, registry, { version: "v2" });
  assert.equal(after.virtualServices, before.virtualServices, "the same (frozen) list");
  assert.equal(after.destinationRules, before.destinationRules);
  assert.deepEqual(after.instances.map((i) => `${i.namespace}/${i.name}/${i.labels.twin ?? ""}`), ["a/a-0/yes", "shop/vm-1/yes", "shop/vm-1/"]);
  assert.deepEqual(after.services.map((s) => `${s.host} ${s.subjectAltNames.join()}`), ["api.example.com ", "db.default.svc.cluster.local ", "db.default.svc.cluster.local spiffe://twin", "web.shop.svc.cluster.local "]);
  const fresh = buildSnapshot(parseDocuments(YAML, "mesh.yaml").resources, registry, { version: "v2" });
  assert.notEqual(fresh.virtualServices, before.virtualServices, "new resource objects: lists of their own");
  assert.equal(JSON.stringify(after), JSON.stringify(fresh));
  assert.ok(Object.isFrozen(after.services) && Object.isFrozen(after.instances[0]));
});
