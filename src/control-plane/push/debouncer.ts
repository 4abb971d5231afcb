// Debouncer: coalesces a burst of changes into one push. Fires `quietMs` after the last trigger,
// but never later than `maxWaitMs` after the first one, so a steady trickle of changes (a
// registry flapping) cannot hold pushes back forever. Istio's pilot does the same (100 ms / 10 s).
import type { Clock, TimerHandle } from "../../core/clock.ts";

export class Debouncer {
  private readonly clock: Clock;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly fire: () => void;
  private timer: TimerHandle | null = null;
  private firstAt = 0;

  constructor(clock: Clock, quietMs: number, maxWaitMs: number, fire: () => void) {
    this.clock = clock;
    this.quietMs = quietMs;
    this.maxWaitMs = Math.max(quietMs, maxWaitMs);
    this.fire = fire;
  }

  get pending(): boolean {
    return this.timer !== null;
  }

  trigger(): void {
    const now = this.clock.now();
    if (this.timer === null) this.firstAt = now;
    this.timer?.cancel();
    const due = Math.min(now + this.quietMs, this.firstAt + this.maxWaitMs);
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.fire();
    }, Math.max(0, due - now));
  }

  /** Fire now if something is pending (shutdown, tests). */
  flush(): void {
    if (this.timer === null) return;
    this.timer.cancel();
    this.timer = null;
    this.fire();
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
