// Clusters (CDS): the upstream side of a route — load balancing, connection pool limits, outlier
// detection, health checks, TLS origination — keyed as Istio does. Pure data, and Istio's defaults.

export type LbPolicy = "ROUND_ROBIN" | "RANDOM" | "LEAST_REQUEST" | "PASSTHROUGH" | "RING_HASH" | "MAGLEV";

export type HashKey =
  | { header: string }
  | { cookie: { name: string; path?: string; ttlMs?: number } }
  | { sourceIp: true }
  | { queryParameter: string };

export interface LoadBalancerConfig {
  policy: LbPolicy;
  /** For RING_HASH and MAGLEV. */
  hashKey?: HashKey;
  /** RING_HASH; Istio default 1024. */
  minimumRingSize?: number;
  /** MAGLEV; Istio/Envoy default 65537 (prime). */
  tableSize?: number;
}

export interface ConnectionPoolConfig {
  /** Defaults: effectively unlimited (2^32-1), as Istio. */
  maxConnections: number;
  connectTimeoutMs: number;
  maxPendingRequests: number;
  maxRequests: number;
  /** 0 = unlimited; 1 = no keep-alive. */
  maxRequestsPerConnection: number;
  maxRetries: number;
  /** 0 = none. */
  idleTimeoutMs: number;
  maxConnectionDurationMs: number;
  tcpKeepalive?: { probes?: number; timeMs?: number; intervalMs?: number };
}

export interface OutlierDetectionConfig {
  consecutive5xxErrors: number;
  consecutiveGatewayErrors: number;
  consecutiveLocalOriginFailures: number;
  splitExternalLocalOriginErrors: boolean;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  minHealthPercent: number;
}

export interface HealthCheckConfig {
  kind: "http" | "tcp";
  path?: string;
  /** Expected status ranges, inclusive; default [[200, 299]]. */
  expectedStatuses?: [number, number][];
  intervalMs: number;
  timeoutMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
}

export interface UpstreamTlsConfig {
  mode: "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL";
  sni?: string;
  /** Files (watched: the next connection uses a changed file). */
  caCertificates?: string;
  clientCertificate?: string;
  privateKey?: string;
  /** Instead of the files: a secret in the proxy's secret store (client certificate for MUTUAL, CA). docs/security.md */
  credentialName?: string;
  /** CRL file (PEM): a server certificate it lists fails the handshake. */
  caCrl?: string;
  subjectAltNames: string[];
  insecureSkipVerify: boolean;
}

export interface ServiceRef {
  /** FQDN, e.g. `reviews.default.svc.cluster.local`. */
  host: string;
  name: string;
  namespace: string;
  port: number;
}

export interface Cluster {
  /** Istio key: `outbound|9080|v2|reviews.default.svc.cluster.local`, `inbound|9080||`. */
  name: string;
  direction: "outbound" | "inbound";
  /** eds: endpoints from ProxyConfig.endpoints; original_dst: PASSTHROUGH to the requested address. */
  discovery: "eds" | "original_dst";
  service?: ServiceRef;
  subset?: string;
  /**
   * Upstream wire protocol for HTTP requests: http2 for http2/grpc ports and DestinationRule
   * `h2UpgradePolicy: UPGRADE` (HTTP/1.1 clients then reach the upstream over HTTP/2 too).
   */
  protocol: "http1" | "http2" | "tcp";
  /**
   * DestinationRule `connectionPool.http.useClientProtocol`: HTTP requests go upstream in the
   * protocol the client spoke (HTTP/1.1 or HTTP/2), whatever `protocol` says; gRPC stays HTTP/2.
   */
  useClientProtocol?: boolean;
  lb: LoadBalancerConfig;
  connectionPool: ConnectionPoolConfig;
  outlierDetection?: OutlierDetectionConfig;
  healthCheck?: HealthCheckConfig;
  tls?: UpstreamTlsConfig;
  /**
   * `tls` comes from auto mTLS (no DestinationRule tls): it applies only to endpoints labelled
   * `security.istio.io/tlsMode: istio` (Envoy's transport socket match, as Istio generates it);
   * the others get plaintext. docs/security.md
   */
  autoMtls?: boolean;
}

/** Istio's cluster key. */
export function clusterKey(direction: "outbound" | "inbound", port: number, subset: string, host: string): string {
  return `${direction}|${port}|${subset}|${host}`;
}

/** 2^32-1: Istio's "unlimited" for connection pool limits. */
export const UNLIMITED = 4294967295;

/** Istio defaults when a DestinationRule sets no connectionPool (istio/api ConnectionPoolSettings; docs/resilience.md). */
export const DEFAULT_CONNECTION_POOL: Readonly<ConnectionPoolConfig> = {
  maxConnections: UNLIMITED,
  connectTimeoutMs: 10_000,
  maxPendingRequests: UNLIMITED,
  maxRequests: UNLIMITED,
  maxRequestsPerConnection: 0,
  maxRetries: UNLIMITED,
  idleTimeoutMs: 3_600_000,
  maxConnectionDurationMs: 0,
};
