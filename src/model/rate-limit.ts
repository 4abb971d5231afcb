// Rate limiting as the sidecar runs it: the per-filter configs of the HTTP filters
// `local_ratelimit` (Envoy's envoy.filters.http.local_ratelimit, a token bucket in each proxy) and
// `ratelimit` (envoy.filters.http.ratelimit, a call to the global rate-limit service), carried in
// a listener's httpFilters[].config and, per route, in Route.filterConfig[<filter name>].
// Translation fills them from Istio EnvoyFilters (control-plane/translate/rate-limit/). Pure data.
import type { HeaderMatcher } from "./proxy-config.ts";

/** The filter names in ProxyConfig (httpFilters[].name, Route.filterConfig keys). */
export const LOCAL_RATE_LIMIT_FILTER = "local_ratelimit";
export const GLOBAL_RATE_LIMIT_FILTER = "ratelimit";

export interface TokenBucket {
  maxTokens: number;
  /** Default 1. */
  tokensPerFill: number;
  fillIntervalMs: number;
}

export interface HeaderToAdd {
  key: string;
  value: string;
  /** Envoy's `append` (default true); false overwrites. */
  append: boolean;
}

/** envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit, the parts the sidecar runs. */
export interface LocalRateLimitConfig {
  statPrefix: string;
  /** Absent: nothing is limited at this level (Envoy: a filter without a bucket passes requests). */
  tokenBucket?: TokenBucket;
  /** Share of requests checked against the bucket (filter_enabled), per million; Envoy's default 0. */
  enabledPerMillion: number;
  /** Share of limited requests actually refused (filter_enforced), per million; Envoy's default 0. */
  enforcedPerMillion: number;
  /** Added to the 429 answers (response_headers_to_add). */
  responseHeadersToAdd: HeaderToAdd[];
  /** `status` (default 429 Too Many Requests). */
  status: number;
  /** enable_x_ratelimit_headers: DRAFT_VERSION_03 → x-ratelimit-limit / -remaining / -reset. */
  xRateLimitHeaders: boolean;
}

/** One action of a route's `rate_limits` entry: what one descriptor entry is built from. */
export type RateLimitAction =
  | { kind: "request_headers"; headerName: string; descriptorKey: string; skipIfAbsent: boolean }
  | { kind: "remote_address" }
  | { kind: "generic_key"; descriptorKey: string; descriptorValue: string }
  | { kind: "header_value_match"; descriptorKey: string; descriptorValue: string; expectMatch: boolean; headers: HeaderMatcher[] }
  | { kind: "destination_cluster" };

/** One `rate_limits` entry: its actions build one descriptor (or none, if an action yields nothing). */
export interface RateLimitPolicy {
  stage: number;
  actions: RateLimitAction[];
}

/** envoy.extensions.filters.http.ratelimit.v3.RateLimit, the parts the sidecar runs. */
export interface GlobalRateLimitConfig {
  domain: string;
  stage: number;
  /** Envoy's failure_mode_deny: when the service fails, refuse (500, flag RLSE) instead of allowing. */
  failureModeDeny: boolean;
  /** The call's deadline (Envoy's default 20 ms). */
  timeoutMs: number;
  /** rate_limited_as_resource_exhausted: a limited gRPC request gets RESOURCE_EXHAUSTED (8), not UNAVAILABLE (14). */
  rateLimitedAsResourceExhausted: boolean;
  /** enable_x_ratelimit_headers: DRAFT_VERSION_03 → x-ratelimit-limit / -remaining / -reset on the 429. */
  xRateLimitHeaders: boolean;
  /** The gRPC service's cluster, e.g. `outbound|8081||ratelimit.default.svc.cluster.local`. */
  cluster: string;
  authority?: string;
}

/**
 * What the `ratelimit` filter reads on a route (Route.rateLimits): the route's own `rate_limits`
 * and those of its virtual host, copied onto each of its routes by translation. As Envoy's
 * default (vh_rate_limits OVERRIDE), the virtual host's apply only when the route has none.
 */
export interface RouteRateLimits {
  route: RateLimitPolicy[];
  virtualHost: RateLimitPolicy[];
}
