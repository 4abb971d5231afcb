// Clock: the one way code reads time and schedules work, so timing logic (timeouts, backoff,
// ejection, sampling windows) runs on a fake clock in tests (see testing/fake-clock.ts).

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic (not wall time). */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for timestamps in logs and spans. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }
  wallNow(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  }
}

export const systemClock: Clock = new SystemClock();
