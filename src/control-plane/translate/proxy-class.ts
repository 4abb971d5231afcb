// Proxy classes: proxies whose outbound view of a snapshot is necessarily the same share one
// translation of it. The outbound part (services in scope, their clusters and endpoints, the
// `outbound` route configuration) depends on the proxy only through its kind, its namespace
// (exportTo, Sidecar choice, domain forms, sourceNamespace) and the values of the labels that
// some selector in the snapshot looks at (Sidecar and DestinationRule workloadSelectors,
// sourceLabels of VirtualService matches, Gateway selectors). Two proxies that agree on those get
// the same objects: they are built once per snapshot and never mutated afterwards, so sharing them
// is safe as long as callers treat a translated config as read-only (the pusher only serializes).
import type { NodeInfo } from "../../model/proxy-config.ts";
import type { Snapshot } from "../../model/snapshot.ts";
import { obj, strMap } from "./common.ts";
import { snapshotIndex } from "./index-cache.ts";

/**
 * Per VirtualService list (which the snapshots of one set of resources share, model/snapshot.ts),
 * with the other lists the keys were read from: a registration's snapshot finds them made.
 */
const selectorKeys = new WeakMap<Snapshot["virtualServices"], { from: readonly (readonly unknown[])[]; keys: string[] }>();

/** Every label key a selector in the snapshot reads from a proxy's labels, sorted. */
export function selectedLabelKeys(snapshot: Snapshot): string[] {
  const from = [snapshot.sidecars, snapshot.destinationRules, snapshot.gateways];
  const made = selectorKeys.get(snapshot.virtualServices);
  if (made !== undefined && made.from.every((list, i) => list === from[i])) return made.keys;
  const set = new Set<string>();
  const add = (m: unknown): void => {
    for (const k of Object.keys(strMap(m) ?? {})) set.add(k);
  };
  for (const s of snapshot.sidecars) add(obj(s.spec.workloadSelector)?.labels);
  for (const d of snapshot.destinationRules) add(obj(d.spec.workloadSelector)?.matchLabels);
  for (const g of snapshot.gateways) add(g.spec.selector);
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const field = (v: unknown, k: string): unknown => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined);
  for (const vs of snapshot.virtualServices) {
    for (const rule of [...list(vs.spec.http), ...list(vs.spec.tcp), ...list(vs.spec.tls)]) {
      for (const m of list(field(rule, "match"))) add(field(m, "sourceLabels"));
    }
  }
  const keys = [...set].sort();
  selectorKeys.set(snapshot.virtualServices, { from, keys });
  return keys;
}

/** The class of a proxy in a snapshot: equal keys ⇒ equal outbound translation. */
export function proxyClassKey(snapshot: Snapshot, node: NodeInfo): string {
  const labels = node.labels ?? {};
  return JSON.stringify([node.kind, node.namespace || "default", selectedLabelKeys(snapshot).map((k) => (Object.hasOwn(labels, k) ? labels[k] : null))]);
}

/** The value built for this proxy class in this snapshot (built on first use). */
export function sharedByClass<T>(snapshot: Snapshot, key: string, build: () => T): T {
  const classes = snapshotIndex(snapshot).classes;
  if (classes.has(key)) return classes.get(key) as T;
  const v = build();
  classes.set(key, v);
  return v;
}
