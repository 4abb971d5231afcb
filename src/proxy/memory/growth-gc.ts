// GrowthGc: a major garbage collection when V8's old generation grew by a bound since the last one,
// checked every few seconds, so that a sidecar under a steady load stays near its live size (issue 15).
//
// A steady load promotes what is alive at two scavenges (in-flight requests, feedback, code metadata)
// into the old generation, and V8 runs no major collection until its memory reducer comes, which waits
// for a low allocation rate that a loaded proxy does not have: at 1,000 rps its first came ≈ 100 s into
// the load, and the pushed sidecar's RSS climbed by ≈ 2 MB until then (docs/performance.md, "Session 17:
// the old generation under a steady load").
//
// So the sidecar reads the old generation's used bytes every `intervalMs` and runs one major collection
// when they are `growthBytes` above what they were after the last one (V8's own collections lower the
// mark as well). A plain major collection gives no page back, but the next promotions fill what it
// freed: the committed heap stops growing. (The used bytes, not the committed ones, are the trigger:
// the committed size does not fall under the mark after a collection.) A quiet proxy's heap does not
// grow: it costs one reading per interval. The check is a timer, not a count per request; the
// collection's pause (≈ 6–17 ms with a heap of ≈ 6 MB) falls on the requests in flight, at most once
// per interval.
import { v8Module } from "../../core/builtins.ts";
import type { Clock, TimerHandle } from "../../core/clock.ts";

/** The old generation's used bytes: every V8 space but the young generation's. */
export function oldGenerationBytes(): number {
  let used = 0;
  for (const space of v8Module().getHeapSpaceStatistics()) {
    if (space.space_name !== "new_space" && space.space_name !== "new_large_object_space") used += space.space_used_size;
  }
  return used;
}

export interface GrowthGcOptions {
  clock: Clock;
  /** V8's used heap, the young generation's included (process.memoryUsage().heapUsed): the first look. */
  heapUsed: () => number;
  /** The old generation's used bytes (oldGenerationBytes(), which loads `node:v8`): read when heapUsed grew by the bound. */
  oldGenerationBytes: () => number;
  /** One major collection, synchronous. */
  gc: () => void;
  /** Default 10 s. */
  intervalMs?: number;
  /** Default 0.5 MB (two of V8's 256 kB pages). */
  growthBytes?: number;
}

export class GrowthGc {
  private readonly o: Required<GrowthGcOptions>;
  private timer: TimerHandle | null = null;
  /** The lowest heapUsed since the last collection (right after it, at first). */
  private usedMark: number;
  /** The lowest old generation since the last collection; null before the first (no `node:v8` read yet). */
  private oldMark: number | null = null;
  /** Collections run (admin, tests). */
  collections = 0;

  constructor(options: GrowthGcOptions) {
    this.o = { intervalMs: 10_000, growthBytes: 512 * 1024, ...options };
    this.usedMark = this.o.heapUsed();
  }

  start(): void {
    if (this.timer === null) this.arm();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /**
   * One check (the timer calls it; tests may too). heapUsed counts the young generation too, so its growth
   * is at least the old generation's: under the bound, the old generation did not grow by it either, and
   * `node:v8` is not needed. Before the first collection its growth alone decides.
   */
  check(): void {
    const used = this.o.heapUsed();
    if (used < this.usedMark) this.usedMark = used;
    if (used < this.usedMark + this.o.growthBytes) return;
    if (this.oldMark !== null) {
      const old = this.o.oldGenerationBytes();
      if (old < this.oldMark) this.oldMark = old;
      if (old < this.oldMark + this.o.growthBytes) return;
    }
    this.o.gc();
    this.collections++;
    this.usedMark = this.o.heapUsed();
    this.oldMark = this.o.oldGenerationBytes();
  }

  private arm(): void {
    this.timer = this.o.clock
      .setTimeout(() => {
        this.check();
        if (this.timer !== null) this.arm();
      }, this.o.intervalMs)
      .unref();
  }
}
