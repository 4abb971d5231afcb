// Which configured limit applies to one request descriptor: the reference service's GetLimit
// (envoyproxy/ratelimit src/config/config_impl.go). Walk the entries level by level; at each
// level try `key_value`, then a `key_prefix*` wildcard, then `key` alone (any value). A limit
// applies only when the node matched by the descriptor's last entry has one, so a descriptor with
// more entries than the config is deep gets no limit. Pure.
import type { DescriptorNode, RateLimit, RateLimitConfig } from "./config.ts";
import type { Unit } from "./units.ts";

export interface DescriptorEntry {
  key: string;
  value: string;
}

export interface RequestDescriptor {
  entries: readonly DescriptorEntry[];
  /** A limit the caller sends with the descriptor (RateLimitDescriptor.limit); replaces the config's. */
  override?: { requestsPerUnit: number; unit: Unit } | undefined;
}

/**
 * The domain of Amime's RateLimit kind: known to this service without a config entry, so the
 * limits its descriptors carry apply (the reference service needs `domain: amime-ratelimit` in its
 * config.yaml for that).
 */
export const KIND_DOMAIN = "amime-ratelimit";

export function findLimit(config: RateLimitConfig, domain: string, descriptor: RequestDescriptor): RateLimit | undefined {
  const root = config.get(domain);
  if (root === undefined && !(domain === KIND_DOMAIN && descriptor.override !== undefined)) return undefined;
  if (descriptor.override !== undefined) {
    // The reference names an override's limit after its entries, no shadow mode, no name.
    const fullKey = `${domain}.${descriptor.entries.map((e) => `${e.key}_${e.value}`).join(".")}`;
    return { requestsPerUnit: descriptor.override.requestsPerUnit, unit: descriptor.override.unit, name: "", unlimited: false, shadowMode: false, detailedMetric: false, replaces: [], fullKey };
  }
  if (root === undefined) return undefined;
  let level: DescriptorNode = root;
  const last = descriptor.entries.length - 1;
  for (let i = 0; i <= last; i++) {
    const entry = descriptor.entries[i] as DescriptorEntry;
    const composite = `${entry.key}_${entry.value}`;
    let next = level.children.get(composite);
    if (next === undefined) {
      for (const wildcard of level.wildcardKeys) {
        if (composite.startsWith(wildcard.slice(0, -1))) {
          next = level.children.get(wildcard);
          break;
        }
      }
    }
    next ??= level.children.get(entry.key);
    if (next === undefined) return undefined;
    if (i === last) return next.limit;
    if (next.children.size === 0) return undefined;
    level = next;
  }
  return undefined;
}
