// DestinationRule spec (networking.istio.io). Istio field names exactly; see ../networking.ts.
import type { Duration, Percent, PortSelector, WorkloadSelector } from "./shared.ts";

export interface DestinationRuleSpec {
  host?: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  exportTo?: string[];
  workloadSelector?: WorkloadSelector;
}

export interface TrafficPolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
  portLevelSettings?: PortTrafficPolicy[];
  tunnel?: TunnelSettings;
  proxyProtocol?: ProxyProtocol;
  retryBudget?: RetryBudget;
}

export interface PortTrafficPolicy {
  port?: PortSelector;
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
}

export interface TunnelSettings {
  /** CONNECT (default) or POST. */
  protocol?: string;
  targetHost?: string;
  targetPort?: number;
}

export interface ProxyProtocol {
  version?: "V1" | "V2";
}

export interface RetryBudget {
  /** Default 20. */
  percent?: number;
  /** Default 3. */
  minRetryConcurrency?: number;
}

export interface Subset {
  name?: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export type SimpleLB = "UNSPECIFIED" | "LEAST_CONN" | "RANDOM" | "PASSTHROUGH" | "ROUND_ROBIN" | "LEAST_REQUEST";

export interface HTTPCookie {
  name?: string;
  path?: string;
  ttl?: Duration;
  attributes?: { name?: string; value?: string }[];
}

export interface RingHash {
  /** Default 1024. */
  minimumRingSize?: number;
}

export interface MagLev {
  /** Prime, below 5000011; default 65537. */
  tableSize?: number;
}

export interface ConsistentHashLB {
  httpHeaderName?: string;
  httpCookie?: HTTPCookie;
  useSourceIp?: boolean;
  httpQueryParameterName?: string;
  ringHash?: RingHash;
  maglev?: MagLev;
  /** @deprecated use ringHash.minimumRingSize */
  minimumRingSize?: number;
}

export interface LocalityDistribute {
  from?: string;
  to?: Record<string, number>;
}

export interface LocalityFailover {
  from?: string;
  to?: string;
}

export interface LocalityLoadBalancerSetting {
  distribute?: LocalityDistribute[];
  failover?: LocalityFailover[];
  failoverPriority?: string[];
  enabled?: boolean;
}

export interface ZoneAwareLbSetting {
  enabled?: boolean;
  failover?: LocalityFailover[];
  failoverPriority?: string[];
  /** Default 6. */
  minClusterSize?: number;
}

export interface WarmupConfiguration {
  duration?: Duration;
  /** Percent{value}; 0..100, default 10. */
  minimumPercent?: number | Percent;
  /** >0, default 1.0. */
  aggression?: number | { value?: number };
}

export interface LoadBalancerSettings {
  simple?: SimpleLB;
  consistentHash?: ConsistentHashLB;
  localityLbSetting?: LocalityLoadBalancerSetting;
  zoneAwareLbSetting?: ZoneAwareLbSetting;
  /** @deprecated use warmup */
  warmupDurationSecs?: Duration;
  warmup?: WarmupConfiguration;
}

export interface TcpKeepalive {
  probes?: number;
  time?: Duration;
  interval?: Duration;
}

export interface TCPSettings {
  maxConnections?: number;
  connectTimeout?: Duration;
  tcpKeepalive?: TcpKeepalive;
  maxConnectionDuration?: Duration;
  idleTimeout?: Duration;
}

export type H2UpgradePolicy = "DEFAULT" | "DO_NOT_UPGRADE" | "UPGRADE";

export interface HTTP2KeepAlive {
  interval?: Duration;
  timeout?: Duration;
}

export interface HTTPSettings {
  http1MaxPendingRequests?: number;
  http2MaxRequests?: number;
  maxRequestsPerConnection?: number;
  maxRetries?: number;
  idleTimeout?: Duration;
  h2UpgradePolicy?: H2UpgradePolicy;
  useClientProtocol?: boolean;
  maxConcurrentStreams?: number;
  http2KeepAlive?: HTTP2KeepAlive;
}

export interface ConnectionPoolSettings {
  tcp?: TCPSettings;
  http?: HTTPSettings;
}

export interface OutlierDetection {
  /** @deprecated use consecutive5xxErrors */
  consecutiveErrors?: number;
  splitExternalLocalOriginErrors?: boolean;
  consecutiveLocalOriginFailures?: number;
  consecutiveGatewayErrors?: number;
  consecutive5xxErrors?: number;
  interval?: Duration;
  baseEjectionTime?: Duration;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
}

export type ClientTLSMode = "DISABLE" | "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL";

export interface ClientTLSSettings {
  mode?: ClientTLSMode;
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  credentialName?: string;
  subjectAltNames?: string[];
  sni?: string;
  insecureSkipVerify?: boolean;
  caCrl?: string;
}
