// Locality load balancing: weighted `distribute` or ordered `failover` (Istio's rules and texts).
import { checkKnownFields } from "../../checks/fields.ts";
import { readArray, readBool, readInt, readObject, readString, readStringArray } from "../../checks/shape.ts";
import type { FieldPath, JsonObject } from "../../../model/resource.ts";
import type { Validator } from "../../validator.ts";

const TOPOLOGY_LABELS = ["topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"];

export function checkLocalityLb(v: Validator, path: FieldPath, lb: JsonObject, hasOutlier: boolean): void {
  checkKnownFields(v, path, lb, ["distribute", "failover", "failoverPriority", "enabled"]);
  readBool(v, [...path, "enabled"], lb.enabled);
  const distribute = readArray(v, [...path, "distribute"], lb.distribute) ?? [];
  const failover = readArray(v, [...path, "failover"], lb.failover) ?? [];
  const priority = readStringArray(v, [...path, "failoverPriority"], lb.failoverPriority) ?? [];
  if (distribute.length > 0 && failover.length > 0) {
    v.error(path, "can not simultaneously specify 'distribute' and 'failover'");
    return;
  }
  if (failover.length > 0) {
    const topo = priority.find((p) => TOPOLOGY_LABELS.includes(p));
    if (topo) v.error([...path, "failoverPriority"], `can not simultaneously set 'failover' and topology label '${topo}' in 'failover_priority'`);
  }
  const sources: string[] = [];
  distribute.forEach((d, i) => {
    const at = [...path, "distribute", i];
    const obj = readObject(v, at, d);
    if (!obj) return;
    checkKnownFields(v, at, obj, ["from", "to"]);
    sources.push(readString(v, [...at, "from"], obj.from) ?? "");
    const to = readObject(v, [...at, "to"], obj.to) ?? {};
    let total = 0;
    for (const [loc, w] of Object.entries(to)) {
      const n = readInt(v, [...at, "to", loc], w);
      if (n === undefined) continue;
      if (n <= 0 || n > 100) v.error([...at, "to", loc], "locality weight must be in range [1, 100]");
      total += n;
    }
    if (total !== 100) v.error([...at, "to"], `total locality weight ${total} != 100`);
    const err = localitiesError(Object.keys(to));
    if (err) v.error([...at, "to"], err);
  });
  const srcErr = localitiesError(sources);
  if (srcErr) v.error([...path, "distribute"], srcErr);
  if ((failover.length > 0 || priority.length > 0) && !hasOutlier) v.warn(path, "outlier detection policy must be provided for failover");
  failover.forEach((f, i) => {
    const at = [...path, "failover", i];
    const obj = readObject(v, at, f);
    if (!obj) return;
    checkKnownFields(v, at, obj, ["from", "to"]);
    const from = readString(v, [...at, "from"], obj.from) ?? "";
    const to = readString(v, [...at, "to"], obj.to) ?? "";
    if (from === to) v.error(at, "locality lb failover settings must specify different regions");
    if (from.includes("/") || to.includes("/")) v.error(at, "locality lb failover only specify region");
    if (from.includes("*") || to.includes("*")) v.error(at, "locality lb failover region should not contain '*' wildcard");
  });
}

/** Localities are `region[/zone[/subzone]]` with at most one trailing `*`, and must not overlap. */
export function localitiesError(localities: readonly string[]): string | null {
  const seen: string[][] = [];
  for (const loc of localities) {
    const stars = loc.split("*").length - 1;
    if (stars > 0 && (stars > 1 || !loc.endsWith("*"))) return `locality ${loc} wildcard '*' number can not exceed 1 and must be in the end`;
    const parts = loc.split("/", 3);
    if (parts.some((p) => p === "")) return `locality ${loc} must not contain empty region/zone/subzone info`;
    const covers = (a: string[], b: string[]): boolean => a.every((p, i) => p === "*" || p === b[i]) || b.every((p, i) => p === "*" || p === a[i]);
    for (const prev of seen) {
      const n = Math.min(prev.length, parts.length);
      if (prev[0] === "*" || covers(prev.slice(0, n), parts.slice(0, n))) return `locality ${loc} overlap with previous specified ones`;
    }
    seen.push(parts);
  }
  return null;
}
