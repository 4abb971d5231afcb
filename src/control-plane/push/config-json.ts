// JSON of a ProxyConfig, byte-identical to JSON.stringify, with the JSON of its parts cached by
// object identity. Translation hands proxies of one class the very same cluster, endpoint and
// route-configuration objects (src/control-plane/translate/proxy-class.ts), so at 1,000 services
// most of each proxy's multi-MiB config is already encoded; only its own pieces (node, inbound)
// are encoded per proxy. Sound because translated configs are never mutated once built.
import type { ProxyConfig } from "../../model/proxy-config.ts";

const cache = new WeakMap<object, string>();

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
  if (Array.isArray(v)) return `[${v.map((x) => part(x) ?? "null").join(",")}]`;
  if (typeof v === "object" && v !== null) {
    const out: string[] = [];
    for (const [k, x] of Object.entries(v)) {
      const s = part(x);
      if (s !== undefined) out.push(`${JSON.stringify(k)}:${s}`);
    }
    return `{${out.join(",")}}`;
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
