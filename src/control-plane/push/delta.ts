// Delta push, the control plane's half: what changed between the config a proxy was last sent and
// its config now, per resource type (Envoy's delta xDS: added or changed resources by name and
// version, removed names), and the wire line for it. A resource counts as changed when its content
// differs (resource-versions.ts: the same object, or one already found equal, without looking).
// Translation emits each collection sorted by name, so the two sides are merged in one walk
// without building a map per proxy; an unsorted side (a test hook's rewrite) falls back to a map.
//
// Most of a proxy's resources (the outbound clusters, endpoints and virtual hosts, ≈ 7,000 at
// 1,000 services) are shared by every proxy of its class (model/shared-parts.ts). Their diff is
// taken once per pair of shared parts (old, new) and reused by every proxy of the class, with its
// encoded resources; per proxy only its own few resources are walked. A collection that is the very
// same object on both sides is no change without looking.
import type { Cluster, ProxyConfig, RouteConfiguration } from "../../model/proxy-config.ts";
import { forEachResource, RESOURCE_TYPES, virtualHostName, type ResourceType } from "../../model/resources.ts";
import { sharedClusters, sharedEndpoints, sharedRoute, type EndpointMap } from "../../model/shared-parts.ts";
import { resourceVersion, sameResource } from "./resource-versions.ts";

/** One type's change: resources added or changed (name, object), names removed. Shared by the proxies of a class: read-only. */
export interface TypeChange {
  changed: [string, unknown][];
  /** How many of `changed` are new names. */
  added: number;
  removed: string[];
}

export type ConfigDelta = Map<ResourceType, TypeChange>;

/** A collection of one type as parallel lists of names and resources, in the config's order. */
interface Side {
  names: string[];
  values: unknown[];
}

function sideOf(config: ProxyConfig | null, type: ResourceType): Side {
  const names: string[] = [];
  const values: unknown[] = [];
  if (config !== null) {
    forEachResource(config, type, (n, v) => {
      names.push(n);
      values.push(v);
    });
  }
  return { names, values };
}

/** A class-shared part as a side, with its names as a set (for the disjointness check). */
interface SharedSide extends Side {
  set: ReadonlySet<string>;
}

const sharedSides = new WeakMap<object, SharedSide>();

function sharedSide(key: object, build: () => Side): SharedSide {
  let s = sharedSides.get(key);
  if (s === undefined) {
    const side = build();
    sharedSides.set(key, (s = { ...side, set: new Set(side.names) }));
  }
  return s;
}

function clusterSide(list: readonly Cluster[]): Side {
  return { names: list.map((c) => c.name), values: [...list] };
}

function endpointSide(map: EndpointMap): Side {
  const names = Object.keys(map).sort();
  return { names, values: names.map((n) => map[n]) };
}

function virtualHostSide(routes: readonly RouteConfiguration[], skip: RouteConfiguration | null): Side {
  const names: string[] = [];
  const values: unknown[] = [];
  for (const r of routes) {
    if (r === skip) continue;
    for (const vh of r.virtualHosts) {
      names.push(virtualHostName(r.name, vh.name));
      values.push(vh);
    }
  }
  return { names, values };
}

/** A collection of a config as its class-shared part (`key` is its identity) and the proxy's own part. */
interface Split {
  key: object;
  shared: SharedSide;
  own: Side;
}

function splitOf(config: ProxyConfig, type: ResourceType): Split | undefined {
  switch (type) {
    case "cluster": {
      const s = sharedClusters(config.clusters);
      return s && { key: s.shared, shared: sharedSide(s.shared, () => clusterSide(s.shared)), own: clusterSide(s.own) };
    }
    case "endpoints": {
      const s = sharedEndpoints(config.endpoints);
      return s && { key: s.shared, shared: sharedSide(s.shared, () => endpointSide(s.shared)), own: endpointSide(s.own) };
    }
    case "virtual_host": {
      const rc = sharedRoute(config.routes);
      return rc && { key: rc, shared: sharedSide(rc, () => virtualHostSide([rc], null)), own: virtualHostSide(config.routes, rc) };
    }
    default:
      return undefined;
  }
}

/** The collection `forEachResource` walks for a type (null: the config's own fields). */
function collectionOf(config: ProxyConfig, type: ResourceType): object | null {
  switch (type) {
    case "cluster":
      return config.clusters;
    case "endpoints":
      return config.endpoints;
    case "listener":
      return config.listeners;
    case "route":
    case "virtual_host":
      return config.routes;
    default:
      return null;
  }
}

/** Diffs of shared parts, by (old part, new part): taken once, used by every proxy of the class. */
const sharedDiffs = new WeakMap<object, WeakMap<object, TypeChange>>();
/** The old part of a new stream (nothing). */
const NOTHING = {};
const EMPTY_SIDE: SharedSide = { names: [], values: [], set: new Set() };

function sharedDiff(prevKey: object, prev: Side, nextKey: object, next: Side): TypeChange {
  let byNext = sharedDiffs.get(prevKey);
  if (byNext === undefined) sharedDiffs.set(prevKey, (byNext = new WeakMap()));
  let change = byNext.get(nextKey);
  if (change === undefined) byNext.set(nextKey, (change = diffSides(prev, next)));
  return change;
}

/** Whether no own name of either side is also a shared name of either side (then the two diffs add up). */
function disjoint(a: Split | undefined, b: Split): boolean {
  const sets = a === undefined ? [b.shared.set] : [a.shared.set, b.shared.set];
  for (const own of a === undefined ? [b.own] : [a.own, b.own]) {
    for (const n of own.names) for (const set of sets) if (set.has(n)) return false;
  }
  return true;
}

/** The two halves of a combined change, so its encoded resources are joined from theirs. */
const halves = new WeakMap<TypeChange, [TypeChange, TypeChange]>();

function isEmpty(c: TypeChange): boolean {
  return c.changed.length === 0 && c.removed.length === 0;
}

function combine(shared: TypeChange, own: TypeChange): TypeChange {
  if (isEmpty(own)) return shared;
  if (isEmpty(shared)) return own;
  const c: TypeChange = { changed: [...shared.changed, ...own.changed], added: shared.added + own.added, removed: [...shared.removed, ...own.removed] };
  halves.set(c, [shared, own]);
  return c;
}

/** One type's change, by class-shared and own parts when both sides have them. */
function diffType(prev: ProxyConfig | null, next: ProxyConfig, type: ResourceType): TypeChange {
  if (prev !== null) {
    const coll = collectionOf(next, type);
    if (coll !== null && coll === collectionOf(prev, type)) return { changed: [], added: 0, removed: [] };
  }
  const b = splitOf(next, type);
  const a = prev === null ? undefined : splitOf(prev, type);
  if (b !== undefined && (prev === null || a !== undefined) && disjoint(a, b)) {
    const shared = a === undefined ? sharedDiff(NOTHING, EMPTY_SIDE, b.key, b.shared) : a.key === b.key ? null : sharedDiff(a.key, a.shared, b.key, b.shared);
    const own = diffSides(a?.own ?? EMPTY_SIDE, b.own);
    return shared === null ? own : combine(shared, own);
  }
  return diffSides(sideOf(prev, type), sideOf(next, type));
}

function sorted(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) if (!(names[i - 1]! < names[i]!)) return false;
  return true;
}

function diffSides(prev: Side, next: Side): TypeChange {
  const changed: [string, unknown][] = [];
  const removed: string[] = [];
  let added = 0;
  if (sorted(prev.names) && sorted(next.names)) {
    let i = 0;
    let j = 0;
    while (i < prev.names.length || j < next.names.length) {
      const a = prev.names[i];
      const b = next.names[j];
      if (b === undefined || (a !== undefined && a < b)) {
        removed.push(a!);
        i++;
      } else if (a === undefined || b < a) {
        changed.push([b, next.values[j]]);
        added++;
        j++;
      } else {
        if (!sameResource(prev.values[i], next.values[j])) changed.push([b, next.values[j]]);
        i++;
        j++;
      }
    }
    return { changed, added, removed };
  }
  const before = new Map<string, unknown>();
  for (let i = 0; i < prev.names.length; i++) before.set(prev.names[i]!, prev.values[i]);
  const seen = new Set<string>();
  for (let j = 0; j < next.names.length; j++) {
    const name = next.names[j]!;
    // Names are the identity of a resource: two of one name cannot both be delivered.
    if (seen.has(name)) throw new Error(`two resources named ${JSON.stringify(name)}`);
    seen.add(name);
    if (!before.has(name)) {
      changed.push([name, next.values[j]]);
      added++;
    } else if (!sameResource(before.get(name), next.values[j])) changed.push([name, next.values[j]]);
  }
  for (const name of prev.names) if (!seen.has(name)) removed.push(name);
  return { changed, added, removed };
}

/**
 * What a proxy that holds `prev` (null: nothing, a new stream) needs to hold `next`: per type with
 * any change, the changed resources and the removed names. Empty: nothing to send. Throws when
 * `next` has two resources of one type and name (a translation bug: it cannot be sent as a delta).
 */
export function diffConfigs(prev: ProxyConfig | null, next: ProxyConfig): ConfigDelta {
  const out: ConfigDelta = new Map();
  for (const type of RESOURCE_TYPES) {
    let change: TypeChange;
    try {
      change = diffType(prev, next, type);
    } catch (e) {
      throw new Error(`${type}: ${(e as Error).message}`);
    }
    if (change.changed.length > 0 || change.removed.length > 0) out.set(type, change);
  }
  return out;
}

/**
 * The NDJSON line of a DeltaMessage (wire.ts), with each resource's JSON taken from the shared
 * cache: `typeVersions` gives each changed type's version after the change.
 */
export function deltaLine(version: string, nonce: string, full: boolean, delta: ConfigDelta, typeVersions: ReadonlyMap<ResourceType, string>): string {
  // String concatenation builds a rope flattened once, when written (see config-json.ts).
  let s = `{"type":"delta","version":${JSON.stringify(version)},"nonce":${JSON.stringify(nonce)},"full":${full},"types":{`;
  let firstType = true;
  for (const [type, change] of delta) {
    s += `${firstType ? "" : ","}"${type}":{"version":${JSON.stringify(typeVersions.get(type) ?? version)},"resources":[${resourcesJson(change)}],"removed":${JSON.stringify(change.removed)}}`;
    firstType = false;
  }
  return `${s}}}\n`;
}

const encoded = new WeakMap<TypeChange, string>();

/** The `resources` list of a change, encoded once per change object (a class's shared change: once for all its proxies). */
function resourcesJson(change: TypeChange): string {
  let s = encoded.get(change);
  if (s !== undefined) return s;
  const parts = halves.get(change);
  if (parts !== undefined) s = `${resourcesJson(parts[0])},${resourcesJson(parts[1])}`;
  else {
    s = "";
    for (let i = 0; i < change.changed.length; i++) {
      const [name, resource] = change.changed[i]!;
      const v = resourceVersion(resource);
      s += `${i > 0 ? "," : ""}{"name":${JSON.stringify(name)},"version":"${v.version}","resource":${v.json}}`;
    }
  }
  encoded.set(change, s);
  return s;
}
