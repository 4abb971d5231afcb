// Verified tokens by their raw string (issue 13: "verified signatures are cached per token"), so
// a repeated token costs one map lookup and the request continues synchronously. Bounded, with
// second-chance (CLOCK) eviction: a hit only sets a flag, and the oldest entry not used since it
// was last passed over goes first — LRU's choice in practice, without re-inserting on every hit.
// An entry answers only while the token is in time (exp / nbf with the 60 s skew, against the
// injected clock's wall time) and while its provider's keys are the set it was verified with: a
// JWKS that changes (a remote set refetched with different keys) drops the entries verified before.
import type { KeySource } from "./jwks.ts";
import { CLOCK_SKEW_S, type VerifiedJwt } from "./verify.ts";

const SKEW_MS = CLOCK_SKEW_S * 1000;

interface Entry {
  readonly v: VerifiedJwt;
  readonly keys: KeySource;
  readonly generation: number;
  used: boolean;
}

export class TokenCache {
  private readonly map = new Map<string, Entry>();
  readonly capacity: number;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new Error(`token cache capacity must be at least 1 (got ${capacity})`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.map.size;
  }

  /** The cached verification of `token`, if it still holds at `wallNowMs`; else undefined (verify again). */
  get(token: string, wallNowMs: number): VerifiedJwt | undefined {
    const e = this.map.get(token);
    if (e === undefined) return undefined;
    if (e.generation !== e.keys.generation || wallNowMs > e.v.expiresAtMs + SKEW_MS) {
      this.map.delete(token); // verified with keys no longer published, or expired for good
      return undefined;
    }
    if (wallNowMs + SKEW_MS < e.v.notBeforeMs) return undefined;
    e.used = true;
    return e.v;
  }

  /** Remember `token` as verified with `keys` (their current generation). */
  set(token: string, v: VerifiedJwt, keys: KeySource): void {
    if (!this.map.has(token) && this.map.size >= this.capacity) this.evictOne();
    this.map.set(token, { v, keys, generation: keys.generation, used: false });
  }

  private evictOne(): void {
    // Each used entry gets one second chance (moved to the back, flag cleared): ends within size + 1 steps.
    for (;;) {
      const first = this.map.entries().next();
      if (first.done === true) return;
      const [k, e] = first.value;
      this.map.delete(k);
      if (!e.used) return;
      e.used = false;
      this.map.set(k, e);
    }
  }
}
