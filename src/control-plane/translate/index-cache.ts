// Per-snapshot indexes, computed once per snapshot and memoized by its identity (snapshots are
// immutable, so an index can never go stale). Translation stays pure: the indexes only replace
// linear scans (every VirtualService / DestinationRule / instance for every service of every
// proxy) with lookups that give the same answers in the same order. At 1,000 services those scans
// made one translate cost seconds (docs/performance.md, "Config push").
import type { DestinationRuleSpec, VirtualServiceSpec } from "../../model/specs/networking.ts";
import { labelsMatch, type Service, type WorkloadInstance } from "../../model/registry.ts";
import { resolveHost, type ConfigEntry, type Snapshot } from "../../model/snapshot.ts";
import { arr, str } from "./common.ts";

type VsEntry = ConfigEntry<VirtualServiceSpec>;
type DrEntry = ConfigEntry<DestinationRuleSpec>;

interface HostIndex {
  /** Non-wildcard resolved host → positions (ascending) of the resources naming it. */
  exact: Map<string, number[]>;
  /** Positions (ascending) of resources with a wildcard host, with that host. */
  wildcard: { at: number; host: string }[];
}

export interface SnapshotIndex {
  /** Resolved `spec.host` of each DestinationRule, by position in `snapshot.destinationRules`. */
  drHost: (string | undefined)[];
  /** DestinationRules of one namespace by resolved host. */
  drsByNamespace: Map<string, HostIndex>;
  /** Registry instances by namespace, in snapshot order. */
  instancesByNamespace: Map<string, WorkloadInstance[]>;
  /** Registry instances by namespace, then by label (`key` NUL `value`), in snapshot order; built at the first selector. */
  instancesByLabel: Map<string, Map<string, WorkloadInstance[]>> | undefined;
  /** Memo of `instancesOf` per service. */
  backing: WeakMap<Service, readonly WorkloadInstance[]>;
  /** Outbound pieces shared by proxies of one class (see proxy-class.ts). */
  classes: Map<string, unknown>;
}

const cache = new WeakMap<Snapshot, SnapshotIndex>();

export function snapshotIndex(snapshot: Snapshot): SnapshotIndex {
  let idx = cache.get(snapshot);
  if (idx) return idx;
  const { drHost, drsByNamespace } = destinationRuleIndex(snapshot);
  const instancesByNamespace = new Map<string, WorkloadInstance[]>();
  for (const i of snapshot.instances) {
    const list = instancesByNamespace.get(i.namespace);
    if (list) list.push(i);
    else instancesByNamespace.set(i.namespace, [i]);
  }
  idx = { drHost, drsByNamespace, instancesByNamespace, instancesByLabel: undefined, backing: new WeakMap(), classes: new Map() };
  cache.set(snapshot, idx);
  return idx;
}

/**
 * The DestinationRules' resolved hosts and per-namespace host index: made of the snapshot's
 * DestinationRule list alone, which the snapshots of one set of resources share (model/snapshot.ts),
 * so a registration's snapshot finds it made (prepareResourceIndexes).
 */
const drIndexes = new WeakMap<readonly DrEntry[], { suffix: string; drHost: (string | undefined)[]; drsByNamespace: Map<string, HostIndex> }>();

export function destinationRuleIndex(snapshot: Snapshot): { drHost: (string | undefined)[]; drsByNamespace: Map<string, HostIndex> } {
  const suffix = snapshot.mesh.domainSuffix;
  const made = drIndexes.get(snapshot.destinationRules);
  if (made !== undefined && made.suffix === suffix) return made;
  const drHost = snapshot.destinationRules.map((dr) => {
    const h = str(dr.spec.host);
    return h ? resolveHost(h, dr.namespace, suffix) : undefined;
  });
  const drsByNamespace = new Map<string, HostIndex>();
  snapshot.destinationRules.forEach((dr, at) => {
    const host = drHost[at];
    if (!host) return;
    let hi = drsByNamespace.get(dr.namespace);
    if (!hi) drsByNamespace.set(dr.namespace, (hi = { exact: new Map(), wildcard: [] }));
    if (host.startsWith("*")) hi.wildcard.push({ at, host });
    else hi.exact.set(host, [...(hi.exact.get(host) ?? []), at]);
  });
  const index = { suffix, drHost, drsByNamespace };
  drIndexes.set(snapshot.destinationRules, index);
  return index;
}

/** Positions of the DestinationRules of `ns` whose resolved host covers `host`, ascending (snapshot order). */
export function destinationRulesCovering(snapshot: Snapshot, ns: string, host: string): number[] {
  const hi = snapshotIndex(snapshot).drsByNamespace.get(ns);
  if (!hi) return [];
  const out = [...(hi.exact.get(host) ?? [])];
  for (const w of hi.wildcard) if (w.host === "*" || host.endsWith(w.host.slice(1))) out.push(w.at);
  return out.length > 1 ? out.sort((a, b) => a - b) : out;
}

/**
 * `instancesOf` (src/model/registry.ts) through the label index, memoized per service. Same order:
 * the candidates are the namespace's instances carrying the selector's first label, in snapshot
 * order, and the selector's other labels are matched as `labelsMatch` does. At 1,000 services,
 * filtering every instance of the namespace for every service was ≈ 45 ms of a cold translation.
 */
export function backingInstances(snapshot: Snapshot, service: Service): readonly WorkloadInstance[] {
  if (service.endpoints) return service.endpoints;
  const selector = service.selector;
  if (!selector) return [];
  const idx = snapshotIndex(snapshot);
  let found = idx.backing.get(service);
  if (!found) {
    const first = Object.keys(selector)[0];
    const candidates = first === undefined ? (idx.instancesByNamespace.get(service.namespace) ?? []) : (labelIndex(idx).get(service.namespace)?.get(labelKey(first, selector[first] as string)) ?? []);
    found = candidates.filter((i) => labelsMatch(selector, i.labels));
    idx.backing.set(service, found);
  }
  return found;
}

const labelKey = (key: string, value: string): string => `${key}\0${value}`;

function labelIndex(idx: SnapshotIndex): Map<string, Map<string, WorkloadInstance[]>> {
  if (idx.instancesByLabel !== undefined) return idx.instancesByLabel;
  const byNs = new Map<string, Map<string, WorkloadInstance[]>>();
  for (const [ns, instances] of idx.instancesByNamespace) {
    const byLabel = new Map<string, WorkloadInstance[]>();
    for (const i of instances) {
      for (const k of Object.keys(i.labels)) {
        const key = labelKey(k, i.labels[k] as string);
        const list = byLabel.get(key);
        if (list) list.push(i);
        else byLabel.set(key, [i]);
      }
    }
    byNs.set(ns, byLabel);
  }
  return (idx.instancesByLabel = byNs);
}

const vsHosts = new WeakMap<VsEntry, { suffix: string; hosts: readonly string[] }>();

/** A VirtualService's non-empty hosts, resolved in its namespace. Memoized per (immutable) entry. */
export function resolvedVsHosts(vs: VsEntry, domainSuffix: string): readonly string[] {
  const m = vsHosts.get(vs);
  if (m && m.suffix === domainSuffix) return m.hosts;
  const hosts = Object.freeze(arr(vs.spec.hosts).filter((h): h is string => typeof h === "string" && h !== "").map((h) => resolveHost(h, vs.namespace, domainSuffix)));
  vsHosts.set(vs, { suffix: domainSuffix, hosts });
  return hosts;
}

export type { DrEntry, VsEntry };
