// Istio / Envoy defaults, as named constants and small pure functions, so translation, the proxy
// and the docs use one source. Values from istio/api (networking/v1alpha3), pilot's translation
// code and Envoy's protos (docs/resilience.md, docs/load-balancing.md list them).
import { parseDurationNanos } from "./checks/duration.ts";
import type { HTTPRetry, OutlierDetection } from "../model/specs/networking.ts";

export class InvalidDurationError extends Error {
  readonly code = "AMIME_INVALID_DURATION";
  constructor(text: string) {
    super(`invalid duration ${JSON.stringify(text)} (write e.g. "10s", "1.5s", "100ms" or "1m30s")`);
    this.name = "InvalidDurationError";
  }
}

/**
 * Milliseconds in an Istio duration: protobuf JSON ("1.5s", "0.100s") or Go style ("1m30s", "1h",
 * "100ms", "10us", "1ns"). Sub-millisecond parts stay as fractions (e.g. "10us" → 0.01).
 * Throws InvalidDurationError on anything else.
 */
export function parseDuration(s: string): number {
  const ns = parseDurationNanos(s);
  if (ns === null) throw new InvalidDurationError(s);
  return Number(ns) / 1e6;
}

/** `parseDuration` for an optional field: `fallback` when absent. */
export function durationOr(s: string | undefined, fallbackMs: number): number {
  return s === undefined ? fallbackMs : parseDuration(s);
}

/** 2^32-1: what Istio sets Envoy's circuit breaker thresholds to when unset ("unlimited"). */
export const MAX_UINT32 = 4294967295;

// ── retries (pilot/pkg/networking/core/route/retry/retry.go) ──
export const DEFAULT_RETRY_ATTEMPTS = 2;
/** The documented mesh default; Istio also adds `retriable-status-codes` with 503 (below). */
export const DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled";
/** Istio adds 503 as a retriable status code to its default policy. */
export const DEFAULT_RETRIABLE_STATUS_CODES: readonly number[] = [503];
export const DEFAULT_RETRY_BACKOFF_BASE_MS = 25;
/** Envoy caps jittered backoff at 10× the base interval. */
export const RETRY_BACKOFF_MAX_FACTOR = 10;
export const DEFAULT_RETRY_HOST_SELECTION_ATTEMPTS = 5;

export interface RetryPolicy {
  attempts: number;
  /** Envoy retry_on conditions, without numeric codes. */
  retryOn: string[];
  retriableStatusCodes: number[];
  /** Per-try timeout in ms; undefined = same as the route timeout. */
  perTryTimeoutMs: number | undefined;
  backoffBaseMs: number;
  backoffMaxMs: number;
  retryRemoteLocalities: boolean;
  retryIgnorePreviousHosts: boolean;
}

/**
 * The effective retry policy for an HTTP route: Istio's mesh default when `retries` is absent; the
 * route's settings otherwise. Numeric tokens in retryOn become retriable status codes and add the
 * `retriable-status-codes` condition, as Istio does. attempts 0 → no retries.
 */
export function effectiveRetryPolicy(retries: HTTPRetry | undefined): RetryPolicy {
  if (!retries) {
    return {
      attempts: DEFAULT_RETRY_ATTEMPTS,
      retryOn: [...DEFAULT_RETRY_ON.split(","), "retriable-status-codes"],
      retriableStatusCodes: [...DEFAULT_RETRIABLE_STATUS_CODES],
      perTryTimeoutMs: undefined,
      backoffBaseMs: DEFAULT_RETRY_BACKOFF_BASE_MS,
      backoffMaxMs: DEFAULT_RETRY_BACKOFF_BASE_MS * RETRY_BACKOFF_MAX_FACTOR,
      retryRemoteLocalities: false,
      retryIgnorePreviousHosts: true,
    };
  }
  const retryOn: string[] = [];
  const codes: number[] = [];
  const tokens = (retries.retryOn ?? DEFAULT_RETRY_ON).split(",").map((t) => t.trim()).filter((t) => t !== "");
  for (const t of tokens) {
    if (/^\d+$/.test(t)) codes.push(Number(t));
    else if (!retryOn.includes(t)) retryOn.push(t);
  }
  if (retries.retryOn === undefined) codes.push(...DEFAULT_RETRIABLE_STATUS_CODES);
  if (codes.length > 0 && !retryOn.includes("retriable-status-codes")) retryOn.push("retriable-status-codes");
  const backoffBaseMs = retries.backoff !== undefined ? parseDuration(retries.backoff) : DEFAULT_RETRY_BACKOFF_BASE_MS;
  return {
    attempts: retries.attempts ?? 0,
    retryOn,
    retriableStatusCodes: codes,
    perTryTimeoutMs: retries.perTryTimeout !== undefined ? parseDuration(retries.perTryTimeout) : undefined,
    backoffBaseMs,
    backoffMaxMs: backoffBaseMs * RETRY_BACKOFF_MAX_FACTOR,
    retryRemoteLocalities: retries.retryRemoteLocalities ?? false,
    retryIgnorePreviousHosts: retries.retryIgnorePreviousHosts ?? true,
  };
}

// ── connection pool (DestinationRule ConnectionPoolSettings) ──
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
export const DEFAULT_MAX_CONNECTIONS = MAX_UINT32;
export const DEFAULT_HTTP1_MAX_PENDING_REQUESTS = MAX_UINT32;
export const DEFAULT_HTTP2_MAX_REQUESTS = MAX_UINT32;
export const DEFAULT_MAX_RETRIES = MAX_UINT32;
/** 0 = unlimited requests per connection. */
export const DEFAULT_MAX_REQUESTS_PER_CONNECTION = 0;
export const DEFAULT_MAX_CONCURRENT_STREAMS = 2147483647;

// ── outlier detection ──
export const DEFAULT_CONSECUTIVE_5XX_ERRORS = 5;
/** consecutiveGatewayErrors is off unless set. */
export const DEFAULT_CONSECUTIVE_GATEWAY_ERRORS = 0;
export const DEFAULT_CONSECUTIVE_LOCAL_ORIGIN_FAILURES = 5;
export const DEFAULT_OUTLIER_INTERVAL_MS = 10_000;
export const DEFAULT_BASE_EJECTION_TIME_MS = 30_000;
/** Envoy's max_ejection_time: the cap on base × ejection count. */
export const DEFAULT_MAX_EJECTION_TIME_MS = 300_000;
export const DEFAULT_MAX_EJECTION_PERCENT = 10;
export const DEFAULT_MIN_HEALTH_PERCENT = 0;

export interface OutlierSettings {
  consecutive5xxErrors: number;
  consecutiveGatewayErrors: number;
  splitExternalLocalOriginErrors: boolean;
  consecutiveLocalOriginFailures: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  minHealthPercent: number;
}

/** Outlier detection with Istio's defaults filled in. The deprecated consecutiveErrors maps to gateway errors, as Istio did. */
export function effectiveOutlierDetection(o: OutlierDetection): OutlierSettings {
  return {
    consecutive5xxErrors: o.consecutive5xxErrors ?? (o.consecutiveErrors === undefined ? DEFAULT_CONSECUTIVE_5XX_ERRORS : 0),
    consecutiveGatewayErrors: o.consecutiveGatewayErrors ?? o.consecutiveErrors ?? DEFAULT_CONSECUTIVE_GATEWAY_ERRORS,
    splitExternalLocalOriginErrors: o.splitExternalLocalOriginErrors ?? false,
    consecutiveLocalOriginFailures: o.consecutiveLocalOriginFailures ?? DEFAULT_CONSECUTIVE_LOCAL_ORIGIN_FAILURES,
    intervalMs: durationOr(o.interval, DEFAULT_OUTLIER_INTERVAL_MS),
    baseEjectionTimeMs: durationOr(o.baseEjectionTime, DEFAULT_BASE_EJECTION_TIME_MS),
    maxEjectionPercent: o.maxEjectionPercent ?? DEFAULT_MAX_EJECTION_PERCENT,
    minHealthPercent: o.minHealthPercent ?? DEFAULT_MIN_HEALTH_PERCENT,
  };
}

/** Ejection time for a host ejected `ejections` times in a row (Envoy: base × n, capped). */
export function ejectionTimeMs(baseMs: number, ejections: number, maxMs = DEFAULT_MAX_EJECTION_TIME_MS): number {
  return Math.min(baseMs * Math.max(1, ejections), Math.max(baseMs, maxMs));
}

// ── load balancing ──
/** Istio's default when `simple` is unset or UNSPECIFIED. */
export const DEFAULT_LB_POLICY = "LEAST_REQUEST";
/** Power-of-two-choices. */
export const LEAST_REQUEST_CHOICE_COUNT = 2;
export const DEFAULT_RING_HASH_MINIMUM_RING_SIZE = 1024;
/** Envoy's maximum_ring_size default (8M). */
export const DEFAULT_RING_HASH_MAXIMUM_RING_SIZE = 8_388_608;
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;
/** Maglev tableSize must be prime and below this. */
export const MAGLEV_TABLE_SIZE_LIMIT = 5000011;
export const DEFAULT_WARMUP_MINIMUM_PERCENT = 10;
export const DEFAULT_WARMUP_AGGRESSION = 1.0;
export const DEFAULT_ZONE_AWARE_MIN_CLUSTER_SIZE = 6;
/** Cookie hashing: a cookie with no `ttl` is a session cookie that the proxy does not generate. */
export const DEFAULT_HASH_COOKIE_PATH = "/";

/** LEAST_CONN is a deprecated alias of LEAST_REQUEST; UNSPECIFIED/absent is Istio's default. */
export function effectiveLbPolicy(simple: string | undefined): string {
  if (simple === undefined || simple === "UNSPECIFIED") return DEFAULT_LB_POLICY;
  if (simple === "LEAST_CONN") return "LEAST_REQUEST";
  return simple;
}

// ── retry budget, TLS, redirect, mirror, CORS, tunnel ──
export const DEFAULT_RETRY_BUDGET_PERCENT = 20;
export const DEFAULT_RETRY_BUDGET_MIN_CONCURRENCY = 3;
export const DEFAULT_REDIRECT_CODE = 301;
export const DEFAULT_MIRROR_PERCENTAGE = 100;
/** Envoy appends this to the Host/Authority of mirrored requests. */
export const MIRROR_HOST_SUFFIX = "-shadow";
export const DEFAULT_CORS_UNMATCHED_PREFLIGHTS = "FORWARD";
export const DEFAULT_TUNNEL_PROTOCOL = "CONNECT";
export const DEFAULT_PROXY_PROTOCOL_VERSION = "V1";
/** HTTP status for fault injection / direct responses must be within this range (Istio checks <200 or >600). */
export const MIN_HTTP_STATUS = 200;
export const MAX_HTTP_STATUS = 600;
/** Direct response bodies: warning above 100 KB, error above 1 MB. */
export const DIRECT_RESPONSE_WARN_BYTES = 100 * 1024;
export const DIRECT_RESPONSE_MAX_BYTES = 1024 * 1024;
/** VirtualService `gateways` default. */
export const MESH_GATEWAY = "mesh";
