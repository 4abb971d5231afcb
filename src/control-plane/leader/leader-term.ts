// LeaderTerm: how long this replica may act as leader, measured on its own clock. The leader key
// lives on an etcd lease; etcd starts the lease's TTL over when it receives a keepalive, which is
// after this replica sent it. So "sent at t, answered" proves the lease runs until at least t + TTL
// on etcd's side, and this replica acts as leader only until t + renewDeadline (< TTL): a replica
// cut off from etcd stops leading at least TTL − renewDeadline before another can be elected.
// Durations only, never wall time: clocks of different machines need not agree, only tick alike.

export interface LeaderTiming {
  /** TTL of the lease holding the leader key (etcd counts in whole seconds). */
  leaseTtlMs: number;
  /** Lead only until this long after sending the last keepalive etcd answered. */
  renewDeadlineMs: number;
  /** Keepalives (leader) and campaigns (followers) this often. */
  retryPeriodMs: number;
}

/** client-go's leader-election defaults (Kubernetes controllers, istiod): 15 s, 10 s, 2 s. */
export const DEFAULT_LEADER_TIMING: LeaderTiming = { leaseTtlMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** Why `t` cannot keep one leader at a time (null: it can). */
export function timingProblem(t: LeaderTiming): string | null {
  if (!Number.isInteger(t.leaseTtlMs / 1000) || t.leaseTtlMs < 1000) return `lease TTL ${t.leaseTtlMs} ms: etcd leases count in whole seconds (at least 1 s)`;
  if (!(t.renewDeadlineMs > 0 && t.renewDeadlineMs < t.leaseTtlMs)) return `renew deadline ${t.renewDeadlineMs} ms must be above 0 and below the lease TTL (${t.leaseTtlMs} ms)`;
  if (!(t.retryPeriodMs > 0 && t.retryPeriodMs < t.renewDeadlineMs)) return `retry period ${t.retryPeriodMs} ms must be above 0 and below the renew deadline (${t.renewDeadlineMs} ms)`;
  return null;
}

export class LeaderTerm {
  readonly #renewDeadlineMs: number;
  #until = Number.NEGATIVE_INFINITY;

  constructor(renewDeadlineMs: number) {
    this.#renewDeadlineMs = renewDeadlineMs;
  }

  /** etcd answered a grant or keepalive sent at `sentAt` (this clock's now()). */
  renewed(sentAt: number): void {
    this.#until = Math.max(this.#until, sentAt + this.#renewDeadlineMs);
  }

  /** Whether this replica may still act as leader at `now`. */
  holds(now: number): boolean {
    return now < this.#until;
  }

  /** When leading ends unless renewed (−∞ when not leading). */
  get until(): number {
    return this.#until;
  }

  end(): void {
    this.#until = Number.NEGATIVE_INFINITY;
  }
}
