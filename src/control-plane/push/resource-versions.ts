// The version (content hash) and wire JSON of one resource, computed once per resource object and
// shared by every proxy that holds the same object: translation hands proxies of one class the very
// same cluster, endpoint list and route configuration (translate/proxy-class.ts), so at 1,000
// services a resource is serialised once per snapshot, not once per proxy. Sound because translated
// configs are never mutated once built.
//
// Most resources of a new snapshot are new objects equal to the old ones. Deciding that they did
// not change compares them structurally (no serialising, no hashing), and an equal new object then
// shares the old one's entry: the next proxy of the class finds both objects on one entry, and a
// version is only computed (lazily) for what is actually sent.
import { hash } from "node:crypto";
import { jsonEqual } from "../../model/json-equal.ts";

interface Entry {
  version?: string;
  json?: string;
}

export interface ResourceVersion {
  version: string;
  json: string;
}

const entries = new WeakMap<object, Entry>();
/** The last object a given object was found to differ from (the same pair recurs for every proxy of a class). */
const differs = new WeakMap<object, object>();

function entryOf(resource: object): Entry {
  let e = entries.get(resource);
  if (e === undefined) entries.set(resource, (e = {}));
  return e;
}

/** 96 bits of SHA-1 over the JSON: a change detector, not a security boundary. */
function versionOfJson(json: string): string {
  return hash("sha1", json, "base64url").slice(0, 16);
}

export function resourceVersion(resource: unknown): ResourceVersion {
  if (typeof resource !== "object" || resource === null) {
    const json = JSON.stringify(resource) ?? "null";
    return { version: versionOfJson(json), json };
  }
  const e = entryOf(resource);
  e.json ??= JSON.stringify(resource);
  e.version ??= versionOfJson(e.json);
  return { version: e.version, json: e.json };
}

/** Whether two resources have the same content (the same JSON up to key order). */
export function sameResource(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return jsonEqual(a, b);
  const ea = entries.get(a);
  const eb = entries.get(b);
  if (ea !== undefined && ea === eb) return true;
  if (ea?.version !== undefined && eb?.version !== undefined) return ea.version === eb.version;
  if (differs.get(b) === a) return false;
  if (!jsonEqual(a, b)) {
    differs.set(b, a);
    return false;
  }
  // Equal: b takes a's entry (and its version, if one was computed).
  entries.set(b, ea ?? entryOf(a));
  return true;
}
