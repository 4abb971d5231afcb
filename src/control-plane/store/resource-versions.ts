// The config store's versions, as Kubernetes keeps them (pure): every resource in force has a
// resourceVersion (one counter per store, never reused) and a generation (bumped when its body
// changes); how a change numbers them (here, by a saver, or where another replica made it); an
// apply naming a stale resourceVersion is refused with kubectl's Conflict; what a saver is given.
import type { Diagnostic } from "../../model/diagnostic.ts";
import { resourceId, type Resource } from "../../model/resource.ts";
import { idOfKey, resourceKey, sameSpec } from "./resource-set.ts";
import type { Actor, ChangeList, ExternalChange, SavedState, StoreConflictError, StoreWrite } from "./saver.ts";
import type { ResourceMeta } from "./store-file.ts";

/** A change refused because it named a stale resourceVersion (kubectl's Conflict). */
export const CONFLICT_CODE = "AMM2002";

/** The versions of every resource in force after a change, and the store's latest resourceVersion. */
export interface Versions {
  meta: Map<string, ResourceMeta>;
  last: number;
  /** Whether anything was numbered anew (or a resource left). */
  changed: boolean;
}

/** What the store holds before a change: the versions in force and what was applied through the API. */
export interface VersionedState {
  readonly meta: ReadonlyMap<string, ResourceMeta>;
  readonly last: number;
  readonly applied: ReadonlyMap<string, Resource>;
}

/** Versions after a change: each created or changed resource takes the next resourceVersion. */
export function nextVersions(now: VersionedState, before: ReadonlyMap<string, { resource: Resource }>, after: ReadonlyMap<string, { resource: Resource }>, all: ChangeList): Versions {
  const meta = new Map<string, ResourceMeta>();
  let last = now.last;
  const moved = new Set(all.filter((c) => c.action !== "unchanged").map((c) => c.resource));
  for (const [key, r] of after) {
    const old = now.meta.get(key);
    const prev = before.get(key);
    if (old !== undefined && prev !== undefined && !moved.has(idOfKey(key))) meta.set(key, old);
    else if (old === undefined || prev === undefined) meta.set(key, { resourceVersion: ++last, generation: 1 });
    // As for Kubernetes custom resources: generation counts changes outside metadata and status.
    else meta.set(key, { resourceVersion: ++last, generation: old.generation + (sameSpec(prev.resource, r.resource) ? 0 : 1) });
  }
  return { meta, last, changed: last !== now.last || meta.size !== now.meta.size };
}

/** Versions after an external change: as numbered where it was made; the rest keep theirs. */
export function externalVersions(after: ReadonlyMap<string, unknown>, current: ReadonlyMap<string, ResourceMeta>, batch: ExternalChange): Versions {
  const meta = new Map<string, ResourceMeta>();
  for (const key of after.keys()) {
    const m = batch.put.get(key)?.meta ?? current.get(key);
    if (m !== undefined) meta.set(key, m);
  }
  return { meta, last: batch.revision, changed: true };
}

/** A saver numbered the change itself: the resources the change moved take `version`. */
export function renumber(versions: { meta: Map<string, ResourceMeta>; last: number }, before: ReadonlyMap<string, ResourceMeta>, version: number): void {
  for (const [key, m] of versions.meta) {
    if (before.get(key)?.resourceVersion !== m.resourceVersion) versions.meta.set(key, { resourceVersion: version, generation: m.generation });
  }
  versions.last = version;
}

/** A document naming a resourceVersion other than the stored one (or naming one for a resource that does not exist). */
export function staleVersions(resources: readonly Resource[], inForce: ReadonlyMap<string, unknown>, meta: ReadonlyMap<string, ResourceMeta>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const r of resources) {
    const given = r.metadata.resourceVersion;
    if (given === undefined || given === null || given === "") continue;
    const key = resourceKey(r);
    const stored = inForce.has(key) ? meta.get(key)?.resourceVersion : undefined;
    if (stored !== undefined && String(stored) === String(given)) continue;
    const why = stored === undefined
      ? `the object does not exist (metadata.resourceVersion ${JSON.stringify(String(given))} given; leave it out to create the object)`
      : `the object has been modified; please apply your changes to the latest version and try again (metadata.resourceVersion ${JSON.stringify(String(given))} given, the stored one is "${stored}")`;
    out.push({ level: "error", code: CONFLICT_CODE, message: `Operation cannot be fulfilled on ${resourceId(r)}: ${why}`, resource: resourceId(r), path: "metadata.resourceVersion", source: r.positionOf(["metadata", "resourceVersion"]) });
  }
  return out;
}

/** kubectl's Conflict for each resource a saver found changed meanwhile. */
export function conflictsFound(e: StoreConflictError, applied: ReadonlyMap<string, Resource>): Diagnostic[] {
  return e.keys.map((key) => {
    const id = idOfKey(key);
    const now = e.current.get(key);
    const r = applied.get(key);
    const why = now === undefined ? "the object has been deleted meanwhile" : `the object has been modified; please apply your changes to the latest version and try again (it was changed meanwhile, the stored resourceVersion is now "${now}")`;
    return { level: "error", code: CONFLICT_CODE, message: `Operation cannot be fulfilled on ${id}: ${why}`, resource: id, path: "metadata.resourceVersion", source: r?.source ?? { file: "apply", line: 0, column: 0 } } satisfies Diagnostic;
  });
}

/** What a saver is given for a change from `now`: the whole state to keep, and the applied resources it puts or removes with the versions they must still have. */
export function storeWrite(now: VersionedState, applied: ReadonlyMap<string, Resource>, tombstones: ReadonlySet<string>, versions: { meta: ReadonlyMap<string, ResourceMeta>; last: number }, changes: ChangeList, actor: Actor | null): StoreWrite {
  const put = new Map<string, { resource: Resource; generation: number }>();
  for (const [key, r] of applied) {
    const m = versions.meta.get(key);
    const moved = !now.applied.has(key) || m?.resourceVersion !== now.meta.get(key)?.resourceVersion;
    if (now.applied.get(key) !== r && moved && m !== undefined) put.set(key, { resource: r, generation: m.generation });
  }
  const removed = [...now.applied.keys()].filter((k) => !applied.has(k));
  const expected = new Map<string, number>();
  for (const key of [...put.keys(), ...removed]) expected.set(key, now.applied.has(key) ? (now.meta.get(key)?.resourceVersion ?? 0) : 0);
  return { state: savedState(applied, tombstones, versions), changes, actor, put, removed, expected, base: now.last };
}

function savedState(applied: ReadonlyMap<string, Resource>, tombstones: ReadonlySet<string>, versions: { meta: ReadonlyMap<string, ResourceMeta>; last: number }): SavedState {
  return {
    resourceVersion: versions.last,
    applied: [...applied.values()].map((r) => ({ body: r.body, source: { file: r.source.file, line: r.source.line, column: r.source.column } })),
    tombstones: [...tombstones],
    meta: Object.fromEntries(versions.meta),
  };
}
