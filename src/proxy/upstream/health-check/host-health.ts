// The health-check state of one host (Envoy ActiveHealthCheckSession's counters), pure: it only
// counts outcomes and says when the host changes state.
//
// Envoy's rules (health_checker_impl_base.cc, handleSuccess / handleFailure):
// - a NETWORK failure (connect failure, reset, timeout) marks a healthy host unhealthy after
//   `unhealthyThreshold` consecutive failures;
// - an ACTIVE failure (the host answered, with a status not expected) marks it unhealthy at once;
// - an unhealthy host becomes healthy after `healthyThreshold` consecutive successes, except on
//   its very first check, which decides on its own (a new host is not held back for N intervals).
// Amime starts hosts healthy (Kubernetes readiness already gates them; Envoy instead starts them
// unhealthy and warms the cluster up on the first checks). A first check that times out is
// treated like any other network failure: a proxy starting under load must not take every host
// out at once.

export type HealthOutcome = "success" | "active-failure" | "network-failure";
export type HealthTransition = "became-healthy" | "became-unhealthy" | "unchanged";

export class HostHealth {
  private readonly unhealthyThreshold: number;
  private readonly healthyThreshold: number;
  failed = false;
  consecutiveSuccesses = 0;
  consecutiveFailures = 0;
  checks = 0;
  lastOutcome: HealthOutcome | null = null;

  constructor(unhealthyThreshold: number, healthyThreshold: number) {
    this.unhealthyThreshold = Math.max(1, unhealthyThreshold);
    this.healthyThreshold = Math.max(1, healthyThreshold);
  }

  record(outcome: HealthOutcome): HealthTransition {
    const first = this.checks === 0;
    this.checks++;
    this.lastOutcome = outcome;
    if (outcome === "success") {
      this.consecutiveFailures = 0;
      this.consecutiveSuccesses++;
      if (this.failed && (first || this.consecutiveSuccesses >= this.healthyThreshold)) {
        this.failed = false;
        return "became-healthy";
      }
      return "unchanged";
    }
    this.consecutiveSuccesses = 0;
    this.consecutiveFailures++;
    if (!this.failed && (outcome === "active-failure" || this.consecutiveFailures >= this.unhealthyThreshold)) {
      this.failed = true;
      return "became-unhealthy";
    }
    return "unchanged";
  }
}
