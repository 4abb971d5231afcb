// Delta push, the control plane's half: what changed between the config a proxy was last sent and
// its config now, per resource type (Envoy's delta xDS: added or changed resources by name and
// version, removed names), and the wire line for it. A resource counts as changed when its content
// differs (resource-versions.ts: the same object, or one already found equal, without looking). Translation emits each collection sorted by name, so the two sides are merged in one
// walk without building a map per proxy; an unsorted side (a test hook's rewrite) falls back to a map.
import type { ProxyConfig } from "../../model/proxy-config.ts";
import { forEachResource, RESOURCE_TYPES, type ResourceType } from "../../model/resources.ts";
import { resourceVersion, sameResource } from "./resource-versions.ts";

/** One type's change: resources added or changed (name, object), names removed. */
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
      change = diffSides(sideOf(prev, type), sideOf(next, type));
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
    s += `${firstType ? "" : ","}"${type}":{"version":${JSON.stringify(typeVersions.get(type) ?? version)},"resources":[`;
    firstType = false;
    for (let i = 0; i < change.changed.length; i++) {
      const [name, resource] = change.changed[i]!;
      const v = resourceVersion(resource);
      s += `${i > 0 ? "," : ""}{"name":${JSON.stringify(name)},"version":"${v.version}","resource":${v.json}}`;
    }
    s += `],"removed":${JSON.stringify(change.removed)}}`;
  }
  return `${s}}}\n`;
}
