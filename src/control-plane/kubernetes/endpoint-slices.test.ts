import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDocuments } from "../../config/parse.ts";
import { buildSnapshot } from "../../model/snapshot.ts";
import type { WorkloadInstance } from "../../model/registry.ts";
import { sliceInstances, sliceService } from "./endpoint-slices.ts";
import type { KubeObject } from "./reflector.ts";

const slice = (endpoints: object[], ports: object[] = [{ name: "http", port: 8080, protocol: "TCP" }]): KubeObject => ({
  metadata: { name: "ext-abc", namespace: "shop", labels: { "kubernetes.io/service-name": "ext" } },
  addressType: "IPv4",
  ports,
  endpoints,
});

const pod: WorkloadInstance = { name: "db-0", namespace: "shop", labels: { app: "db" }, serviceAccount: "db", address: "10.1.0.9", ports: { "5432": 15006 }, ready: true, workload: "db", sidecar: true };

describe("EndpointSlices as a Service's endpoints", () => {
  it("belong to the Service their label names", () => {
    assert.equal(sliceService(slice([])), "shop/ext");
    assert.equal(sliceService({ metadata: { name: "x", namespace: "shop" } }), null);
  });

  it("ready unless ready is false (nil is ready); a terminating not-ready endpoint is left out", () => {
    const got = sliceInstances(slice([
      { addresses: ["10.30.0.5"], conditions: { ready: true } },
      { addresses: ["10.30.0.6"], conditions: { ready: false } },
      { addresses: ["10.30.0.7"], conditions: {} },
      { addresses: ["10.30.0.8"], conditions: { ready: false, terminating: true } },
    ]), () => undefined);
    assert.deepEqual(got.map((i) => [i.address, i.ready, i.ports, i.serviceAccount]), [
      ["10.30.0.5", true, { http: 8080 }, ""],
      ["10.30.0.6", false, { http: 8080 }, ""],
      ["10.30.0.7", true, { http: 8080 }, ""],
    ]);
    assert.deepEqual(sliceInstances({ ...slice([{ addresses: ["a.example"] }]), addressType: "FQDN" }, () => undefined), []);
  });

  it("an endpoint of a known pod takes its labels, service account and sidecar, and its inbound listener as port", () => {
    const [i] = sliceInstances(slice([{ addresses: ["10.1.0.9"], targetRef: { kind: "Pod", name: "db-0", namespace: "shop" } }], [{ name: "", port: 5432 }]), (ns, name) => (ns === "shop" && name === "db-0" ? pod : undefined));
    assert.deepEqual(i, { name: "db-0", namespace: "shop", labels: { app: "db" }, serviceAccount: "db", address: "10.1.0.9", ports: { "": 15006 }, ready: true, workload: "db", sidecar: true });
  });

  it("are taken for a Service without a selector only, service ports matched to slice ports by name", () => {
    const resources = parseDocuments(`apiVersion: v1
kind: Service
metadata: {name: ext, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: sel, namespace: shop}
spec: {selector: {app: sel}, ports: [{name: http, port: 80}]}
`, "test.yaml").resources;
    const sliced = sliceInstances(slice([{ addresses: ["10.30.0.5"] }]), () => undefined);
    const snap = buildSnapshot(resources, { services: [], instances: [], serviceEndpoints: new Map([["shop/ext", sliced], ["shop/sel", sliced]]) });
    const ext = snap.services.find((s) => s.name === "ext")!;
    assert.deepEqual(ext.endpoints?.map((e) => [e.address, e.ports]), [["10.30.0.5", { "80": 8080, http: 8080 }]]);
    assert.equal(snap.services.find((s) => s.name === "sel")!.endpoints, undefined);
  });
});
