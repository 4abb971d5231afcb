// Balancer contracts: the engine asks a cluster's Balancer for one Host per attempt. Interfaces
// live here, apart from the policies (one folder each, registered by name in index.ts), as
// Envoy keeps `envoy/upstream/load_balancer.h` apart from its load_balancing_policies.
//
// Pure: no node:* imports. Allocation-free on the common pick path.
import type { Random } from "../../../core/random.ts";
import type { Endpoint, LoadBalancerConfig } from "../../../model/proxy-config.ts";

/**
 * One upstream endpoint plus the proxy's own per-host state. The same Host object survives EDS
 * updates for as long as its `address:port` stays in the cluster, so counters, ejection state
 * and connection pools keyed by it carry over.
 */
export interface Host {
  /** `address:port`; identity within a HostSet. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** Latest endpoint data from EDS (labels, weight, workload, ...). */
  readonly endpoint: Endpoint;
  /** Effective LB weight, >= 1 (Envoy requires load_balancing_weight >= 1). */
  readonly weight: number;
  /** In-flight requests: the engine increments when an attempt starts, decrements when it ends. */
  activeRequests: number;
  /** Registry readiness (Endpoint.healthy). */
  readonly registryHealthy: boolean;
  /** Ejected by outlier detection (set through HostSet.setOutlierEjected). */
  readonly outlierEjected: boolean;
  /** Failed active health checking (set through HostSet.setHealthCheckFailed). */
  readonly healthCheckFailed: boolean;
  /** Position in HostSet.hosts; lets balancers keep per-host arrays without maps. */
  readonly index: number;
}

/**
 * The hosts of one cluster, as balancers see them. `version` changes whenever membership,
 * weights or any health flag change (not on activeRequests changes); balancers rebuild their
 * tables lazily on the next pick when it moved.
 */
export interface HostSetView {
  readonly version: number;
  /** All hosts, in EDS order. */
  readonly hosts: readonly Host[];
  /** Hosts usable for picking: the healthy ones, or all hosts in panic mode. Cached per version. */
  readonly pickable: readonly Host[];
  /** True when healthy hosts are below the panic threshold and `pickable` is every host. */
  readonly panic: boolean;
}

export interface PickContext {
  /**
   * 32-bit unsigned key hash for RING_HASH / MAGLEV (hash-key.ts). Absent: those policies pick
   * at random, as Envoy does when a request has no hash key.
   */
  hash?: number;
  /**
   * Hosts to avoid (retry previous-hosts predicate). Honoured whenever another pickable host
   * exists; when every pickable host is excluded the policy's normal choice is returned.
   */
  exclude?: (host: Host) => boolean;
  /** PASSTHROUGH: the connection's original destination; the balancer returns it as the host. */
  originalDestination?: { address: string; port: number };
}

export interface Balancer {
  /** One host for this attempt, or null when none is usable (the engine answers 503, flag UH). */
  pick(ctx?: PickContext): Host | null;
}

export interface BalancerDeps {
  random: Random;
  /** A balancer that keeps hosts of its own (original-dst) forgot this one: its pool can go. */
  onHostDropped?: (host: Host) => void;
}

/** A policy's constructor as registered in index.ts. */
export type BalancerFactory = (hostSet: HostSetView, config: LoadBalancerConfig, deps: BalancerDeps) => Balancer;

/** Healthy for load balancing: ready in the registry, not ejected, not failing health checks. */
export function isHostHealthy(h: Host): boolean {
  return h.registryHealthy && !h.outlierEjected && !h.healthCheckFailed;
}
