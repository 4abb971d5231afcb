// Retry backoff: Envoy's fully jittered exponential back-off (JitteredExponentialBackOffStrategy,
// source/common/common/backoff_strategy.cc). Retry N waits a uniform integer number of ms in
// [0, min(base * 2^(N-1), max)): with the 25 ms default, 0-24 ms, then 0-49, 0-99, 0-199, then
// 0-249 ms from the 5th retry on (max defaults to 10 x base).
import type { Random } from "../../core/random.ts";

/** Envoy's default base interval (runtime key upstream.base_retry_backoff_ms). */
export const DEFAULT_BACKOFF_BASE_MS = 25;

export class Backoff {
  private readonly base: number;
  private readonly max: number;
  private readonly random: Random;
  private next: number;

  /** maxMs <= 0 or absent: 10 x base, as Envoy. A max below base is raised to base. */
  constructor(random: Random, baseMs: number = DEFAULT_BACKOFF_BASE_MS, maxMs = 0) {
    this.base = baseMs > 0 ? Math.ceil(baseMs) : DEFAULT_BACKOFF_BASE_MS;
    this.max = maxMs > 0 ? Math.max(this.base, Math.ceil(maxMs)) : this.base * 10;
    this.random = random;
    this.next = this.base;
  }

  /** Delay before the next retry, in ms; each call widens the window (up to the max). */
  nextDelayMs(): number {
    const interval = this.next;
    // Envoy doubles while below max/2, else jumps to max: the same as min(base * 2^n, max).
    this.next = this.next < this.max / 2 ? this.next * 2 : this.max;
    return this.random.int(interval);
  }

  /** Back to the first window (a new request). */
  reset(): void {
    this.next = this.base;
  }
}

/** Upper bound (exclusive) of the wait before retry number `retry` (1-based). */
export function backoffWindowMs(retry: number, baseMs: number = DEFAULT_BACKOFF_BASE_MS, maxMs: number = baseMs * 10): number {
  return Math.min(baseMs * 2 ** Math.max(0, retry - 1), Math.max(baseMs, maxMs));
}
