// JSON of a ProxyConfig, byte-identical to JSON.stringify, with the JSON of its parts cached by
// object identity. Translation hands proxies of one class the very same cluster, endpoint and
// route-configuration objects (src/control-plane/translate/proxy-class.ts), so at 1,000 services
// most of each proxy's multi-MiB config is already encoded; only its own pieces (node, inbound)
// are encoded per proxy. Sound because translated configs are never mutated once built.
import { createHash } from "node:crypto";
import type { ProxyConfig } from "../../model/proxy-config.ts";

const cache = new WeakMap<object, string>();
const digests = new WeakMap<object, string>();

function part(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null) return JSON.stringify(v);
  let s = cache.get(v);
  if (s === undefined) {
    s = JSON.stringify(v);
    cache.set(v, s);
  }
  return s;
}

/** One top-level field: arrays and records are joined from cached parts. */
function field(v: unknown): string | undefined {
  if (Array.isArray(v)) {
    // String concatenation builds a rope that is flattened once, when written; join would copy now.
    let s = "[";
    for (let i = 0; i < v.length; i++) s += (i > 0 ? "," : "") + (part(v[i]) ?? "null");
    return `${s}]`;
  }
  if (typeof v === "object" && v !== null) {
    let s = "{";
    for (const [k, x] of Object.entries(v)) {
      const p = part(x);
      if (p !== undefined) s += `${s.length > 1 ? "," : ""}${JSON.stringify(k)}:${p}`;
    }
    return `${s}}`;
  }
  return JSON.stringify(v);
}

/** `JSON.stringify(version === undefined ? config : { ...config, version })`, from cached parts. */
export function configJson(config: ProxyConfig, version?: string): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(version === undefined ? config : { ...config, version })) {
    const s = field(v);
    if (s !== undefined) out.push(`${JSON.stringify(k)}:${s}`);
  }
  return `{${out.join(",")}}`;
}

function sha1(s: string): string {
  return createHash("sha1").update(s).digest("hex");
}

function partDigest(v: unknown): string {
  if (typeof v !== "object" || v === null) return JSON.stringify(v) ?? "null";
  let d = digests.get(v);
  if (d === undefined) {
    d = sha1(part(v)!);
    digests.set(v, d);
  }
  return d;
}

/**
 * A content hash of `{ ...config, version }` without hashing megabytes per proxy: the digest of
 * each part (array element, record value) is cached by identity like its JSON, and the config's
 * hash is taken over the parts' digests in order. Equal JSON ⇒ equal hash; a changed part ⇒ a
 * changed hash (up to SHA-1 collisions).
 */
export function configDigest(config: ProxyConfig, version?: string): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(version === undefined ? config : { ...config, version })) {
    if (v === undefined) continue;
    if (Array.isArray(v)) out.push(`${JSON.stringify(k)}:[${v.map(partDigest).join(",")}]`);
    else if (typeof v === "object" && v !== null) {
      const fields: string[] = [];
      for (const [fk, x] of Object.entries(v)) if (x !== undefined) fields.push(`${JSON.stringify(fk)}:${partDigest(x)}`);
      out.push(`${JSON.stringify(k)}:{${fields.join(",")}}`);
    } else out.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  }
  return sha1(out.join("\n"));
}
