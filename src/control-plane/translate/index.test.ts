import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { JsonObject, Resource } from "../../model/resource.ts";
import { buildSnapshot } from "../../model/snapshot.ts";
import { translate } from "./index.ts";
import { findVhost, forwardOf, inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

test("local runtime: peers dial the sidecar's inbound port, which forwards to the app's own port", () => {
  const snap = snapshotFrom(k8sService("web", "default", [{ name: "http", port: 80, targetPort: 8080 }]), [
    inst("web", "v1", "127.0.0.1", { name: "web-0", ports: { "8080": 21001 }, appPorts: { "8080": 21000 } }),
  ]);
  const self = translate(snap, sidecarProxy({ app: "web", version: "v1" }, "default", { id: "sidecar~web-0.default", outboundPort: 21002 }));
  assert.deepEqual(self.listeners.map((l) => [l.name, l.address, l.port]), [["inbound|21001", "127.0.0.1", 21001], ["outbound", "127.0.0.1", 21002]]);
  assert.deepEqual(self.endpoints["inbound|8080||"], [{ address: "127.0.0.1", port: 21000, weight: 1, labels: { app: "web", version: "v1" }, healthy: true, workload: "web-0" }]);
  const client = translate(snap, sidecarProxy({ app: "client" }));
  assert.deepEqual(client.endpoints["outbound|80||web.default.svc.cluster.local"]!.map((e) => `${e.address}:${e.port}`), ["127.0.0.1:21001"]);
  assert.deepEqual(findVhost(client, "web.default.svc.cluster.local:80")!.domains.slice(0, 4), ["web.default.svc.cluster.local", "web.default.svc.cluster.local:80", "web", "web:80"]);
  // A TCP port gets a TCP inbound listener straight to its cluster.
  const tcp = translate(snapshotFrom(k8sService("db", "default", [{ name: "tcp", port: 5432 }])), sidecarProxy({ app: "db" }));
  assert.deepEqual(tcp.listeners.find((l) => l.direction === "inbound")?.tcpRoute, { clusters: [{ cluster: "inbound|5432||", weight: 100 }] });
});

test("endpoints name the workload of each replica (Istio's destination_workload), not the instance", () => {
  const snap = snapshotFrom(k8sService("httpbin", "default", [{ name: "http", port: 8000, targetPort: 8080 }]), [
    inst("httpbin", "v1", "10.0.0.1", { name: "httpbin-v1-0", workload: "httpbin-v1" }),
    inst("httpbin", "v1", "10.0.0.2", { name: "httpbin-v1-1", workload: "httpbin-v1" }),
    inst("httpbin", "v2", "10.0.0.3", { name: "httpbin-v2-0" }),
  ]);
  const cfg = translate(snap, sidecarProxy({ app: "curl" }));
  assert.deepEqual(cfg.endpoints["outbound|8000||httpbin.default.svc.cluster.local"]!.map((e) => [e.address, e.workload]), [["10.0.0.1", "httpbin-v1"], ["10.0.0.2", "httpbin-v1"], ["10.0.0.3", "httpbin-v2-0"]]);
  const own = translate(snap, sidecarProxy({ app: "httpbin", version: "v1" }, "default", { id: "sidecar~httpbin-v1-1.default" }));
  assert.deepEqual(own.endpoints["inbound|8080||"]!.map((e) => e.workload), ["httpbin-v1"]);
});

test("ServiceEntry with workloadSelector picks WorkloadEntries; resolution NONE is passthrough", () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vms}
spec:
  hosts: [legacy.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]
  workloadSelector: {labels: {app: legacy}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-a}
spec: {address: 192.168.0.10, labels: {app: legacy}, serviceAccount: legacy, weight: 3}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: any}
spec: {hosts: [any.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: NONE}
`;
  const cfg = translate(snapshotFrom(yaml), sidecarProxy({ app: "client" }));
  assert.deepEqual(cfg.endpoints["outbound|80||legacy.internal"], [{ address: "192.168.0.10", port: 8080, weight: 3, labels: { app: "legacy" }, healthy: true, workload: "vm-a", serviceAccount: "spiffe://cluster.local/ns/default/sa/legacy" }]);
  const none = cfg.clusters.find((c) => c.name === "outbound|80||any.example.com")!;
  assert.deepEqual([none.discovery, none.lb.policy], ["original_dst", "PASSTHROUGH"]);
  assert.equal(cfg.endpoints["outbound|80||any.example.com"], undefined);
  assert.equal(forwardOf(findVhost(cfg, "any.example.com:80")!.routes[0]).clusters[0]!.cluster, "outbound|80||any.example.com");
});

const KINDS = ["VirtualService", "DestinationRule", "Gateway", "Sidecar", "ServiceEntry", "WorkloadEntry", "Service"] as const;
const FIELDS = [
  "hosts", "gateways", "http", "tcp", "exportTo", "host", "trafficPolicy", "subsets", "servers", "selector", "egress", "outboundTrafficPolicy",
  "ports", "endpoints", "workloadSelector", "resolution", "location", "address", "labels", "match", "route", "delegate", "retries", "fault",
  "mirror", "mirrors", "loadBalancer", "connectionPool", "outlierDetection", "tls", "portLevelSettings", "consistentHash", "number", "name",
  "destination", "subset", "port", "weight", "timeout", "corsPolicy", "headers", "redirect", "directResponse", "rewrite", "uri", "prefix",
  "sourceLabels", "simple", "mode", "targetPort", "protocol", "app",
];

/** JSON built from Istio's own field names at every level, so the odd values land where translation reads. */
const istioish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom<unknown>(null, true, 0, -1, 80, 9080, 1e12, "", "*", "reviews", "mesh", "1s", "bogus", "v1", "ROUND_ROBIN", "ISTIO_MUTUAL", "HTTP", "a/b", "."),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...FIELDS), tie("value"), { maxKeys: 4 }),
  ),
})).value;

function resource(kind: string, name: string, spec: unknown): Resource {
  const body = { apiVersion: kind === "Service" ? "v1" : "networking.istio.io/v1", kind, metadata: { name, namespace: "default" }, spec } as JsonObject;
  return {
    apiVersion: body.apiVersion as string, group: kind === "Service" ? "" : "networking.istio.io", version: "v1", kind,
    metadata: { name, namespace: "default", labels: {}, annotations: {} }, body, source: { file: "f", line: 1, column: 1 },
    positionOf: () => ({ file: "f", line: 1, column: 1 }),
  };
}

test("translation never throws on odd shapes, and is deterministic", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom(...KINDS), fc.constantFrom("a", "b", "reviews"), istioish), { maxLength: 6 }), (docs) => {
      const snap = buildSnapshot(docs.map(([k, n, spec]) => resource(k, n, spec)), { services: [], instances: [inst("reviews", "v1", "10.0.0.1")] });
      for (const proxy of [sidecarProxy({ app: "reviews", version: "v1" }), { ...sidecarProxy({ app: "x" }), kind: "gateway" as const }]) {
        const a = translate(snap, proxy);
        assert.equal(JSON.stringify(translate(snap, proxy)), JSON.stringify(a));
      }
    }),
    { numRuns: 300, seed: 7 },
  );
});
