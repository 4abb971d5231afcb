// The version (content hash) and wire JSON of one resource, computed once per resource object and
// shared by every proxy that holds the same object: translation hands proxies of one class the very
// same cluster, endpoint list and route configuration (translate/proxy-class.ts), so at 1,000
// services a resource is serialised once per snapshot, not once per proxy. Sound because translated
// configs are never mutated once built.
import { hash } from "node:crypto";

export interface ResourceVersion {
  version: string;
  json: string;
}

const cache = new WeakMap<object, ResourceVersion>();

/** 96 bits of SHA-1 over the JSON: a change detector, not a security boundary. */
function versionOfJson(json: string): string {
  return hash("sha1", json, "base64url").slice(0, 16);
}

export function resourceVersion(resource: unknown): ResourceVersion {
  if (typeof resource !== "object" || resource === null) {
    const json = JSON.stringify(resource) ?? "null";
    return { version: versionOfJson(json), json };
  }
  let v = cache.get(resource);
  if (v === undefined) {
    const json = JSON.stringify(resource);
    v = { version: versionOfJson(json), json };
    cache.set(resource, v);
  }
  return v;
}
