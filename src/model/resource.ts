// Resource: one loaded config document (a Kubernetes-style object), with the means to find the
// source position of any of its fields.
import type { SourcePosition } from "./diagnostic.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A path into a document: object keys and array indexes, e.g. ["spec", "http", 0, "route"]. */
export type FieldPath = readonly (string | number)[];

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Other metadata fields kept as loaded (resourceVersion, uid…). */
  [key: string]: unknown;
}

export interface Resource {
  apiVersion: string;
  /** `networking.istio.io` for `networking.istio.io/v1`; "" for core `v1`. */
  group: string;
  version: string;
  kind: string;
  metadata: ObjectMeta;
  /** The whole document as plain JSON (spec, data, status… as written). */
  body: JsonObject;
  /** Where the document starts. */
  source: SourcePosition;
  /** Source position of a field; falls back to the nearest ancestor that exists. */
  positionOf(path: FieldPath): SourcePosition;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf("/");
  if (slash < 0) return { group: "", version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** `VirtualService default/reviews` */
export function resourceId(r: Pick<Resource, "kind" | "metadata">): string {
  const ns = r.metadata.namespace || "default";
  return `${r.kind} ${ns}/${r.metadata.name || "<unnamed>"}`;
}

/** `spec.http[0].route` */
export function formatPath(path: FieldPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
