// ClusterManager: the proxy's clusters at one config version — for each cluster its HostSet,
// Balancer, per-endpoint connection pools, retry counter and stats. A new config builds a new
// manager that adopts the state of clusters that stay (same name): hosts keep their counters and
// pools, so a push never drops warm connections — unless the cluster's transport (TLS, protocol)
// changed: then every pool drains (idle connections close at once, busy ones after their exchange)
// and new requests get new connections. Requests in flight keep the manager they started with; a
// cluster that left the config drains its pools.
//
// A cluster's state is made on its first use (issue 15): a sidecar of a 1,000-service mesh has
// 3,000 clusters and calls a few, and the state of each cost ≈ 1.5 KB of heap (4.8 MB in all). Until
// then the admin and metrics views show it at rest — zero counters, its endpoints as hosts — as
// Envoy shows a cluster that had no traffic. Clusters with active health checks are made at once
// (Envoy checks every cluster's hosts from the start).
import type { Clock } from "../../core/clock.ts";
import type { Random } from "../../core/random.ts";
import { endpointTls, type Cluster, type Endpoint, type LoadBalancerConfig, type OutlierDetectionConfig, type ProxyConfig, type UpstreamTlsConfig } from "../../model/proxy-config.ts";
import type { Balancer, Host } from "./balance/balancer.ts";
import { createBalancer } from "./balance/index.ts";
import { HostSet, panicThresholdFor } from "./balance/host-set.ts";
import { ClusterStats } from "./cluster-stats.ts";
import { EndpointPool } from "./endpoint-pool.ts";
import { netDialer, type Dialer } from "./dialer.ts";
import type { MeshCredentials } from "../identity/mesh-credentials.ts";
import type { UpstreamTlsContexts } from "../tls/upstream-contexts.ts";
import { RetryCounter } from "./retry-counter.ts";
import { OutlierDetector } from "./outlier.ts";
import { HealthChecker } from "./health-check/health-checker.ts";
import { sameTransport } from "./transport.ts";

export class ClusterState {
  readonly name: string;
  config: Cluster;
  readonly hostSet: HostSet;
  balancer: Balancer;
  readonly stats = new ClusterStats();
  readonly retryCounter: RetryCounter;
  private readonly pools = new Map<string, EndpointPool>();
  private removed = false;
  outlier: OutlierDetector | null = null;
  healthChecker: HealthChecker | null = null;
  /** Also the pools' clock (connect, idle and max-duration timeouts). */
  readonly clock: Clock;
  /** Opens upstream sockets (pools, TCP proxying), with the sidecar's mesh certificate for ISTIO_MUTUAL. */
  readonly dial: Dialer;
  /** The sidecar's workload certificate (ISTIO_MUTUAL origination); absent in tests without one. */
  readonly mesh: MeshCredentials | undefined;
  /** SIMPLE / MUTUAL origination: the watched files and secrets (shared by the proxy's clusters). */
  readonly tlsContexts: UpstreamTlsContexts | undefined;
  /** Pools kept outside this class (HTTP/2 sessions) close through these when the pools drain. */
  private readonly drainHooks: (() => void)[] = [];

  constructor(config: Cluster, endpoints: readonly Endpoint[], random: Random, clock: Clock, dial: Dialer = netDialer, mesh?: MeshCredentials, tlsContexts?: UpstreamTlsContexts) {
    this.name = config.name;
    this.config = config;
    this.clock = clock;
    this.mesh = mesh;
    this.tlsContexts = tlsContexts;
    this.dial = mesh === undefined && tlsContexts === undefined ? dial : (o, tls, target) => dial(o, tls, target, mesh, tlsContexts);
    this.hostSet = new HostSet(endpoints, panicThresholdFor(config));
    this.balancer = createBalancer(lbOf(config), this.hostSet, { random, onHostDropped: (h) => this.dropPool(h) });
    this.retryCounter = new RetryCounter(config.connectionPool.maxRetries);
    this.startOutlier();
    this.startHealthChecks();
  }

  private startHealthChecks(): void {
    this.healthChecker?.stop();
    this.healthChecker = null;
    const hc = this.config.healthCheck;
    if (hc === undefined || this.config.discovery !== "eds") return;
    const svc = this.config.service;
    this.healthChecker = new HealthChecker(hc, this.hostSet, this.clock, {
      // Envoy sends the cluster name; an Istio cluster name is no host name, so the service's is used.
      ...(svc !== undefined ? { authority: `${svc.host}:${svc.port}` } : {}),
      onSuccess: (host) => this.outlier?.uneject(host),
    });
    this.healthChecker.start();
  }

  private startOutlier(): void {
    this.outlier?.stop();
    this.outlier = null;
    const od = outlierDetectionOf(this.config);
    if (od !== undefined) {
      this.outlier = new OutlierDetector(od, this.hostSet, this.clock);
      this.outlier.start();
    }
  }

  update(config: Cluster, endpoints: readonly Endpoint[], random: Random): void {
    const lbChanged = JSON.stringify(config.lb) !== JSON.stringify(this.config.lb);
    const odChanged = JSON.stringify(config.outlierDetection) !== JSON.stringify(this.config.outlierDetection);
    const hcChanged = JSON.stringify(config.healthCheck) !== JSON.stringify(this.config.healthCheck);
    const transportChanged = !sameTransport(this.config, config);
    this.config = config;
    this.hostSet.panicThresholdPercent = panicThresholdFor(config);
    this.hostSet.update(endpoints);
    if (lbChanged) {
      this.balancer = createBalancer(lbOf(config), this.hostSet, { random, onHostDropped: (h) => this.dropPool(h) });
      // PASSTHROUGH hosts live in the balancer: its successor starts without them.
      if (this.passthrough) this.drainPools();
    }
    this.retryCounter.setMaxRetries(config.connectionPool.maxRetries);
    if (odChanged) this.startOutlier();
    if (hcChanged) this.startHealthChecks();
    else this.healthChecker?.syncHosts();
    if (transportChanged) {
      this.drainPools();
      return;
    }
    // Pools of hosts that left the cluster: close idle connections, let busy ones finish.
    for (const [key, pool] of this.pools) {
      if (this.hostSet.get(key) === undefined && !this.passthrough) {
        pool.drain();
        this.pools.delete(key);
      }
    }
  }

  /** The pool of one host (created on first use; replaced when the host's TLS changed, e.g. it gained a sidecar). */
  pool(host: Host): EndpointPool {
    let p = this.pools.get(host.key);
    const originatesTls = this.tlsFor(host) !== undefined;
    if (p !== undefined && p.originatesTls !== originatesTls) {
      p.drain();
      p = undefined;
    }
    if (p === undefined) {
      p = new EndpointPool(host, this, originatesTls);
      this.pools.set(host.key, p);
    }
    return p;
  }

  /** The TLS a connection to this host originates (auto mTLS: only toward tlsMode=istio endpoints). */
  tlsFor(host: Host): UpstreamTlsConfig | undefined {
    return endpointTls(this.config, host.endpoint);
  }

  /** Limits read by pools (live: a config update applies to existing pools). */
  get poolConfig(): Cluster["connectionPool"] {
    return this.config.connectionPool;
  }

  /**
   * PASSTHROUGH (Envoy ORIGINAL_DST): the upstream is the request's or connection's original
   * destination, which the balancer (original-dst policy) turns into a host (host-choice.ts).
   */
  get passthrough(): boolean {
    return this.config.discovery === "original_dst" || this.config.lb.policy === "PASSTHROUGH";
  }

  /** The original-dst balancer forgot a host: close its pool's idle connections, let busy ones finish. */
  private dropPool(host: Host): void {
    const p = this.pools.get(host.key);
    if (p === undefined) return;
    p.drain();
    this.pools.delete(host.key);
  }

  /**
   * `hook` runs whenever this cluster's pools drain (transport change, removal): a pool of
   * connections kept elsewhere closes its idle ones and takes no new requests on the old ones.
   */
  onDrain(hook: () => void): void {
    this.drainHooks.push(hook);
  }

  /** Close idle connections now, busy ones after their exchange; later requests open new ones. */
  private drainPools(): void {
    for (const p of this.pools.values()) p.drain();
    this.pools.clear();
    for (const h of this.drainHooks) h();
  }

  /** Connections open to a host (admin). */
  poolFor(host: Host): EndpointPool | undefined {
    return this.pools.get(host.key);
  }

  get isRemoved(): boolean {
    return this.removed;
  }

  /** The cluster left the config: close what can be closed now. */
  remove(): void {
    this.removed = true;
    this.outlier?.stop();
    this.healthChecker?.stop();
    this.drainPools();
  }
}

/** The cluster's outlier detection, when one of its triggers is on. */
function outlierDetectionOf(config: Cluster): OutlierDetectionConfig | undefined {
  const od = config.outlierDetection;
  return od !== undefined && (od.consecutive5xxErrors > 0 || od.consecutiveGatewayErrors > 0 || od.consecutiveLocalOriginFailures > 0) ? od : undefined;
}

/** An original_dst cluster balances with the original-dst policy whatever its lb says (Envoy: CLUSTER_PROVIDED). */
function lbOf(config: Cluster): LoadBalancerConfig {
  return config.discovery === "original_dst" && config.lb.policy !== "PASSTHROUGH" ? { policy: "PASSTHROUGH" } : config.lb;
}

/** What the admin and metrics views read of a cluster: its state, or the same fields of a cluster at rest. */
export interface ClusterView {
  readonly name: string;
  readonly config: Cluster;
  readonly stats: Readonly<ClusterStats>;
  readonly hostSet: Pick<HostSet, "hosts" | "panic" | "healthyCount">;
  readonly outlier: Pick<OutlierDetector, "stats" | "state"> | null;
  readonly healthChecker: HealthChecker | null;
  poolFor(host: Host): EndpointPool | undefined;
}

/** The counters of every cluster no request has used (never written). */
const RESTING_STATS: Readonly<ClusterStats> = Object.freeze(new ClusterStats());

/** A cluster no request has used: zero counters, its endpoints as hosts, no connections. Made per view, kept by nobody. */
function restingView(config: Cluster, endpoints: readonly Endpoint[], clock: Clock): ClusterView {
  const hostSet = new HostSet(endpoints, panicThresholdFor(config));
  const od = outlierDetectionOf(config);
  return { name: config.name, config, stats: RESTING_STATS, hostSet, outlier: od === undefined ? null : new OutlierDetector(od, hostSet, clock), healthChecker: null, poolFor: () => undefined };
}

export class ClusterManager {
  readonly dial: Dialer;
  readonly mesh: MeshCredentials | undefined;
  readonly tlsContexts: UpstreamTlsContexts | undefined;
  /** The config's clusters by name, in its order. */
  private readonly configs = new Map<string, Cluster>();
  private readonly endpoints: ProxyConfig["endpoints"];
  /** The clusters with state: those requests have used, and those with active health checks. */
  private readonly states = new Map<string, ClusterState>();
  private readonly random: Random;
  private readonly clock: Clock;
  /** The manager of the config that replaced this one: requests still in flight here share its state. */
  private next: ClusterManager | null = null;

  /**
   * The clusters of `config`, adopting the state of same-named clusters from `previous`.
   * `dial` opens upstream sockets (tests pass fakes); new clusters take the previous manager's, as
   * they take its mesh credentials.
   */
  constructor(
    config: ProxyConfig,
    random: Random,
    clock: Clock,
    previous?: ClusterManager,
    dial: Dialer = previous?.dial ?? netDialer,
    mesh: MeshCredentials | undefined = previous?.mesh,
    tlsContexts: UpstreamTlsContexts | undefined = previous?.tlsContexts,
  ) {
    this.dial = dial;
    this.mesh = mesh;
    this.tlsContexts = tlsContexts;
    this.endpoints = config.endpoints;
    this.random = random;
    this.clock = clock;
    for (const c of config.clusters) {
      this.configs.set(c.name, c);
      const old = previous?.states.get(c.name);
      if (old !== undefined) {
        old.update(c, this.endpointsOf(c.name), random);
        this.states.set(c.name, old);
      } else if (c.healthCheck !== undefined && c.discovery === "eds") {
        this.create(c);
      }
    }
    if (previous !== undefined) {
      for (const [name, state] of previous.states) if (!this.configs.has(name)) state.remove();
      previous.next = this;
    }
    // Files and secrets no cluster names any more are no longer watched.
    tlsContexts?.retain(config.clusters.map((c) => c.tls));
  }

  /** The cluster's state (made on first use); undefined for a cluster the config does not have. */
  get(name: string): ClusterState | undefined {
    return this.states.get(name) ?? this.firstUse(name);
  }

  /** Every cluster of the config, in its order: the state of those with one, the others at rest (admin, metrics). */
  *views(): Iterable<ClusterView> {
    for (const [name, c] of this.configs) yield this.states.get(name) ?? restingView(c, this.endpointsOf(name), this.clock);
  }

  /** How many clusters have state (tests, admin). */
  get withState(): number {
    return this.states.size;
  }

  /** Close every pool (proxy shutdown). */
  close(): void {
    for (const c of this.states.values()) c.remove();
    this.tlsContexts?.close();
  }

  private firstUse(name: string): ClusterState | undefined {
    const c = this.configs.get(name);
    if (c === undefined) return undefined;
    if (this.next === null) return this.create(c);
    // A request that started before a push: the cluster's state is the newest config's, as if it had
    // been made before the push and adopted; a cluster the push removed is made removed.
    const newer = this.next.get(name);
    if (newer !== undefined) {
      this.states.set(name, newer);
      return newer;
    }
    const removed = this.create(c);
    removed.remove();
    return removed;
  }

  private create(c: Cluster): ClusterState {
    const state = new ClusterState(c, this.endpointsOf(c.name), this.random, this.clock, this.dial, this.mesh, this.tlsContexts);
    this.states.set(c.name, state);
    return state;
  }

  private endpointsOf(name: string): readonly Endpoint[] {
    return this.endpoints[name] ?? NO_ENDPOINTS;
  }
}

const NO_ENDPOINTS: readonly Endpoint[] = [];
