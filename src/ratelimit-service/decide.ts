// One ShouldRateLimit call, as the reference service answers it (envoyproxy/ratelimit
// src/service/ratelimit.go, src/limiter/base_limiter.go): find each descriptor's limit, drop
// limits another matched limit `replaces`, count every limited descriptor in its window, and
// answer OVER_LIMIT if any counter went past its limit (shadow-mode limits count but always
// answer OK). Each status carries the limit, what remains, and the time to the window's end.
// Protocol-neutral: grpc-server.ts and http-server.ts translate to and from the wire.
import type { Clock } from "../core/clock.ts";
import type { RateLimit, RateLimitConfig } from "./config.ts";
import { findLimit, type RequestDescriptor } from "./match.ts";
import { StoreUnavailableError, type CounterStore, type Increment } from "./store.ts";
import type { Unit } from "./units.ts";
import { counterKey, counterTtl, secondsUntilReset } from "./window.ts";

export type Code = "OK" | "OVER_LIMIT";

export interface DescriptorStatus {
  code: Code;
  currentLimit: { name: string; requestsPerUnit: number; unit: Unit } | undefined;
  limitRemaining: number;
  /** Seconds; undefined when no limit applied. */
  durationUntilReset: number | undefined;
}

export interface RateLimitDecision {
  overallCode: Code;
  statuses: DescriptorStatus[];
}

export interface RateLimitCall {
  domain: string;
  descriptors: readonly (RequestDescriptor & { hitsAddend?: number | undefined })[];
  /** 0 means 1, as in the protocol. */
  hitsAddend: number;
}

/**
 * What to answer while the counter store is unreachable: `error` returns an error to the caller
 * (as the reference service does; Envoy's failure_mode_deny then decides), `allow` answers OK,
 * `deny` answers OVER_LIMIT for every limited descriptor.
 */
export type StoreFailureMode = "error" | "allow" | "deny";

export class BadRequestError extends Error {
  readonly code = "AMIME_RATELIMIT_BAD_REQUEST";
}

/** uint32 max: the reference's limit_remaining for an `unlimited` descriptor. */
const UNLIMITED_REMAINING = 0xffffffff;

export interface RateLimiterOptions {
  config: RateLimitConfig;
  store: CounterStore;
  clock: Clock;
  failureMode: StoreFailureMode;
  /** Prepended to every counter key (the reference's CACHE_KEY_PREFIX); default empty. */
  keyPrefix?: string;
  /** Told each time the store fails (once per call). */
  onStoreError?: (e: StoreUnavailableError) => void;
}

export class RateLimiter {
  private readonly o: RateLimiterOptions;

  constructor(options: RateLimiterOptions) {
    this.o = options;
  }

  async shouldRateLimit(call: RateLimitCall): Promise<RateLimitDecision> {
    if (call.domain === "") throw new BadRequestError("rate limit domain must not be empty");
    if (call.descriptors.length === 0) throw new BadRequestError("rate limit descriptor list must not be empty");
    const limits = call.descriptors.map((d) => findLimit(this.o.config, call.domain, d));
    dropReplaced(limits);

    const nowSeconds = Math.floor(this.o.clock.wallNow() / 1000);
    const increments: Increment[] = [];
    const slot: number[] = [];
    limits.forEach((limit, i) => {
      if (limit === undefined || limit.unlimited || limit.unit === undefined) return;
      const d = call.descriptors[i] as RateLimitCall["descriptors"][number];
      const hits = d.hitsAddend !== undefined ? d.hitsAddend : call.hitsAddend === 0 ? 1 : call.hitsAddend;
      slot[i] = increments.length;
      increments.push({ key: counterKey(this.o.keyPrefix ?? "", call.domain, d.entries, limit.unit, nowSeconds), hits, ttlSeconds: counterTtl(limit.unit) });
    });

    let counts: number[] | undefined;
    if (increments.length > 0) {
      try {
        counts = await this.o.store.increment(increments);
      } catch (e) {
        if (!(e instanceof StoreUnavailableError)) throw e;
        this.o.onStoreError?.(e);
        if (this.o.failureMode === "error") throw e;
      }
    }

    let overall: Code = "OK";
    const statuses = limits.map((limit, i): DescriptorStatus => {
      if (limit === undefined) return { code: "OK", currentLimit: undefined, limitRemaining: 0, durationUntilReset: undefined };
      if (limit.unlimited || limit.unit === undefined) return { code: "OK", currentLimit: undefined, limitRemaining: UNLIMITED_REMAINING, durationUntilReset: undefined };
      const currentLimit = { name: limit.name, requestsPerUnit: limit.requestsPerUnit, unit: limit.unit };
      const durationUntilReset = secondsUntilReset(limit.unit, nowSeconds);
      let over: boolean;
      let remaining: number;
      if (counts === undefined) {
        over = this.o.failureMode === "deny";
        remaining = over ? 0 : limit.requestsPerUnit;
      } else {
        const after = counts[slot[i] as number] as number;
        over = after > limit.requestsPerUnit;
        remaining = over ? 0 : limit.requestsPerUnit - after;
      }
      const code: Code = over && !limit.shadowMode ? "OVER_LIMIT" : "OK";
      if (code === "OVER_LIMIT") overall = "OVER_LIMIT";
      return { code, currentLimit, limitRemaining: remaining, durationUntilReset };
    });
    return { overallCode: overall, statuses };
  }
}

/** A matched limit named in another matched limit's `replaces` is not checked for this request. */
function dropReplaced(limits: (RateLimit | undefined)[]): void {
  let replaced: Set<string> | undefined;
  for (const l of limits) if (l !== undefined && l.replaces.length > 0) for (const name of l.replaces) (replaced ??= new Set()).add(name);
  if (replaced === undefined) return;
  for (let i = 0; i < limits.length; i++) {
    const l = limits[i];
    if (l !== undefined && l.name !== "" && replaced.has(l.name)) limits[i] = undefined;
  }
}
