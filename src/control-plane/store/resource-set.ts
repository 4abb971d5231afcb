// Resource-set arithmetic of the config store (pure): the effective set of files, applied
// resources and tombstones; what changed between two sets; the fields the store sets itself.
import { isObject, resourceId, type JsonObject, type Resource } from "../../model/resource.ts";
import type { ApplyResult } from "../../model/wire.ts";

type ChangeList = ApplyResult["changes"];

/** Identity of a resource: API group, kind, namespace (default "default") and name. */
export function resourceKey(r: Resource): string {
  return `${r.group}|${r.kind}|${r.metadata.namespace || "default"}|${r.metadata.name}`;
}

/** A resource in force and where it came from (`file` or `apply`). */
export interface Origin {
  resource: Resource;
  origin: string;
}

/** `group|Kind|ns|name` → `Kind ns/name` (the ids ChangeList uses). */
export function idOfKey(key: string): string {
  const [, kind, ns, name] = key.split("|");
  return `${kind} ${ns}/${name || "<unnamed>"}`;
}

export function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** Fields the store sets (like the API server): a client's copy of them is not kept. */
const SERVER_FIELDS = ["resourceVersion", "generation", "uid", "creationTimestamp", "managedFields"];

export function withoutServerFields(r: Resource): Resource {
  const meta = r.body.metadata;
  if (!isObject(meta) || !SERVER_FIELDS.some((f) => f in meta)) return r;
  const kept: JsonObject = {};
  for (const [k, v] of Object.entries(meta)) if (!SERVER_FIELDS.includes(k)) kept[k] = v;
  const metadata = { ...r.metadata };
  for (const f of SERVER_FIELDS) delete metadata[f];
  return { ...r, metadata, body: { ...r.body, metadata: kept } };
}

export function effectiveOf(files: ReadonlyMap<string, Resource[]>, applied: ReadonlyMap<string, Resource>, tombstones: ReadonlySet<string>): Map<string, Origin> {
  const out = new Map<string, Origin>();
  for (const rs of files.values()) {
    for (const r of rs) {
      const key = resourceKey(r);
      if (!tombstones.has(key)) out.set(key, { resource: r, origin: "file" });
    }
  }
  for (const [key, r] of applied) out.set(key, { resource: r, origin: "apply" });
  return out;
}

/**
 * What happened to each resource between two states. With `touched` (apply/delete): exactly those
 * resources, "unchanged" included, as kubectl reports them; otherwise every resource that changed.
 */
export function diff(before: ReadonlyMap<string, { resource: Resource }>, after: ReadonlyMap<string, { resource: Resource }>, touched: ReadonlySet<string> | null): ChangeList {
  const out: ChangeList = [];
  const keys = touched ?? new Set([...after.keys(), ...before.keys()]);
  for (const key of keys) {
    const old = before.get(key);
    const now = after.get(key);
    if (!now) {
      if (old) out.push({ resource: resourceId(old.resource), action: "deleted" });
      continue;
    }
    const action = !old ? "created" : old.resource === now.resource || sameBody(old.resource, now.resource) ? "unchanged" : "configured";
    if (touched || action !== "unchanged") out.push({ resource: resourceId(now.resource), action });
  }
  return out;
}

export function sameSpec(a: Resource, b: Resource): boolean {
  const rest = ({ metadata: _m, status: _s, ...r }: JsonObject): JsonObject => r;
  return JSON.stringify(rest(a.body)) === JSON.stringify(rest(b.body));
}

function sameBody(a: Resource, b: Resource): boolean {
  return JSON.stringify(a.body) === JSON.stringify(b.body);
}

/** The document with the store's `metadata.resourceVersion` (a string, as in Kubernetes) and `generation`. */
export function withVersions(body: Record<string, unknown>, resourceVersion: number, generation: number): Record<string, unknown> {
  const metadata = typeof body.metadata === "object" && body.metadata !== null ? (body.metadata as Record<string, unknown>) : {};
  return { ...body, metadata: { ...metadata, resourceVersion: String(resourceVersion), generation } };
}
