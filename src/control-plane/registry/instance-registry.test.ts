import assert from "node:assert/strict";
import { it } from "node:test";
import type { InstanceRegistration } from "../../model/wire.ts";
import { InstanceRegistry, RegistrationError } from "./instance-registry.ts";

function reg(name: string, ready = true): InstanceRegistration {
  return {
    instance: { name, namespace: "default", labels: { app: "reviews" }, serviceAccount: "reviews", address: "127.0.0.1", ports: { "9080": 20001 }, ready },
    nodeId: `sidecar~${name}.default`,
    node: { id: `sidecar~${name}.default`, kind: "sidecar", workload: "reviews-v1", namespace: "default", labels: { app: "reviews" }, serviceAccount: "reviews", trustDomain: "cluster.local", ip: "127.0.0.1" },
    outboundPort: 20000,
  };
}

it("upserts, reports no-op re-registrations, finds by node, deletes", () => {
  const r = new InstanceRegistry();
  assert.equal(r.put("default", "reviews-v1-0", reg("reviews-v1-0")), true);
  assert.equal(r.put("default", "reviews-v1-0", reg("reviews-v1-0")), false);
  assert.equal(r.put("default", "reviews-v1-0", reg("reviews-v1-0", false)), true, "readiness change is a change");
  assert.equal(r.forNode("sidecar~reviews-v1-0.default")?.instance.ready, false);
  assert.equal(r.registry().instances.length, 1);
  assert.equal(r.delete("default", "reviews-v1-0"), true);
  assert.equal(r.delete("default", "reviews-v1-0"), false);
  assert.equal(r.forNode("sidecar~reviews-v1-0.default"), undefined);
  assert.deepEqual(r.registry().instances, []);
});

it("refuses malformed registrations and a path that does not match the instance", () => {
  const r = new InstanceRegistry();
  assert.throws(() => r.put("default", "other", reg("reviews-v1-0")), RegistrationError);
  assert.throws(() => r.put("default", "x", { ...reg("x"), outboundPort: -1 }), /outboundPort/);
  assert.throws(() => r.put("default", "x", { ...reg("x"), nodeId: "" }), /nodeId/);
  assert.throws(() => r.put("default", "x", null as unknown as InstanceRegistration), RegistrationError);
  assert.equal(r.size, 0);
});

it("an instance registered without a workload is a replica of its sidecar's workload (Istio labels metrics by it)", () => {
  const r = new InstanceRegistry();
  r.put("default", "reviews-v1-0", reg("reviews-v1-0"));
  const named = reg("reviews-v1-1");
  r.put("default", "reviews-v1-1", { ...named, instance: { ...named.instance, workload: "reviews-legacy" } });
  assert.deepEqual(r.registry().instances.map((i) => [i.name, i.workload]), [["reviews-v1-0", "reviews-v1"], ["reviews-v1-1", "reviews-legacy"]]);
});

it("a sidecar's registration marks its instance as one with a sidecar, unless the instance says sidecar: false (inject \"false\")", () => {
  const r = new InstanceRegistry();
  r.put("default", "reviews-v1-0", reg("reviews-v1-0"));
  const legacy = reg("reviews-v1-1");
  r.put("default", "reviews-v1-1", { ...legacy, instance: { ...legacy.instance, sidecar: false } });
  assert.deepEqual(r.registry().instances.map((i) => [i.name, i.sidecar]), [["reviews-v1-0", true], ["reviews-v1-1", false]]);
});
