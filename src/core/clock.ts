// Clock: the one way code reads time and schedules work, so timing logic (timeouts, backoff,
// ejection, sampling windows, connect and idle timers) runs on a fake clock in tests (see
// testing/fake-clock.ts). The proxy gets one through ProxyContext.clock; nothing on the request
// path calls the global setTimeout, nor Node's socket.setTimeout (which Node re-arms on every
// read and write: a cost per request). A long-lived timer that must follow activity (an idle
// timeout) is armed once and, when it fires, checks when the last activity was and re-arms for the
// rest, so activity itself costs a field write, not a timer. Timers that stand in for socket timers
// are unref'd as Node's are: a paused, idle socket must not hold the process open through them.

export interface TimerHandle {
  cancel(): void;
  /** Let the process exit while only this timer is pending (Node's unref); returns the handle. */
  unref(): TimerHandle;
}

export interface Clock {
  /** Milliseconds, monotonic (not wall time). */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for timestamps in logs and spans. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** One object per timer (no closure): route and per-try timers are armed per request. */
class SystemTimer implements TimerHandle {
  private readonly t: NodeJS.Timeout;
  constructor(t: NodeJS.Timeout) {
    this.t = t;
  }
  cancel(): void {
    clearTimeout(this.t);
  }
  unref(): TimerHandle {
    this.t.unref();
    return this;
  }
}

/**
 * Node 24 defines `performance` (like `Buffer` and `process`) as an accessor on globalThis, so each
 * `performance.now()` in optimized code goes through a LoadGlobalIC and the getter (≈ 3 clock reads
 * per request). Read once here.
 */
const perf = globalThis.performance;

class SystemClock implements Clock {
  now(): number {
    return perf.now();
  }
  wallNow(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return new SystemTimer(setTimeout(fn, ms));
  }
}

export const systemClock: Clock = new SystemClock();
