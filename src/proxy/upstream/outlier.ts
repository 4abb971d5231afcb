// Outlier detection (passive health checking) for one cluster, after Envoy's DetectorImpl
// (source/common/upstream/outlier_detection_impl.cc) with Istio's translation: consecutive
// 5xx, consecutive gateway failures and consecutive local-origin failures eject a host as soon
// as a counter reaches its threshold; an interval timer returns hosts whose ejection time has
// passed and decays the ejection-time multiplier of hosts that stay healthy. These are all the
// ejection kinds an Istio mesh can turn on: Istio's OutlierDetection API has no success-rate or
// failure-percentage fields, and Istio sets Envoy's enforcing_success_rate to 0.
//
// Istio's minHealthPercent is not handled here: Istio maps it to Envoy's healthy_panic_threshold,
// which HostSet applies (panicThresholdFor): below it, every host is pickable again.
//
// Pure: time comes from the injected Clock.
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { OutlierDetectionConfig } from "../../model/proxy-config.ts";
import type { Host } from "./balance/balancer.ts";
import type { HostSet } from "./balance/host-set.ts";

/** Envoy's default max_ejection_time (used when it is below base_ejection_time: the base). */
export const DEFAULT_MAX_EJECTION_TIME_MS = 300_000;

export type EjectionType = "consecutive_5xx" | "consecutive_gateway_failure" | "consecutive_local_origin_failure";

/** Envoy's outlier_detection.* stats for the cluster. */
export interface OutlierStats {
  /** Gauge: hosts currently ejected. */
  ejections_active: number;
  /** Ejections refused because of max_ejection_percent. */
  ejections_overflow: number;
  ejections_enforced_total: number;
  ejections_enforced_consecutive_5xx: number;
  ejections_detected_consecutive_5xx: number;
  ejections_enforced_consecutive_gateway_failure: number;
  ejections_detected_consecutive_gateway_failure: number;
  ejections_enforced_consecutive_local_origin_failure: number;
  ejections_detected_consecutive_local_origin_failure: number;
}

export interface OutlierOptions {
  /** Cap on the ejection time; default max(300 s, baseEjectionTime) as Envoy. */
  maxEjectionTimeMs?: number;
  /** Envoy always_eject_one_host (default false): allow one ejection whatever maxEjectionPercent says. */
  alwaysEjectOneHost?: boolean;
  /** Told after each eject / uneject (e.g. to drain the host's connection pool, log an event). */
  onChange?: (host: Host, ejected: boolean, type?: EjectionType) => void;
}

/** Per-host monitor state (Envoy DetectorHostMonitorImpl), exposed for admin/explain and tests. */
export interface HostOutlierState {
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  consecutiveLocalOriginFailure: number;
  /** Times the host has been ejected (ever, while it stays in the cluster). */
  numEjections: number;
  /** Multiplier for base_ejection_time; grows per ejection, decays per healthy interval. */
  ejectTimeBackoff: number;
  lastEjectionTime?: number;
  lastUnejectionTime?: number;
}

/** What happened on the local side of an attempt (Envoy Outlier::Result, local origin). */
export type LocalOriginFailure = "connect-failed" | "reset" | "timeout";

export class OutlierDetector {
  private readonly config: OutlierDetectionConfig;
  private readonly hosts: HostSet;
  private readonly clock: Clock;
  private readonly maxEjectionTimeMs: number;
  private readonly alwaysEjectOneHost: boolean;
  private readonly onChange: OutlierOptions["onChange"];
  private readonly monitors = new WeakMap<Host, HostOutlierState>();
  private timer: TimerHandle | undefined;
  readonly stats: OutlierStats = {
    ejections_active: 0,
    ejections_overflow: 0,
    ejections_enforced_total: 0,
    ejections_enforced_consecutive_5xx: 0,
    ejections_detected_consecutive_5xx: 0,
    ejections_enforced_consecutive_gateway_failure: 0,
    ejections_detected_consecutive_gateway_failure: 0,
    ejections_enforced_consecutive_local_origin_failure: 0,
    ejections_detected_consecutive_local_origin_failure: 0,
  };

  constructor(config: OutlierDetectionConfig, hosts: HostSet, clock: Clock, options: OutlierOptions = {}) {
    this.config = config;
    this.hosts = hosts;
    this.clock = clock;
    this.maxEjectionTimeMs = options.maxEjectionTimeMs ?? Math.max(DEFAULT_MAX_EJECTION_TIME_MS, config.baseEjectionTimeMs);
    this.alwaysEjectOneHost = options.alwaysEjectOneHost ?? false;
    this.onChange = options.onChange;
  }

  /** Arm the interval timer (Envoy arms it when the detector is created). */
  start(): void {
    if (this.timer) return;
    this.arm();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** An HTTP response from the host (Envoy putHttpResponseCode). */
  onResponse(host: Host, status: number): void {
    const m = this.monitor(host);
    if (status >= 500 && status < 600) {
      if (status === 502 || status === 503 || status === 504) {
        m.consecutiveGatewayFailure++;
        if (m.consecutiveGatewayFailure === this.config.consecutiveGatewayErrors) {
          this.onConsecutiveError(host, m, "consecutive_gateway_failure");
        }
      } else {
        // Envoy: a non-gateway 5xx breaks a run of gateway failures.
        m.consecutiveGatewayFailure = 0;
      }
      m.consecutive5xx++;
      if (m.consecutive5xx === this.config.consecutive5xxErrors) this.onConsecutiveError(host, m, "consecutive_5xx");
    } else {
      m.consecutive5xx = 0;
      m.consecutiveGatewayFailure = 0;
    }
  }

  /** A successful exchange: resets the consecutive counters (a non-5xx response; with the split, also local origin). */
  success(host: Host): void {
    this.onResponse(host, 200);
    if (this.config.splitExternalLocalOriginErrors) this.monitor(host).consecutiveLocalOriginFailure = 0;
  }

  /**
   * A locally detected failure: connect failure, upstream reset, or per-try timeout. Without
   * splitExternalLocalOriginErrors Envoy maps them to 503 (connect/reset) and 504 (timeout);
   * with it they count only as consecutive local-origin failures.
   */
  onLocalOriginFailure(host: Host, kind: LocalOriginFailure): void {
    if (!this.config.splitExternalLocalOriginErrors) {
      this.onResponse(host, kind === "timeout" ? 504 : 503);
      return;
    }
    const m = this.monitor(host);
    m.consecutiveLocalOriginFailure++;
    if (m.consecutiveLocalOriginFailure === this.config.consecutiveLocalOriginFailures) {
      this.onConsecutiveError(host, m, "consecutive_local_origin_failure");
    }
  }

  /** The connection to the host was established (resets local-origin failures when split). */
  onLocalOriginSuccess(host: Host): void {
    if (this.config.splitExternalLocalOriginErrors) this.monitor(host).consecutiveLocalOriginFailure = 0;
  }

  /** Active health check passed: return an ejected host now (successful_active_health_check_uneject_host). */
  uneject(host: Host): void {
    if (host.outlierEjected && this.hosts.get(host.key) === host) this.unejectHost(host, this.monitor(host));
  }

  /** Monitor state for a host (created on first use). */
  state(host: Host): Readonly<HostOutlierState> {
    return this.monitor(host);
  }

  /** Milliseconds a host ejected now would stay out: min(base x multiplier, max). */
  ejectionTimeMs(host: Host): number {
    return Math.min(this.config.baseEjectionTimeMs * this.monitor(host).ejectTimeBackoff, this.maxEjectionTimeMs);
  }

  /** One interval sweep (Envoy onIntervalTimer); the timer calls it, tests may too. */
  sweep(): void {
    const now = this.clock.now();
    for (const host of this.hosts.hosts) {
      if (!host.outlierEjected) continue;
      const m = this.monitor(host);
      if (this.ejectionTimeMs(host) <= now - (m.lastEjectionTime ?? now)) this.unejectHost(host, m);
    }
    // Decay: a host unejected at least one interval ago and not ejected since loses one step.
    for (const host of this.hosts.hosts) {
      if (host.outlierEjected) continue;
      const m = this.monitors.get(host);
      if (m?.lastUnejectionTime !== undefined && now - m.lastUnejectionTime >= this.config.intervalMs && m.ejectTimeBackoff > 0) {
        m.ejectTimeBackoff--;
      }
    }
    this.stats.ejections_active = this.activeEjections();
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => {
      this.sweep();
      this.arm();
    }, this.config.intervalMs);
  }

  private monitor(host: Host): HostOutlierState {
    let m = this.monitors.get(host);
    if (!m) {
      m = { consecutive5xx: 0, consecutiveGatewayFailure: 0, consecutiveLocalOriginFailure: 0, numEjections: 0, ejectTimeBackoff: 0 };
      this.monitors.set(host, m);
    }
    return m;
  }

  private activeEjections(): number {
    let n = 0;
    for (const h of this.hosts.hosts) if (h.outlierEjected) n++;
    return n;
  }

  private onConsecutiveError(host: Host, m: HostOutlierState, type: EjectionType): void {
    // Hosts no longer in the cluster and hosts already ejected are ignored; the counter then
    // keeps growing past the threshold until a success or an uneject resets it (as Envoy).
    if (this.hosts.get(host.key) !== host || host.outlierEjected) return;
    this.stats[`ejections_detected_${type}`]++;
    this.ejectHost(host, m, type);
    // Reset the counter that fired so another run of errors is detected even without an
    // interleaved success (whether or not the ejection was allowed).
    if (type === "consecutive_5xx") m.consecutive5xx = 0;
    else if (type === "consecutive_gateway_failure") m.consecutiveGatewayFailure = 0;
    else m.consecutiveLocalOriginFailure = 0;
  }

  private ejectHost(host: Host, m: HostOutlierState, type: EjectionType): void {
    const total = this.hosts.hosts.length;
    const active = this.activeEjections();
    // Envoy ejectHost: the ejection must keep ejected hosts within max_ejection_percent,
    // counting the one being ejected: fewer than 10 hosts at the default 10 % ejects none,
    // unless always_eject_one_host allows a first one.
    const maxPercent = Math.min(100, this.config.maxEjectionPercent);
    let allowed = (100 * (active + 1)) / total <= maxPercent;
    if (this.alwaysEjectOneHost && active === 0) allowed = true;
    if (!allowed) {
      this.stats.ejections_overflow++;
      return;
    }
    // Istio sets enforcing_* to 100 for every configured (> 0) threshold: always enforced.
    this.stats.ejections_enforced_total++;
    this.stats[`ejections_enforced_${type}`]++;
    this.hosts.setOutlierEjected(host, true);
    m.numEjections++;
    m.lastEjectionTime = this.clock.now();
    const base = this.config.baseEjectionTimeMs;
    if (m.ejectTimeBackoff * base < this.maxEjectionTimeMs + base) m.ejectTimeBackoff++;
    this.stats.ejections_active = active + 1;
    this.onChange?.(host, true, type);
  }

  private unejectHost(host: Host, m: HostOutlierState): void {
    this.hosts.setOutlierEjected(host, false);
    // Reset every counter so a host close to another threshold is not re-ejected at once.
    m.consecutive5xx = 0;
    m.consecutiveGatewayFailure = 0;
    m.consecutiveLocalOriginFailure = 0;
    m.lastUnejectionTime = this.clock.now();
    this.stats.ejections_active = this.activeEjections();
    this.onChange?.(host, false);
  }
}
