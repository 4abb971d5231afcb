// Delta push over real translations: the class-shared part of a config is diffed once per class
// (model/shared-parts.ts), and what proxies receive is what a whole-config diff would give them.
import assert from "node:assert/strict";
import { it } from "node:test";
import { seededRandom } from "../../core/random.ts";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import { assembleConfig, forEachResource, RESOURCE_TYPES, type ResourceType } from "../../model/resources.ts";
import { markSharedClusters } from "../../model/shared-parts.ts";
import type { DeltaMessage, PushMessage } from "../../model/wire.ts";
import type { Snapshot } from "../../model/snapshot.ts";
import { FakeClock } from "../../testing/fake-clock.ts";
import { translate } from "../translate/index.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "../translate/testing.ts";
import { diffConfigs } from "./delta.ts";
import { Pusher, type PushSink } from "./pusher.ts";

const vs = (name: string, ns: string, timeout: string, exportTo = "['*']") => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hosts: [${name}]
  exportTo: ${exportTo}
  http:
  - route: [{destination: {host: ${name}}}]
    timeout: ${timeout}
---
`;

/** Two namespaces (two proxy classes), services in each; `a1`'s VirtualService is visible in ns-a only. */
function mesh(timeout: string, extra = ""): Snapshot {
  const yaml = k8sService("a1", "ns-a") + k8sService("a2", "ns-a") + k8sService("b1", "ns-b") + vs("a1", "ns-a", timeout, "['.']") + vs("b1", "ns-b", "5s") + extra;
  return snapshotFrom(yaml, [inst("a1", "v1", "10.0.0.1", { namespace: "ns-a" }), inst("a2", "v1", "10.0.0.2", { namespace: "ns-a" }), inst("b1", "v1", "10.0.0.3", { namespace: "ns-b" })]);
}

const proxies = {
  a: sidecarProxy({ app: "a1", version: "v1" }, "ns-a", { instanceName: "a1-v1" }),
  a2: sidecarProxy({ app: "a2", version: "v1" }, "ns-a", { instanceName: "a2-v1" }),
  b: sidecarProxy({ app: "b1", version: "v1" }, "ns-b", { instanceName: "b1-v1" }),
};

/** The same config with fresh collections: no shared-part record, so it is diffed whole. */
function unmarked(c: ProxyConfig): ProxyConfig {
  return { ...c, clusters: [...c.clusters], endpoints: { ...c.endpoints }, routes: [...c.routes], listeners: [...c.listeners] };
}

const summary = (d: ReturnType<typeof diffConfigs>) =>
  Object.fromEntries([...d].map(([t, c]) => [t, { changed: c.changed.map(([n]) => n).sort(), added: c.added, removed: [...c.removed].sort() }]));

it("per class, per proxy: the diff by shared and own parts equals the whole diff, for changes, additions and removals", () => {
  const steps = [mesh("1s"), mesh("2s"), mesh("2s", k8sService("a3", "ns-a")), mesh("3s", vs("a2", "ns-a", "4s")), mesh("3s")];
  for (const p of Object.values(proxies)) {
    let prev: ProxyConfig | null = null;
    for (const snap of steps) {
      const next = translate(snap, p);
      assert.deepEqual(summary(diffConfigs(prev, next)), summary(diffConfigs(prev && unmarked(prev), unmarked(next))), `${p.id} at ${snap.version}`);
      prev = next;
    }
  }
});

it("the class part of a change is diffed once: proxies of one class share its change; a class the change does not reach gets none", () => {
  const s1 = mesh("1s");
  const s2 = mesh("2s");
  const [a1, a2, b1] = [proxies.a, proxies.a2, proxies.b].map((p) => translate(s1, p));
  const [a1n, a2n, b1n] = [proxies.a, proxies.a2, proxies.b].map((p) => translate(s2, p));
  const da = diffConfigs(a1!, a1n!);
  const da2 = diffConfigs(a2!, a2n!);
  assert.deepEqual(summary(da), { virtual_host: { changed: ["outbound/a1.ns-a.svc.cluster.local:9080"], added: 0, removed: [] } });
  assert.equal(da.get("virtual_host"), da2.get("virtual_host"), "the very same change object for both proxies of ns-a");
  assert.equal(diffConfigs(b1!, b1n!).size, 0, "ns-b does not see a1's VirtualService (exportTo '.')");
});

it("a name in both the shared and the own part (a merge clash) falls back to the whole diff", () => {
  const c = (n: string, t: number) => ({ name: n, connectTimeoutMs: t }) as unknown as ProxyConfig["clusters"][number];
  const base = { version: "v1", node: { id: "n" } as ProxyConfig["node"], listeners: [], routes: [], endpoints: {} };
  const before: ProxyConfig = { ...base, clusters: [c("a", 1), c("b", 1)] };
  markSharedClusters(before.clusters, { shared: [c("a", 1), c("b", 1)], own: [] });
  const after: ProxyConfig = { ...base, clusters: [c("a", 1), c("b", 2)] };
  // "b" moved from the shared part to the own part (with another content): the halves alone would say "removed b" and "added b".
  markSharedClusters(after.clusters, { shared: [c("a", 1)], own: [c("b", 2)] });
  assert.deepEqual(summary(diffConfigs(before, after)), { cluster: { changed: ["b"], added: 0, removed: [] } });
});

class Sink implements PushSink {
  lines: DeltaMessage[] = [];
  write(line: string): void {
    const m = JSON.parse(line) as PushMessage;
    if (m.type === "delta") this.lines.push(m);
  }
  close(): void {}
}

/** The config a sidecar folds from the messages of its stream (as src/proxy/control/resource-state.ts does). */
function folded(messages: DeltaMessage[]): ProxyConfig {
  const held = new Map<ResourceType, Map<string, unknown>>();
  for (const m of messages) {
    if (m.full) held.clear();
    for (const [type, t] of Object.entries(m.types) as [ResourceType, NonNullable<DeltaMessage["types"][ResourceType]>][]) {
      const map = held.get(type) ?? new Map<string, unknown>();
      held.set(type, map);
      for (const r of t.resources) map.set(r.name, r.resource);
      for (const n of t.removed) map.delete(n);
    }
  }
  return assembleConfig(messages.at(-1)!.version, held);
}

it("through the pusher: only the reached class's proxies get a message, each folds to its config, and a reconnecting proxy gets its full state", () => {
  const clock = new FakeClock();
  let snap = mesh("1s");
  const byNode = new Map(Object.values(proxies).map((p) => [p.id, p]));
  const pusher = new Pusher({ clock, random: seededRandom(1), debounceMs: 50, configFor: (node) => translate(snap, byNode.get(node)!) });
  const sinks = new Map([...byNode.keys()].map((n) => [n, new Sink()]));
  for (const [n, s] of sinks) pusher.connect(n, s, { delta: true });
  clock.advance(0);
  const settle = async () => {
    for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
  };
  return (async () => {
    await settle();
    for (const s of sinks.values()) assert.equal(s.lines.length, 1, "full state on connect");
    snap = mesh("2s");
    pusher.schedule();
    clock.advance(50);
    await settle();
    assert.equal(sinks.get(proxies.a.id)!.lines.length, 2);
    assert.equal(sinks.get(proxies.a2.id)!.lines.length, 2);
    assert.equal(sinks.get(proxies.b.id)!.lines.length, 1, "ns-b's class did not change: nothing sent");
    for (const [n, s] of sinks) assert.deepEqual(folded(s.lines), JSON.parse(JSON.stringify(translate(snap, byNode.get(n)!))), n);
    const again = new Sink();
    pusher.connect(proxies.b.id, again, { delta: true });
    await settle();
    assert.equal(again.lines.length, 1);
    assert.equal(again.lines[0]!.full, true);
    const full = translate(snap, proxies.b);
    for (const type of RESOURCE_TYPES) {
      let n = 0;
      forEachResource(full, type, () => n++);
      assert.equal(again.lines[0]!.types[type]?.resources.length ?? 0, n, type);
    }
    assert.deepEqual(folded(again.lines), JSON.parse(JSON.stringify(full)));
    pusher.close();
  })();
});

it("across snapshots, unchanged clusters and endpoints are the very same objects (no compare per proxy); a changed endpoint list is new, its neighbours are not", () => {
  const p = proxies.a;
  const c1 = translate(mesh("1s"), p);
  const c2 = translate(mesh("2s"), p);
  assert.equal(c2.clusters, c1.clusters, "a VirtualService change leaves the merged cluster list as it was");
  assert.equal(c2.endpoints, c1.endpoints);
  assert.equal(diffConfigs(c1, c2).has("cluster"), false);
  const moved = snapshotFrom(k8sService("a1", "ns-a") + k8sService("a2", "ns-a") + k8sService("b1", "ns-b") + vs("a1", "ns-a", "2s", "['.']") + vs("b1", "ns-b", "5s"), [
    inst("a1", "v1", "10.0.0.1", { namespace: "ns-a" }),
    inst("a2", "v1", "10.0.0.9", { namespace: "ns-a" }),
    inst("b1", "v1", "10.0.0.3", { namespace: "ns-b" }),
  ]);
  const c3 = translate(moved, p);
  const a1 = "outbound|9080||a1.ns-a.svc.cluster.local";
  const a2 = "outbound|9080||a2.ns-a.svc.cluster.local";
  assert.notEqual(c3.endpoints[a2], c2.endpoints[a2]);
  assert.equal(c3.endpoints[a2]![0]!.address, "10.0.0.9");
  assert.equal(c3.endpoints[a1], c2.endpoints[a1], "an unchanged neighbour keeps its object");
  assert.deepEqual(summary(diffConfigs(c2, c3)), { endpoints: { changed: [a2], added: 0, removed: [] } });
});
