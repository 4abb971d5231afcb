// Waiting on observable events, the only way integration tests order events (never a sleep whose
// length is a guess): poll a condition (a counter on the admin stats endpoint, a request count on a
// fake server, a log line) until it holds, or wait for an event's promise (a socket closing, a
// process printing). Both fail after a generous time limit with a message naming what they waited
// for, so a broken feature fails quickly and says why instead of hanging until the test timeout.
// The limit is a safety net for hangs, not a timed assertion: the condition decides.

export interface WaitOptions {
  /** What is awaited, for the failure message ("the upstream to see 2 requests"). */
  what: string;
  /** Give up after this long (default 10 s: far above any expected wait, even on a loaded machine). */
  timeoutMs?: number;
  /** Poll interval (default 10 ms). */
  everyMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Poll `check` until it returns a truthy value, and resolve with that value. A check that throws
 * counts as "not yet"; its last error is quoted if the wait times out.
 */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: WaitOptions): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const every = opts.everyMs ?? 10;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= end) {
      const why = last === undefined ? "" : `; last error: ${last instanceof Error ? last.message : String(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}${why}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Resolve with what `event` resolves with; fail naming `what` if it has not settled in time. */
export function within<T>(event: Promise<T>, opts: Omit<WaitOptions, "everyMs">): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}`)), timeoutMs);
    event.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * A latch a fake server waits on, so a test decides when it answers (instead of a delay that
 * is hoped to be long enough): `await gate.opened` in the handler, `gate.open()` in the test.
 */
export class Gate {
  readonly opened: Promise<void>;
  private release!: () => void;
  isOpen = false;

  constructor() {
    this.opened = new Promise<void>((r) => (this.release = r));
  }

  open(): void {
    this.isOpen = true;
    this.release();
  }
}
