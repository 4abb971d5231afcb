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

/** The wall-clock time (ms since the epoch, rounded) of `monotonicMs`, a reading of `clock.now()`. */
export function wallTimeAt(clock: Clock, monotonicMs: number): number {
  return Math.round(clock.wallNow() - (clock.now() - monotonicMs));
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
 * The monotonic clock is `process.hrtime()`, not `performance.now()`: reading `globalThis.performance`
 * loads `perf_hooks` and eight modules behind it (the user-timing, resource-timing, event-loop and
 * histogram parts) that a sidecar never uses, ≈ 0.6–0.9 MB of RSS (issue 15, docs/performance.md
 * "Session 13: what the sidecar's own code makes Node load"). Both read the same clock
 * (uv_hrtime); optimized, `hrtime()`'s two-element array is not allocated, and a read costs what
 * `performance.now()` costs (38 against 37 ns, the sidecar's flags). `process.hrtime` is taken once
 * here: `process`, like `performance`, is an accessor on globalThis. Times count from this module's
 * start, as `performance.now()`'s from the process's, so they stay small and exact in a double.
 */
const hrtime = process.hrtime;
const [originS, originNs] = hrtime();

class SystemClock implements Clock {
  now(): number {
    const t = hrtime();
    return (t[0] - originS) * 1e3 + (t[1] - originNs) / 1e6;
  }
  wallNow(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return new SystemTimer(setTimeout(fn, ms));
  }
}

export const systemClock: Clock = new SystemClock();
