// Envoy's local rate limit descriptors: the configured descriptors of one local_ratelimit config,
// each with its token bucket, matched against the descriptors a request's rate_limits actions
// build. A configured entry with value "" matches any value (a wildcard descriptor, Envoy's
// dynamic descriptors): each distinct value gets its own bucket, created full, and at most
// `maxDynamic` of them are kept per wildcard descriptor — the least recently used is dropped (its
// value starts full again when it returns), as Envoy's max_dynamic_descriptors LRU. Pure.
import type { Clock } from "../../../../core/clock.ts";
import type { LocalDescriptor } from "../../../../model/rate-limit.ts";
import { TokenBucketState } from "./token-bucket.ts";

/** Envoy's default max_dynamic_descriptors. */
export const DEFAULT_MAX_DYNAMIC_DESCRIPTORS = 20;

interface Slot {
  readonly d: LocalDescriptor;
  readonly wildcard: boolean;
  /** The bucket of a descriptor without wildcards. */
  readonly fixed: TokenBucketState | null;
  /** Buckets by the request descriptor's values (wildcard descriptors), in least-recent-first order. */
  readonly dynamic: Map<string, TokenBucketState> | null;
}

type Entries = readonly { readonly key: string; readonly value: string }[];

export class DescriptorBuckets {
  private readonly slots: Slot[];
  private readonly clock: Clock;
  private readonly maxDynamic: number;

  constructor(descriptors: readonly LocalDescriptor[], clock: Clock, maxDynamic: number) {
    this.clock = clock;
    this.maxDynamic = maxDynamic;
    this.slots = descriptors.map((d) => {
      const wildcard = d.entries.some((e) => e.value === "");
      return { d, wildcard, fixed: wildcard ? null : new TokenBucketState(d.tokenBucket, clock), dynamic: wildcard ? new Map() : null };
    });
  }

  /** The bucket of the first configured descriptor `entries` matches, or null (none matches). */
  bucketFor(entries: Entries): { bucket: TokenBucketState; maxTokens: number } | null {
    for (const s of this.slots) {
      if (!matches(s.d.entries, entries)) continue;
      if (s.fixed !== null) return { bucket: s.fixed, maxTokens: s.d.tokenBucket.maxTokens };
      const map = s.dynamic as Map<string, TokenBucketState>;
      const key = entries.map((e) => e.value).join("\0");
      let b = map.get(key);
      if (b !== undefined) {
        map.delete(key);
      } else {
        b = new TokenBucketState(s.d.tokenBucket, this.clock);
        if (map.size >= this.maxDynamic) map.delete(map.keys().next().value as string);
      }
      map.set(key, b);
      return { bucket: b, maxTokens: s.d.tokenBucket.maxTokens };
    }
    return null;
  }

  /** Buckets held for wildcard values now (tests, the bound). */
  dynamicCount(): number {
    let n = 0;
    for (const s of this.slots) n += s.dynamic?.size ?? 0;
    return n;
  }
}

/** Does a request descriptor's `request` equal configured entries `config` ("" values match any)? */
export function matches(config: Entries, request: Entries): boolean {
  if (config.length !== request.length) return false;
  for (let i = 0; i < config.length; i++) {
    const c = config[i] as Entries[number];
    const r = request[i] as Entries[number];
    if (c.key !== r.key || (c.value !== "" && c.value !== r.value)) return false;
  }
  return true;
}
