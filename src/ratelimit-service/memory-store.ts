// Counters in this process: a map of key → count with an expiry, swept once per second of clock
// time at most (keys carry their window start, so a stale key is never read again; the sweep only
// bounds memory).
import type { Clock } from "../core/clock.ts";
import type { CounterStore, Increment } from "./store.ts";

interface Counter {
  count: number;
  expiresAt: number;
}

export class MemoryStore implements CounterStore {
  private readonly counters = new Map<string, Counter>();
  private nextSweep = 0;
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  increment(increments: readonly Increment[]): Promise<number[]> {
    const now = this.clock.wallNow();
    if (now >= this.nextSweep) this.sweep(now);
    const out: number[] = [];
    for (const inc of increments) {
      let c = this.counters.get(inc.key);
      if (c === undefined || c.expiresAt <= now) {
        c = { count: 0, expiresAt: now + inc.ttlSeconds * 1000 };
        this.counters.set(inc.key, c);
      }
      c.count += inc.hits;
      out.push(c.count);
    }
    return Promise.resolve(out);
  }

  /** Number of live counters (for tests). */
  get size(): number {
    return this.counters.size;
  }

  close(): Promise<void> {
    this.counters.clear();
    return Promise.resolve();
  }

  private sweep(now: number): void {
    for (const [key, c] of this.counters) if (c.expiresAt <= now) this.counters.delete(key);
    this.nextSweep = now + 1000;
  }
}
