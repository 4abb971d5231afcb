import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { instancesOf, type Service, type WorkloadInstance } from "../../model/registry.ts";
import type { Snapshot } from "../../model/snapshot.ts";
import { backingInstances } from "./index-cache.ts";

// Only what the index reads of a snapshot.
const snapshotOf = (instances: WorkloadInstance[]): Snapshot => ({ destinationRules: [], mesh: { domainSuffix: "cluster.local" }, instances }) as unknown as Snapshot;
const instance = (name: string, namespace: string, labels: Record<string, string>): WorkloadInstance => ({ name, namespace, labels, serviceAccount: "default", address: "10.0.0.1" }) as WorkloadInstance;
const service = (namespace: string, selector: Record<string, string> | undefined): Service => ({ name: "s", namespace, selector, ports: [] }) as unknown as Service;

test("a service's instances through the label index are instancesOf's, in the same order", () => {
  const ns = fc.constantFrom("a", "b");
  // Few keys and values, so that selectors match some instances, several or none; keys that look like Object's own.
  const labels = fc.dictionary(fc.constantFrom("app", "version", "tier", "constructor", "k\u0000x"), fc.constantFrom("x", "y", "z", "x\u0000y", ""), { maxKeys: 3 });
  fc.assert(
    fc.property(fc.array(fc.tuple(ns, labels), { maxLength: 30 }), fc.array(fc.tuple(ns, fc.option(labels, { nil: undefined })), { maxLength: 10 }), (insts, svcs) => {
      const instances = insts.map(([n, l], i) => instance(`i${i}`, n, l));
      const snapshot = snapshotOf(instances);
      for (const [n, selector] of svcs) {
        const s = service(n, selector);
        assert.deepEqual(backingInstances(snapshot, s), instancesOf(s, instances));
        if (selector !== undefined) assert.equal(backingInstances(snapshot, s), backingInstances(snapshot, s), "memoized per service");
      }
    }),
  );
});

test("an empty selector selects every instance of the namespace; no selector none", () => {
  const instances = [instance("x", "a", { app: "x" }), instance("y", "b", { app: "y" }), instance("z", "a", {})];
  const snapshot = snapshotOf(instances);
  assert.deepEqual(backingInstances(snapshot, service("a", {})).map((i) => i.name), ["x", "z"]);
  assert.deepEqual(backingInstances(snapshot, service("a", undefined)), []);
  assert.deepEqual(backingInstances(snapshot, service("a", { app: "x", version: "v1" })), []);
  assert.deepEqual(backingInstances(snapshot, service("b", { app: "y" })).map((i) => i.name), ["y"]);
});
