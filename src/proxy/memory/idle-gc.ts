// IdleGc: one full garbage collection when the proxy goes quiet after its heap grew (issue 15).
//
// A burst of short-lived connections promotes their objects into V8's old generation (the young
// one scavenges every ≈ 2 MB, sooner than a connection ends): 20,000 connections grew it by 15–30 MB.
// V8 gives that memory back through its memory reducer, which starts only when the allocation rate
// is low — a rate V8 samples at garbage collections. A proxy that goes quiet after a burst allocates
// almost nothing, runs no collection, and so keeps the burst's rate: the reducer waits for ever and
// RSS stays 20–35 MB above idle (the plateau of docs/performance.md, "Session 7"). Some runs got it
// back within 30 s and others never, whichever rate the last collection happened to sample.
//
// So the sidecar checks every `intervalMs`: when a whole interval passed without a new connection
// or request, after some traffic, and V8's committed heap is `growthBytes` above what it was after the
// last such collection, it runs one (V8's `gc`, exposed by the sidecar's --expose-gc; a process
// without it has no IdleGc). A quiet proxy is the one moment the pause costs no request anything.
//
// The start's collection (the first check's, when no traffic came yet) is followed by `agingCollections`
// more while the proxy stays quiet, each in a timer turn of its own (a request that arrives between them
// is served at once and ends the series).
// V8 drops a function's bytecode once `--bytecode-old-age` (6) of its major collections ran without the
// function running, and a sidecar runs almost none after its start: what only the start ran (config
// parsing and checks, the sidecar's assembly, Node's TLS set-up in a pushed sidecar) kept its bytecode
// for the process's life. The sidecar's `gc` (last-resort flavour) runs two mark-compacts, which age
// it (V8's plain forced collection does not), so four of them age it out: a pushed Bookinfo sidecar
// holds ≈ 0.1–0.3 MB less idle and 0.2–0.5 less at 1,000 rps, for six more mark-compacts (≈ 25 ms)
// once, 1.1 s after start (docs/performance.md, "Session 15: the pushed sidecar's peak"). Bytecode
// needed again is compiled again from the source, once.
import type { Clock, TimerHandle } from "../../core/clock.ts";

export interface IdleGcOptions {
  clock: Clock;
  /** Downstream connections + requests so far: unchanged over an interval = quiet. */
  activity: () => number;
  /** V8's committed heap in bytes (v8.getHeapStatistics().total_heap_size). */
  heapBytes: () => number;
  /** A full, synchronous garbage collection. */
  gc: () => void;
  /** Default 10 s (V8's memory reducer waits 8 s). */
  intervalMs?: number;
  /**
   * The first check, default 1 s after start: a start leaves its config's transient copies behind (the
   * file's text, a string per occurrence of every value: ≈ 8 MB of heap with 1,000 services), collected
   * at once when the proxy's first second passes without traffic rather than after 10 s.
   */
  firstCheckMs?: number;
  /** Default 4 MB. */
  growthBytes?: number;
  /** Collections after the start's one, while quiet (default 3: with it, 8 mark-compacts, above V8's age of 6). */
  agingCollections?: number;
}

export class IdleGc {
  private readonly o: Required<IdleGcOptions>;
  private timer: TimerHandle | null = null;
  /** The next of the start's aging collections. */
  private aging: TimerHandle | null = null;
  private stopped = false;
  /** The activity at construction: unchanged at the first collection = it is the start's (no traffic yet). */
  private readonly atStart: number;
  private lastActivity: number;
  /** Traffic since the last collection (start counts: its transient config copies are garbage). */
  private busy = true;
  /** Committed heap right after the last collection; 0 before the first. */
  private baseline = 0;
  /** Collections run (admin, tests). */
  collections = 0;

  constructor(options: IdleGcOptions) {
    this.o = { intervalMs: 10_000, firstCheckMs: 1_000, growthBytes: 4 * 1024 * 1024, agingCollections: 3, ...options };
    this.lastActivity = this.atStart = this.o.activity();
  }

  start(): void {
    this.stopped = false;
    if (this.timer === null) this.arm(this.o.firstCheckMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    this.aging?.cancel();
    this.aging = null;
  }

  /** One check (the timer calls it; tests may too). */
  check(): void {
    const a = this.o.activity();
    if (a !== this.lastActivity) {
      this.lastActivity = a;
      this.busy = true;
      return;
    }
    if (!this.busy) return;
    this.busy = false;
    if (this.o.heapBytes() < this.baseline + this.o.growthBytes) return;
    this.collect();
    if (this.collections === 1 && a === this.atStart) this.age(this.o.agingCollections, a);
  }

  private collect(): void {
    this.o.gc();
    this.collections++;
    this.baseline = this.o.heapBytes();
  }

  /** `left` more collections, one per timer turn, while the activity stays at `quiet` (see the header). */
  private age(left: number, quiet: number): void {
    if (left <= 0 || this.stopped) return;
    this.aging = this.o.clock
      .setTimeout(() => {
        this.aging = null;
        if (this.o.activity() !== quiet) return;
        this.collect();
        this.age(left - 1, quiet);
      }, 0)
      .unref();
  }

  private arm(ms: number = this.o.intervalMs): void {
    this.timer = this.o.clock
      .setTimeout(() => {
        this.check();
        if (this.timer !== null) this.arm();
      }, ms)
      .unref();
  }
}
