// FakeClock: time moves only when a test calls advance(); due timers fire in order.
import type { Clock, TimerHandle } from "../core/clock.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  /** unref() was called: with the system clock it would not hold the process open. */
  unrefed: boolean;
}

class FakeTimer implements TimerHandle {
  readonly t: Timer;
  constructor(t: Timer) {
    this.t = t;
  }
  cancel(): void {
    this.t.cancelled = true;
  }
  /** Fake time never keeps a process alive; recorded for pendingHolding(). */
  unref(): TimerHandle {
    this.t.unrefed = true;
    return this;
  }
}

export class FakeClock implements Clock {
  private t: number;
  private wallBase: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = 0, wallBase = Date.UTC(2026, 0, 1)) {
    this.t = start;
    this.wallBase = wallBase;
  }

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.wallBase + this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false, unrefed: false };
    this.timers.push(timer);
    return new FakeTimer(timer);
  }

  /** Move time forward by ms, firing every timer that falls due, in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.cancelled && x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }

  /** Timers not yet fired or cancelled. */
  pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }

  /** Pending timers that would hold a real process open (not unref'd). */
  pendingHolding(): number {
    return this.timers.filter((x) => !x.cancelled && !x.unrefed).length;
  }

  /** Delays (from now) of the pending timers, soonest first: what a state machine has armed. */
  pendingDelays(): number[] {
    return this.timers.filter((x) => !x.cancelled).map((x) => x.at - this.t).sort((a, b) => a - b);
  }
}
