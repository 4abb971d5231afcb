// Restart decisions and backoff for crashed apps and sidecars: Kubernetes' restartPolicy and a
// CrashLoopBackOff-like exponential delay, shortened for a developer's machine (1 s doubling to
// 30 s instead of 10 s to 5 min). A process that ran for `resetAfterMs` without exiting is
// considered healthy again and its next crash restarts after the first delay.
import type { RestartPolicy } from "../../model/specs/workload.ts";

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

/** Whether an exit should be followed by a restart. `code` null = killed by a signal (a failure). */
export function shouldRestart(policy: RestartPolicy, code: number | null): boolean {
  if (policy === "Always") return true;
  if (policy === "OnFailure") return code !== 0;
  return false;
}

export class RestartBackoff {
  private readonly opts: BackoffOptions;
  private failures = 0;

  constructor(opts: Partial<BackoffOptions> = {}) {
    this.opts = { ...DEFAULT_BACKOFF, ...opts };
  }

  /** Delay before the next start, given how long the process that just exited had run. */
  next(ranForMs: number): number {
    if (ranForMs >= this.opts.resetAfterMs) this.failures = 0;
    const delay = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** this.failures);
    this.failures++;
    return delay;
  }

  get restarts(): number {
    return this.failures;
  }
}
