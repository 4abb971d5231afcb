// HostSet: the hosts of one cluster with the proxy's per-host state, rebuilt on EDS updates
// (keeping state for hosts that stay) and the healthy/panic view balancers pick from.
import type { Cluster, Endpoint } from "../../../model/proxy-config.ts";
import { isHostHealthy, type Host, type HostSetView } from "./balancer.ts";

/** Envoy's default healthy_panic_threshold (common_lb_config). */
export const DEFAULT_PANIC_THRESHOLD_PERCENT = 50;

/**
 * The panic threshold Istio configures for a cluster: with an outlierDetection block Istio maps
 * `minHealthPercent` to Envoy's healthy_panic_threshold (default 0 = panic mode disabled);
 * without one Envoy's default 50 % stays.
 */
export function panicThresholdFor(cluster: Pick<Cluster, "outlierDetection">): number {
  return cluster.outlierDetection ? cluster.outlierDetection.minHealthPercent : DEFAULT_PANIC_THRESHOLD_PERCENT;
}

class MutableHost implements Host {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  endpoint: Endpoint;
  weight: number;
  activeRequests = 0;
  registryHealthy: boolean;
  outlierEjected = false;
  healthCheckFailed = false;
  index: number;

  constructor(ep: Endpoint, index: number) {
    this.key = hostKey(ep.address, ep.port);
    this.address = ep.address;
    this.port = ep.port;
    this.endpoint = ep;
    this.weight = effectiveWeight(ep.weight);
    this.registryHealthy = ep.healthy;
    this.index = index;
  }
}

export function hostKey(address: string, port: number): string {
  // IPv6 literals are bracketed so the key is unambiguous.
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

function effectiveWeight(w: number): number {
  return Number.isFinite(w) && w >= 1 ? Math.floor(w) : 1;
}

/** A standalone Host (PASSTHROUGH destinations, tests). */
export function makeHost(ep: Endpoint, index = 0): Host {
  return new MutableHost(ep, index);
}

export class HostSet implements HostSetView {
  private list: MutableHost[] = [];
  private byKey = new Map<string, MutableHost>();
  private ver = 0;
  private cachedVersion = -1;
  private cachedPickable: readonly Host[] = [];
  private cachedPanic = false;
  private threshold: number;

  constructor(endpoints: readonly Endpoint[] = [], panicThresholdPercent = DEFAULT_PANIC_THRESHOLD_PERCENT) {
    this.threshold = panicThresholdPercent;
    this.update(endpoints);
  }

  get version(): number {
    return this.ver;
  }

  get hosts(): readonly Host[] {
    return this.list;
  }

  get pickable(): readonly Host[] {
    this.refresh();
    return this.cachedPickable;
  }

  get panic(): boolean {
    this.refresh();
    return this.cachedPanic;
  }

  get panicThresholdPercent(): number {
    return this.threshold;
  }

  set panicThresholdPercent(p: number) {
    this.threshold = p;
    this.ver++;
  }

  get(key: string): Host | undefined {
    return this.byKey.get(key);
  }

  /**
   * Replace membership from an EDS update. Hosts whose address:port stays keep their
   * activeRequests, ejection and health-check state; their endpoint data and weight update.
   * Duplicate address:port entries collapse to the first.
   */
  update(endpoints: readonly Endpoint[]): void {
    const next: MutableHost[] = [];
    const nextByKey = new Map<string, MutableHost>();
    for (const ep of endpoints) {
      const key = hostKey(ep.address, ep.port);
      if (nextByKey.has(key)) continue;
      let h = this.byKey.get(key);
      if (h) {
        h.endpoint = ep;
        h.weight = effectiveWeight(ep.weight);
        h.registryHealthy = ep.healthy;
        h.index = next.length;
      } else {
        h = new MutableHost(ep, next.length);
      }
      next.push(h);
      nextByKey.set(key, h);
    }
    this.list = next;
    this.byKey = nextByKey;
    this.ver++;
  }

  setOutlierEjected(host: Host, ejected: boolean): void {
    const h = this.own(host);
    if (h && h.outlierEjected !== ejected) {
      h.outlierEjected = ejected;
      this.ver++;
    }
  }

  setHealthCheckFailed(host: Host, failed: boolean): void {
    const h = this.own(host);
    if (h && h.healthCheckFailed !== failed) {
      h.healthCheckFailed = failed;
      this.ver++;
    }
  }

  /** Number of hosts that are healthy (registry, outlier and health checks). */
  healthyCount(): number {
    let n = 0;
    for (const h of this.list) if (isHostHealthy(h)) n++;
    return n;
  }

  private own(host: Host): MutableHost | undefined {
    const h = this.byKey.get(host.key);
    return h === host ? h : undefined;
  }

  private refresh(): void {
    if (this.cachedVersion === this.ver) return;
    const healthy = this.list.filter(isHostHealthy);
    // Envoy (LoadBalancerBase::isHostSetInPanic): panic when healthy% < threshold, counting
    // hosts not weights; threshold 0 disables panic mode.
    const healthyPercent = this.list.length === 0 ? 0 : (100 * healthy.length) / this.list.length;
    this.cachedPanic = healthyPercent < this.threshold;
    this.cachedPickable = this.cachedPanic ? this.list : healthy;
    this.cachedVersion = this.ver;
  }
}
