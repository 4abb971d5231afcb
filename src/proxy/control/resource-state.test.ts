import assert from "node:assert/strict";
import { it } from "node:test";
import type { DeltaMessage, TypeDelta } from "../../model/wire.ts";
import { checkProxyConfig } from "../config-check.ts";
import { ResourceState } from "./resource-state.ts";

const res = (name: string, v = "1", body: Record<string, unknown> = {}) => ({ name, version: v, resource: { name, ...body } });
const td = (resources: TypeDelta["resources"], removed: string[] = []): TypeDelta => ({ version: "v", resources, removed });
const msg = (nonce: string, full: boolean, types: DeltaMessage["types"]): DeltaMessage => ({ type: "delta", version: `v-${nonce}`, nonce, full, types });

it("folds changes by name and assembles the config sorted, as translation sorts it", () => {
  const s = new ResourceState();
  s.fold(msg("1", true, { cluster: td([res("b"), res("a")]), endpoints: { version: "v", resources: [{ name: "a", version: "1", resource: [{ address: "10.0.0.1", port: 80 }] }], removed: [] }, bootstrap: { version: "v", resources: [{ name: "node", version: "1", resource: { id: "n" } }], removed: [] } }));
  const r = s.fold(msg("2", false, { cluster: td([res("c"), res("a", "2", { x: 1 })], ["b"]) }));
  assert.deepEqual([...r], [["cluster", { updated: 2, removed: 1 }]]);
  const c = s.config("v7");
  assert.equal(c.version, "v7");
  assert.deepEqual(c.clusters, [{ name: "a", x: 1 }, { name: "c" }]);
  assert.deepEqual(c.endpoints, { a: [{ address: "10.0.0.1", port: 80 }] });
  assert.deepEqual(c.node, { id: "n" });
  assert.deepEqual(c.listeners, []);
  assert.deepEqual(s.versions().cluster, { a: "2", c: "1" });
  s.fold(msg("3", false, { cluster: td([], ["nope"]) }));
  assert.equal(s.config("v8").clusters.length, 2, "removing a name it does not hold is no error");
});

it("a full state replaces everything it held", () => {
  const s = new ResourceState();
  s.fold(msg("1", true, { cluster: td([res("a")]), listener: td([res("l")]) }));
  s.fold(msg("2", true, { cluster: td([res("b")]) }));
  const c = s.config("v");
  assert.deepEqual(c.clusters, [{ name: "b" }]);
  assert.deepEqual(c.listeners, []);
});

it("a malformed message is refused with its field path and changes nothing", () => {
  const s = new ResourceState();
  s.fold(msg("1", true, { cluster: td([res("a")]) }));
  const bad = [
    [msg("2", false, { widget: td([]) } as unknown as DeltaMessage["types"]), /types\.widget: unknown resource type/],
    [msg("3", false, { cluster: { version: "v", resources: [{ name: "", version: "1", resource: {} }, res("z")], removed: [] } }), /types\.cluster\.resources\[0\]\.name/],
    [msg("4", false, { cluster: { version: "v", resources: [res("z")] } as unknown as TypeDelta }), /types\.cluster: needs resources\[\] and removed\[\]/],
  ] as const;
  for (const [m, re] of bad) assert.throws(() => s.fold(m), re);
  assert.deepEqual(s.config("v").clusters, [{ name: "a" }]);
});

it("the config a sidecar adopts is made of the held resources: one copy, not two", () => {
  const s = new ResourceState();
  // As parsed from the wire: every occurrence of a value its own string.
  const wire = JSON.parse(JSON.stringify(msg("1", true, { cluster: td([res("a", "1", { tls: { mode: "ISTIO_MUTUAL" } }), res("b", "1", { tls: { mode: "ISTIO_MUTUAL" } })]), bootstrap: td([{ name: "node", version: "1", resource: { id: "n", workload: "w", namespace: "default", serviceAccount: "sa" } }]) }))) as DeltaMessage;
  s.fold(wire);
  const held = wire.types.cluster!.resources.map((r) => r.resource as { tls: { mode: string } });
  const c = checkProxyConfig(s.config("v"), true);
  assert.equal(c.clusters[0], held[0] as unknown, "the running config's cluster is the held resource");
  assert.equal(c.clusters[1]?.lb.policy, "LEAST_REQUEST", "completed in place");
  assert.deepEqual(s.config("v2").clusters, c.clusters, "the next config assembled from them is unchanged in value");
});

it("assembles in the order of UTF-16 code units, as translation's `<` sorts names (not the locale's)", () => {
  const s = new ResourceState();
  const names = ["outbound|9080|v1|a.svc", "outbound|9080||a.svc", "b", "B", "é", "a"];
  s.fold(msg("1", true, { cluster: td(names.map((n) => res(n))) }));
  assert.deepEqual(s.config("v").clusters.map((c) => c.name), ["B", "a", "b", "outbound|9080|v1|a.svc", "outbound|9080||a.svc", "é"]);
  assert.deepEqual(Object.keys(s.versions().cluster ?? {}).sort(), [...names].sort());
});
