// Envoy's HCM `request_headers_timeout` for the HTTP/1.1 codec: a request head must be complete
// within `timeoutMs` of its first byte, else the connection gets 408 and is closed
// (`downstream_rq_header_timeout`). One per listener, one timer per listener: a connection whose
// head does not arrive in one read joins a FIFO (every entry has the same timeout, so the oldest
// start is the next deadline); a head that arrives whole, the fast path, costs nothing at all.
import type { Clock, TimerHandle } from "../../core/clock.ts";

/** A connection as the head timer sees it. */
export interface HeadWaiter {
  /** Clock ms of the first byte of the head being received (set by start()). */
  headStartMs: number;
  /** The head did not complete in time. */
  onHeaderTimeout(): void;
}

export class HeaderTimeouts {
  private readonly clock: Clock;
  private timeoutMs: number;
  /** Insertion order is start order: a Set keeps it, and removal is O(1). */
  private readonly waiting = new Set<HeadWaiter>();
  private timer: TimerHandle | null = null;
  private timerAt = 0;

  constructor(clock: Clock, timeoutMs: number) {
    this.clock = clock;
    this.timeoutMs = timeoutMs;
  }

  get enabled(): boolean {
    return this.timeoutMs > 0;
  }

  /** Heads being received (admin, tests). */
  get size(): number {
    return this.waiting.size;
  }

  /** A config push changed the timeout: it applies to heads already waiting too. */
  setTimeout(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.cancelTimer();
    if (ms > 0) this.arm();
  }

  /** The first bytes of a head came in without completing it. */
  start(w: HeadWaiter): void {
    if (!(this.timeoutMs > 0) || this.waiting.has(w)) return;
    w.headStartMs = this.clock.now();
    this.waiting.add(w);
    if (this.timer === null) this.arm();
  }

  /** The head completed, or the connection went away. */
  stop(w: HeadWaiter): void {
    this.waiting.delete(w);
  }

  close(): void {
    this.cancelTimer();
    this.waiting.clear();
  }

  private arm(): void {
    const first = this.waiting.values().next();
    if (first.done === true) return;
    const at = first.value.headStartMs + this.timeoutMs;
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private fire(): void {
    this.timer = null;
    const now = this.clock.now();
    for (const w of this.waiting) {
      if (now - w.headStartMs < this.timeoutMs) break;
      this.waiting.delete(w);
      w.onHeaderTimeout();
    }
    this.arm();
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = 0;
  }

  /** When the armed timer fires (tests); 0 = none armed. */
  get nextDeadline(): number {
    return this.timer === null ? 0 : this.timerAt;
  }
}
