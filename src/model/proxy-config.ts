// ProxyConfig: everything one sidecar (or gateway) needs, as the control plane's translation
// produces it and as `amime proxy --config FILE` reads it. Pure data, JSON-serializable, Envoy's
// vocabulary: listener → route configuration → virtual host → route → cluster → endpoint.
// The parts live in proxy-config/ by resource kind (listeners, routes and what they match on,
// clusters, endpoints, telemetry); this file is their index, so importers name one module.
//
// Durations are milliseconds (numbers). Percentages are 0..100 (doubles). Absent optional
// fields mean "Istio/Envoy default", already resolved by translation where it matters.
export type { AuthzRule, ExtAuthzConfig, ExtAuthzProvider, JwtAuthnConfig, JwtProvider, RbacConfig, RbacPolicy } from "./security-filters.ts";
export type { ListenerDirection, Listener, HttpFilterConfig, SniRoute, ForwardClientCertDetails, ListenerXfcc, DownstreamTlsConfig, DownstreamTlsServer } from "./proxy-config/listeners.ts";
export { DEFAULT_RETRY_POLICY, type RouteConfiguration, type VirtualHost, type RouteOrigin, type Route, type RouteAction, type ForwardAction, type WeightedCluster, type RetryPolicy, type FaultPolicy, type MirrorPolicy, type RewritePolicy, type RedirectAction, type DirectResponseAction, type HeaderEdits, type HeaderOperations, type CorsPolicy } from "./proxy-config/routes.ts";
export type { StringMatch, HeaderMatcher, QueryParamMatcher, RouteMatch } from "./route-match.ts";
export { clusterKey, UNLIMITED, DEFAULT_CONNECTION_POOL, type LbPolicy, type HashKey, type LoadBalancerConfig, type ConnectionPoolConfig, type OutlierDetectionConfig, type HealthCheckConfig, type UpstreamTlsConfig, type ServiceRef, type Cluster } from "./proxy-config/clusters.ts";
export { TLS_MODE_LABEL, endpointTls, type Endpoint } from "./proxy-config/endpoints.ts";
export type { TelemetryMode, TelemetryConfig, CollectorTlsConfig, MetricsExportConfig, IstioMetricName, MetricOverride, AccessLogConfig, TracingConfig, CustomTagConfig } from "./proxy-config/telemetry.ts";
import type { Cluster } from "./proxy-config/clusters.ts";
import type { Endpoint } from "./proxy-config/endpoints.ts";
import type { Listener } from "./proxy-config/listeners.ts";
import type { RouteConfiguration } from "./proxy-config/routes.ts";
import type { TelemetryConfig } from "./proxy-config/telemetry.ts";

export interface ProxyConfig {
  /** Monotonic config version from the control plane ("static" for hand-written files). */
  version: string;
  node: NodeInfo;
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  /** Endpoints per cluster name (EDS). A cluster with no entry has no endpoints. */
  endpoints: Record<string, Endpoint[]>;
  /** Metrics listener, access log and tracing (absent: no telemetry at all). docs/observability.md */
  telemetry?: TelemetryConfig;
  /**
   * The mesh CA's deny list (absent: empty). The sidecar renews its own certificate when its
   * serial is listed; inbound mutual TLS refuses a client certificate whose serial or identity is
   * listed at the handshake, and closes open connections such a certificate authenticated when a
   * new list arrives. docs/security.md
   */
  revocations?: { serials: string[]; identities: string[] };
  /**
   * The mesh roots (PEM) this proxy trusts for mutual TLS and the control plane, as istiod's
   * ROOTCA: pushed so that a root rotation reaches every proxy (docs/security.md).
   */
  trustBundle?: string[];
  /** SHA-256 fingerprint of the root the CA signs under now: a certificate chaining elsewhere is renewed at once. */
  signingRoot?: string;
  /**
   * Envoy's overload manager knobs (Istio: MeshConfig defaultConfig.runtimeValues). docs/resilience.md
   * globalDownstreamMaxConnections: open downstream connections across all listeners, beyond which
   * new ones are closed at accept (`overload.global_downstream_max_connections`); absent = no limit.
   */
  overload?: { globalDownstreamMaxConnections?: number };
}

/** Who this proxy is: used for sourceLabels matching, metrics labels and identity. */
export interface NodeInfo {
  /** e.g. `sidecar~productpage-v1-0.default` */
  id: string;
  kind: "sidecar" | "gateway";
  workload: string;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** SPIFFE trust domain, default `cluster.local`. */
  trustDomain: string;
  /** The address peers use to reach this instance (loopback in the local mesh). */
  ip: string;
}
