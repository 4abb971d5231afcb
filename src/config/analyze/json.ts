// Defensive readers for resource bodies. The analyzer also sees resources whose schema is wrong (or
// not yet validated), so every read checks the shape and falls back to "absent" instead of throwing.
import { isObject, type Json, type JsonObject } from "../../model/resource.ts";

export function obj(v: Json | undefined): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}

export function arr(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: Json | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function num(v: Json | undefined): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** A map of string values; non-string values are dropped. */
export function strMap(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const o = obj(v);
  if (o) for (const [k, val] of Object.entries(o)) if (typeof val === "string") out[k] = val;
  return out;
}

export function strList(v: Json | undefined): string[] {
  return arr(v).filter((x): x is string => typeof x === "string");
}

/** The resource's spec as an object ({} when absent or malformed). */
export function specOf(body: JsonObject): JsonObject {
  return obj(body.spec) ?? {};
}

/** Whether every label in `selector` is present with the same value in `labels`. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

export function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(",") : "<none>";
}
