// Envoy's local rate limit token bucket (source/extensions/filters/common/local_ratelimit): it
// starts full with max_tokens, and every fill_interval adds tokens_per_fill, never above
// max_tokens. Envoy refills on a timer; here the refills due are counted when a request asks,
// on the proxy's Clock, which gives the same tokens at every instant without a timer. Pure.
import type { Clock } from "../../../../core/clock.ts";
import type { TokenBucket } from "../../../../model/rate-limit.ts";

export class TokenBucketState {
  private tokens: number;
  /** Clock time of the last fill boundary counted. */
  private lastFill: number;
  private readonly b: TokenBucket;
  private readonly clock: Clock;

  constructor(bucket: TokenBucket, clock: Clock) {
    this.b = bucket;
    this.clock = clock;
    this.tokens = bucket.maxTokens;
    this.lastFill = clock.now();
  }

  /** Takes one token if there is one. */
  consume(): boolean {
    this.refill();
    if (this.tokens === 0) return false;
    this.tokens--;
    return true;
  }

  /** Tokens left now. */
  remaining(): number {
    this.refill();
    return this.tokens;
  }

  /** Milliseconds until the next fill. */
  msUntilFill(): number {
    this.refill();
    return this.lastFill + this.b.fillIntervalMs - this.clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    const fills = Math.floor((now - this.lastFill) / this.b.fillIntervalMs);
    if (fills <= 0) return;
    this.lastFill += fills * this.b.fillIntervalMs;
    this.tokens = Math.min(this.b.maxTokens, this.tokens + fills * this.b.tokensPerFill);
  }
}
