// JSON Patch (RFC 6902) operations that add to a pod: list items (creating the list when the pod
// has none) and map entries (creating the map). Pure.
import type { Json, JsonObject } from "../../../model/resource.ts";

export interface PatchOp {
  op: "add";
  path: string;
  value: Json;
}

/** RFC 6901: `~` → `~0`, `/` → `~1` (annotation keys have slashes). */
export function pointerToken(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** Add `items` to the list at `path` (`/spec/containers`), first or last. */
export function addToList(existing: unknown, path: string, items: readonly Json[], at: "first" | "last"): PatchOp[] {
  if (items.length === 0) return [];
  if (!Array.isArray(existing) || existing.length === 0) return [{ op: "add", path, value: [...items] }];
  if (at === "last") return items.map((value) => ({ op: "add", path: `${path}/-`, value }));
  // Each op inserts before the previous one's successor: keep their order.
  return items.map((value, i) => ({ op: "add", path: `${path}/${i}`, value }));
}

/** Set `entries` in the map at `path` (`/metadata/annotations`), creating it if the pod has none. */
export function addToMap(existing: unknown, path: string, entries: Readonly<Record<string, string>>): PatchOp[] {
  if (Object.keys(entries).length === 0) return [];
  if (typeof existing !== "object" || existing === null || Array.isArray(existing)) return [{ op: "add", path, value: { ...entries } as JsonObject }];
  return Object.entries(entries).map(([k, value]) => ({ op: "add", path: `${path}/${pointerToken(k)}`, value }));
}
