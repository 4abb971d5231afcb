// RetryCounter: a cluster's limit on concurrent retries (Envoy circuit breaker max_retries, or a
// retry budget), shared by all requests to the cluster. When a retry cannot get a slot the
// request fails with the attempt's own outcome and upstream_rq_retry_overflow counts it.

export interface RetryBudget {
  /** Percent of active + pending requests that may be retries (Envoy default 20). */
  percent: number;
  /** Retries always allowed regardless of load (Envoy default 3). */
  minConcurrency: number;
  /** The cluster's active + pending requests right now. */
  activeRequests: () => number;
}

export interface RetryStats {
  /** Retries scheduled (upstream_rq_retry). */
  retries: number;
  /** Retries refused for lack of a slot (upstream_rq_retry_overflow). */
  overflow: number;
  /** A request succeeded after a retry (upstream_rq_retry_success). */
  success: number;
  /** Retryable failures with no retries left (upstream_rq_retry_limit_exceeded). */
  limitExceeded: number;
}

export class RetryCounter {
  private maxRetries: number;
  private readonly budget: RetryBudget | undefined;
  private activeRetries = 0;
  readonly stats: RetryStats = { retries: 0, overflow: 0, success: 0, limitExceeded: 0 };

  /** maxRetries: ConnectionPoolConfig.maxRetries (Istio default 2^32-1). A budget overrides it. */
  constructor(maxRetries: number, budget?: RetryBudget) {
    this.maxRetries = maxRetries;
    this.budget = budget;
  }

  get active(): number {
    return this.activeRetries;
  }

  /** Current limit: the budget's (max(min, percent of active)) when set, else maxRetries. */
  limit(): number {
    if (!this.budget) return this.maxRetries;
    const { percent, minConcurrency, activeRequests } = this.budget;
    return Math.max(minConcurrency, Math.floor((activeRequests() * percent) / 100));
  }

  setMaxRetries(n: number): void {
    this.maxRetries = n;
  }

  /** Take a slot for a retry; false (and an overflow counted) when none is free. */
  tryAcquire(): boolean {
    if (this.activeRetries >= this.limit()) {
      this.stats.overflow++;
      return false;
    }
    this.activeRetries++;
    this.stats.retries++;
    return true;
  }

  release(): void {
    if (this.activeRetries > 0) this.activeRetries--;
  }

  recordSuccessAfterRetry(): void {
    this.stats.success++;
  }

  recordLimitExceeded(): void {
    this.stats.limitExceeded++;
  }
}
