// DestinationRule traffic policy → cluster settings. The effective policy for (subset, port)
// follows Istio's MergeTrafficPolicy: port-level settings replace loadBalancer, connectionPool,
// outlierDetection and tls wholesale (unset fields fall back to defaults, not to the top level);
// a subset's policy overrides the top level field by field, then its own port-level settings apply.
import type {
  ClientTLSSettings, ConnectionPoolSettings, DestinationRuleSpec, LoadBalancerSettings, OutlierDetection, TrafficPolicy,
} from "../../model/specs/networking.ts";
import {
  DEFAULT_CONNECTION_POOL, type ConnectionPoolConfig, type HashKey, type LoadBalancerConfig, type OutlierDetectionConfig,
  type UpstreamTlsConfig,
} from "../../model/proxy-config.ts";
import {
  DEFAULT_BASE_EJECTION_TIME_MS, DEFAULT_CONSECUTIVE_5XX_ERRORS, DEFAULT_CONSECUTIVE_GATEWAY_ERRORS, DEFAULT_CONSECUTIVE_LOCAL_ORIGIN_FAILURES,
  DEFAULT_MAGLEV_TABLE_SIZE, DEFAULT_MAX_EJECTION_PERCENT, DEFAULT_MIN_HEALTH_PERCENT, DEFAULT_OUTLIER_INTERVAL_MS,
  DEFAULT_RING_HASH_MINIMUM_RING_SIZE, effectiveLbPolicy,
} from "../../config/defaults.ts";
import { arr, durationMs, num, obj, str } from "./common.ts";

export interface EffectivePolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
}

function portLevel(policy: TrafficPolicy | undefined, port: number): EffectivePolicy | undefined {
  for (const p of arr(policy?.portLevelSettings)) {
    if (obj(p) && num(obj(p.port)?.number) === port) {
      return { loadBalancer: obj(p.loadBalancer), connectionPool: obj(p.connectionPool), outlierDetection: obj(p.outlierDetection), tls: obj(p.tls) };
    }
  }
  return undefined;
}

function topLevel(policy: TrafficPolicy | undefined, port: number): EffectivePolicy {
  const p = obj(policy);
  return portLevel(p, port) ?? {
    loadBalancer: obj(p?.loadBalancer), connectionPool: obj(p?.connectionPool), outlierDetection: obj(p?.outlierDetection), tls: obj(p?.tls),
  };
}

/** The traffic policy in force for one cluster (`subset` "" = the service's default cluster). */
export function effectivePolicy(dr: DestinationRuleSpec | undefined, subset: string, port: number): EffectivePolicy {
  const base = topLevel(dr?.trafficPolicy, port);
  if (!subset) return base;
  const s = arr(dr?.subsets).find((x) => obj(x) && x.name === subset);
  const sp = obj(s?.trafficPolicy);
  if (!sp) return base;
  const merged: EffectivePolicy = {
    loadBalancer: obj(sp.loadBalancer) ?? base.loadBalancer,
    connectionPool: obj(sp.connectionPool) ?? base.connectionPool,
    outlierDetection: obj(sp.outlierDetection) ?? base.outlierDetection,
    tls: obj(sp.tls) ?? base.tls,
  };
  return portLevel(sp, port) ?? merged;
}

/** LEAST_REQUEST when unspecified (Istio's default), LEAST_CONN → LEAST_REQUEST, consistent hash → RING_HASH or MAGLEV. */
export function loadBalancerConfig(lb: LoadBalancerSettings | undefined): LoadBalancerConfig {
  const ch = obj(lb?.consistentHash);
  if (ch) {
    const hashKey = hashKeyOf(ch);
    const maglev = obj(ch.maglev);
    if (maglev) return { policy: "MAGLEV", ...(hashKey ? { hashKey } : {}), tableSize: num(maglev.tableSize) || DEFAULT_MAGLEV_TABLE_SIZE };
    const ring = num(obj(ch.ringHash)?.minimumRingSize) || num(ch.minimumRingSize) || DEFAULT_RING_HASH_MINIMUM_RING_SIZE;
    return { policy: "RING_HASH", ...(hashKey ? { hashKey } : {}), minimumRingSize: ring };
  }
  const simple = effectiveLbPolicy(typeof lb?.simple === "string" ? lb.simple : undefined);
  return { policy: simple === "ROUND_ROBIN" || simple === "RANDOM" || simple === "PASSTHROUGH" ? simple : "LEAST_REQUEST" };
}

function hashKeyOf(ch: NonNullable<LoadBalancerSettings["consistentHash"]>): HashKey | undefined {
  const header = str(ch.httpHeaderName);
  if (header) return { header: header.toLowerCase() };
  const cookie = obj(ch.httpCookie);
  if (cookie && str(cookie.name)) {
    const ttlMs = durationMs(cookie.ttl);
    return { cookie: { name: cookie.name!, ...(str(cookie.path) ? { path: cookie.path } : {}), ...(ttlMs !== undefined ? { ttlMs } : {}) } };
  }
  if (ch.useSourceIp === true) return { sourceIp: true };
  const q = str(ch.httpQueryParameterName);
  if (q) return { queryParameter: q };
  return undefined;
}

/** Istio treats 0 (the proto default) as "unset" for connection pool limits. */
function positive(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && n > 0 ? n : undefined;
}

/** `tcpProxy`: the cluster carries raw TCP, so tcp.idleTimeout is the idle timeout rather than http.idleTimeout. */
export function connectionPoolConfig(cp: ConnectionPoolSettings | undefined, tcpProxy: boolean): ConnectionPoolConfig {
  const out: ConnectionPoolConfig = { ...DEFAULT_CONNECTION_POOL };
  const tcp = obj(cp?.tcp);
  const http = obj(cp?.http);
  out.maxConnections = positive(tcp?.maxConnections) ?? out.maxConnections;
  out.connectTimeoutMs = durationMs(tcp?.connectTimeout) || out.connectTimeoutMs;
  out.maxConnectionDurationMs = durationMs(tcp?.maxConnectionDuration) ?? out.maxConnectionDurationMs;
  out.maxPendingRequests = positive(http?.http1MaxPendingRequests) ?? out.maxPendingRequests;
  out.maxRequests = positive(http?.http2MaxRequests) ?? out.maxRequests;
  out.maxRequestsPerConnection = positive(http?.maxRequestsPerConnection) ?? 0;
  out.maxRetries = positive(http?.maxRetries) ?? out.maxRetries;
  // An explicit 0s disables the idle timeout.
  const idle = durationMs(tcpProxy ? tcp?.idleTimeout : http?.idleTimeout);
  if (idle !== undefined) out.idleTimeoutMs = idle;
  const ka = obj(tcp?.tcpKeepalive);
  if (ka) {
    const probes = positive(ka.probes);
    const timeMs = durationMs(ka.time);
    const intervalMs = durationMs(ka.interval);
    out.tcpKeepalive = { ...(probes !== undefined ? { probes } : {}), ...(timeMs !== undefined ? { timeMs } : {}), ...(intervalMs !== undefined ? { intervalMs } : {}) };
  }
  return out;
}

/**
 * Istio's applyOutlierDetection: absent → none. Unset sub-fields take Envoy's defaults (5
 * consecutive 5xx, gateway errors off, 10 s interval, 30 s base ejection, 10 %, panic 0 %).
 * Deprecated `consecutiveErrors` counts gateway errors only and turns 5xx counting off.
 */
export function outlierDetectionConfig(od: OutlierDetection | undefined): OutlierDetectionConfig | undefined {
  if (!od) return undefined;
  let consecutive5xxErrors = DEFAULT_CONSECUTIVE_5XX_ERRORS;
  let consecutiveGatewayErrors = DEFAULT_CONSECUTIVE_GATEWAY_ERRORS;
  const legacy = num(od.consecutiveErrors);
  if (legacy !== undefined && legacy > 0) {
    consecutive5xxErrors = 0;
    consecutiveGatewayErrors = legacy;
  }
  if (num(od.consecutive5xxErrors) !== undefined) consecutive5xxErrors = Math.max(0, od.consecutive5xxErrors!);
  if (num(od.consecutiveGatewayErrors) !== undefined) consecutiveGatewayErrors = Math.max(0, od.consecutiveGatewayErrors!);
  const split = od.splitExternalLocalOriginErrors === true;
  const local = num(od.consecutiveLocalOriginFailures);
  const maxEjection = num(od.maxEjectionPercent);
  const minHealth = num(od.minHealthPercent);
  return {
    consecutive5xxErrors,
    consecutiveGatewayErrors,
    consecutiveLocalOriginFailures: split ? (local !== undefined ? Math.max(0, local) : DEFAULT_CONSECUTIVE_LOCAL_ORIGIN_FAILURES) : 0,
    splitExternalLocalOriginErrors: split,
    intervalMs: durationMs(od.interval) || DEFAULT_OUTLIER_INTERVAL_MS,
    baseEjectionTimeMs: durationMs(od.baseEjectionTime) || DEFAULT_BASE_EJECTION_TIME_MS,
    maxEjectionPercent: maxEjection !== undefined && maxEjection > 0 ? Math.min(100, maxEjection) : DEFAULT_MAX_EJECTION_PERCENT,
    minHealthPercent: minHealth !== undefined && minHealth >= 0 ? Math.min(100, minHealth) : DEFAULT_MIN_HEALTH_PERCENT,
  };
}

export interface TlsContext {
  /** Cluster name, for Istio's mTLS SNI `outbound_.9080_.v2_.reviews.default.svc.cluster.local`. */
  port: number;
  subset: string;
  host: string;
  /** SPIFFE ids of the service's instances (or ServiceEntry subjectAltNames). */
  identities: string[];
  /**
   * Whether this proxy may use `credentialName`: gateways, and sidecars only for a DestinationRule
   * with a workloadSelector (Istio's cluster_tls.go; otherwise a sidecar gets no TLS for it).
   */
  credentialsAllowed: boolean;
}

/**
 * DISABLE (or absent) → no TLS. SIMPLE / MUTUAL: files, or `credentialName` (the proxy's secret
 * store), and `caCrl`. As Istio, a sidecar that may not use the DR's credentialName (no
 * workloadSelector) gets no TLS settings for the cluster at all.
 */
export function tlsConfig(tls: ClientTLSSettings | undefined, ctx: TlsContext): UpstreamTlsConfig | undefined {
  const mode = tls?.mode;
  if (mode !== "SIMPLE" && mode !== "MUTUAL" && mode !== "ISTIO_MUTUAL") return undefined;
  if (mode === "ISTIO_MUTUAL") {
    return {
      mode,
      sni: str(tls?.sni) ?? `outbound_.${ctx.port}_.${ctx.subset}_.${ctx.host}`,
      subjectAltNames: arr(tls?.subjectAltNames).length > 0 ? [...arr(tls?.subjectAltNames)] : [...ctx.identities],
      insecureSkipVerify: false,
    };
  }
  const credentialName = str(tls?.credentialName);
  if (credentialName && !ctx.credentialsAllowed) return undefined;
  const out: UpstreamTlsConfig = {
    mode,
    subjectAltNames: [...arr(tls?.subjectAltNames).filter((s) => typeof s === "string")],
    insecureSkipVerify: tls?.insecureSkipVerify === true,
  };
  const sni = str(tls?.sni) ?? (ctx.host.startsWith("*") ? undefined : ctx.host);
  if (sni) out.sni = sni;
  if (str(tls?.caCrl)) out.caCrl = tls!.caCrl!;
  // credentialName and the file paths do not mix (validation rejects it); the name wins here.
  if (credentialName) {
    out.credentialName = credentialName;
    return out;
  }
  if (str(tls?.caCertificates)) out.caCertificates = tls!.caCertificates!;
  if (mode === "MUTUAL") {
    if (str(tls?.clientCertificate)) out.clientCertificate = tls!.clientCertificate!;
    if (str(tls?.privateKey)) out.privateKey = tls!.privateKey!;
  }
  return out;
}
