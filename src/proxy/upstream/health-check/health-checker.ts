// HealthChecker: active health checking for one cluster (Envoy HealthCheckerImplBase). One
// session per host: check, wait for the outcome or the timeout (on the injected Clock), record
// it, wait `interval`, check again. A host that turns unhealthy leaves the HostSet's pickable
// set (setHealthCheckFailed); one that turns healthy comes back. Every passed check also ends
// an outlier ejection at once, as Envoy's successful_active_health_check_uneject_host (default
// true) does.
import type { Clock, TimerHandle } from "../../../core/clock.ts";
import type { HealthCheckConfig } from "../../../model/proxy-config.ts";
import type { Host } from "../balance/balancer.ts";
import type { HostSet } from "../balance/host-set.ts";
import { HostHealth, type HealthOutcome } from "./host-health.ts";
import { probeFor, type Probe } from "./probe.ts";

/** Envoy's cluster.<name>.health_check.* counters. */
export interface HealthCheckStats {
  attempt: number;
  success: number;
  failure: number;
  network_failure: number;
  /** Gauge: hosts not failing active health checks. */
  healthy: number;
}

export interface HealthCheckerOptions {
  /** The probe to run (default: HTTP or TCP by config.kind); tests inject fakes. */
  probe?: Probe;
  /** Host header for HTTP checks (default: the host's address:port). */
  authority?: string;
  /** A check passed: end the host's outlier ejection (Envoy uneject on active HC success). */
  onSuccess?: (host: Host) => void;
}

interface Session {
  readonly host: Host;
  readonly health: HostHealth;
  timer: TimerHandle | null;
  abort: (() => void) | null;
  lastDetail: string;
  stopped: boolean;
}

export class HealthChecker {
  readonly config: HealthCheckConfig;
  private readonly hosts: HostSet;
  private readonly clock: Clock;
  private readonly probe: Probe;
  private readonly authority: string | undefined;
  private readonly onSuccess: HealthCheckerOptions["onSuccess"];
  private readonly sessions = new Map<Host, Session>();
  private running = false;
  readonly stats: HealthCheckStats = { attempt: 0, success: 0, failure: 0, network_failure: 0, healthy: 0 };

  constructor(config: HealthCheckConfig, hosts: HostSet, clock: Clock, options: HealthCheckerOptions = {}) {
    this.config = config;
    this.hosts = hosts;
    this.clock = clock;
    this.probe = options.probe ?? probeFor(config);
    this.authority = options.authority;
    this.onSuccess = options.onSuccess;
  }

  /** Start a session per host; each host's first check runs at once. */
  start(): void {
    this.running = true;
    this.syncHosts();
  }

  /** Hosts were added or removed (EDS update): start and stop sessions to match. */
  syncHosts(): void {
    if (!this.running) return;
    const current = new Set(this.hosts.hosts);
    for (const [host, s] of this.sessions) {
      if (!current.has(host)) {
        this.stopSession(s);
        this.sessions.delete(host);
      }
    }
    for (const host of current) {
      if (this.sessions.has(host)) continue;
      const s: Session = { host, health: new HostHealth(this.config.unhealthyThreshold, this.config.healthyThreshold), timer: null, abort: null, lastDetail: "", stopped: false };
      this.sessions.set(host, s);
      this.check(s);
    }
    this.updateGauge();
  }

  /** Stop every session; hosts keep no health-check failure (the cluster stops checking). */
  stop(): void {
    this.running = false;
    for (const s of this.sessions.values()) {
      this.stopSession(s);
      this.hosts.setHealthCheckFailed(s.host, false);
    }
    this.sessions.clear();
  }

  /** For admin: the state of one host's session, if it has one. */
  state(host: Host): { failed: boolean; consecutiveSuccesses: number; consecutiveFailures: number; checks: number; lastOutcome: HealthOutcome | null; lastDetail: string } | undefined {
    const s = this.sessions.get(host);
    if (s === undefined) return undefined;
    const h = s.health;
    return { failed: h.failed, consecutiveSuccesses: h.consecutiveSuccesses, consecutiveFailures: h.consecutiveFailures, checks: h.checks, lastOutcome: h.lastOutcome, lastDetail: s.lastDetail };
  }

  private check(s: Session): void {
    if (s.stopped) return;
    this.stats.attempt++;
    let settled = false;
    const settle = (outcome: HealthOutcome, detail: string): void => {
      if (settled || s.stopped) return;
      settled = true;
      s.timer?.cancel();
      s.timer = null;
      s.abort = null;
      this.record(s, outcome, detail);
      s.timer = this.clock.setTimeout(() => {
        s.timer = null;
        this.check(s);
      }, this.config.intervalMs);
    };
    s.timer = this.clock.setTimeout(() => {
      s.timer = null;
      s.abort?.();
      settle("network-failure", `timeout after ${this.config.timeoutMs} ms`);
    }, this.config.timeoutMs);
    const target = { address: s.host.address, port: s.host.port, authority: this.authority ?? s.host.key };
    const abort = this.probe(target, this.config, settle);
    if (!settled) s.abort = abort;
  }

  private record(s: Session, outcome: HealthOutcome, detail: string): void {
    s.lastDetail = detail;
    if (outcome === "success") this.stats.success++;
    else {
      this.stats.failure++;
      if (outcome === "network-failure") this.stats.network_failure++;
    }
    const t = s.health.record(outcome);
    if (t === "became-unhealthy") this.hosts.setHealthCheckFailed(s.host, true);
    else if (t === "became-healthy") this.hosts.setHealthCheckFailed(s.host, false);
    if (outcome === "success") this.onSuccess?.(s.host);
    this.updateGauge();
  }

  private stopSession(s: Session): void {
    s.stopped = true;
    s.timer?.cancel();
    s.timer = null;
    s.abort?.();
    s.abort = null;
  }

  private updateGauge(): void {
    let n = 0;
    for (const s of this.sessions.values()) if (!s.health.failed) n++;
    this.stats.healthy = n;
  }
}
