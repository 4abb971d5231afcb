// Rate limiting as the sidecar runs it: the per-filter configs of the HTTP filters
// `local_ratelimit` (Envoy's envoy.filters.http.local_ratelimit, a token bucket in each proxy) and
// `ratelimit` (envoy.filters.http.ratelimit, a call to the global rate-limit service), carried in
// a listener's httpFilters[].config and, per route, in Route.filterConfig[<filter name>].
// Translation fills them from Istio EnvoyFilters (control-plane/translate/rate-limit/). Pure data.
import type { HeaderMatcher } from "./route-match.ts";

/** The filter names in ProxyConfig (httpFilters[].name, Route.filterConfig keys). */
export const LOCAL_RATE_LIMIT_FILTER = "local_ratelimit";
export const GLOBAL_RATE_LIMIT_FILTER = "ratelimit";
/** The descriptor entry naming a RateLimit (amime.dev) rule: `<namespace>/<name>/<rule name or index>`. */
export const KIND_RULE_KEY = "amime_ratelimit_rule";

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
  /**
   * Envoy's LocalRateLimit.rate_limits: the actions that build this request's descriptors for the
   * `descriptors` below (absent: the route's `rateLimits`, stage 0, as Envoy reads the route's).
   */
  rateLimits?: RateLimitPolicy[];
  /**
   * Envoy's local `descriptors`: a request descriptor equal to one of these (same keys in order;
   * an entry with value "" matches any value) draws from its bucket instead of `tokenBucket`.
   */
  descriptors?: LocalDescriptor[];
  /**
   * Envoy's max_dynamic_descriptors (default 20): how many values of a wildcard descriptor keep
   * their own bucket; past it the least recently used bucket is dropped (its key starts full again).
   */
  maxDynamicDescriptors?: number;
}

/** One of Envoy's LocalRateLimitDescriptor: entries (value "" = any value, a bucket per value) and a bucket. */
export interface LocalDescriptor {
  entries: { key: string; value: string }[];
  tokenBucket: TokenBucket;
}

/** RateLimitDescriptor.limit units (rls.proto's RateLimitResponse.RateLimit.Unit). */
export type RateLimitUnit = "SECOND" | "MINUTE" | "HOUR" | "DAY";

/** One action of a route's `rate_limits` entry: what one descriptor entry is built from. */
export type RateLimitAction =
  | { kind: "request_headers"; headerName: string; descriptorKey: string; skipIfAbsent: boolean }
  | { kind: "remote_address" }
  | { kind: "generic_key"; descriptorKey: string; descriptorValue: string }
  | { kind: "header_value_match"; descriptorKey: string; descriptorValue: string; expectMatch: boolean; headers: HeaderMatcher[] }
  | { kind: "destination_cluster" }
  /**
   * Envoy's `metadata` action (source DYNAMIC) on jwt_authn's metadata: the value at `path` in
   * the first verified token's payload (a string, or a number or boolean as text); absent →
   * `defaultValue`, else no descriptor (or just no entry with skipIfAbsent).
   */
  | { kind: "metadata"; descriptorKey: string; path: string[]; defaultValue: string; skipIfAbsent: boolean }
  /** Amime's (Envoy has none): the peer's mTLS identity as Istio's source.principal (`td/ns/<ns>/sa/<sa>`); none → no descriptor. */
  | { kind: "source_principal"; descriptorKey: string };

/** One `rate_limits` entry: its actions build one descriptor (or none, if an action yields nothing). */
export interface RateLimitPolicy {
  stage: number;
  actions: RateLimitAction[];
  /**
   * The limit sent with the descriptor (rls.proto's RateLimitDescriptor.limit), which the service
   * uses instead of its config's. Envoy fills it from dynamic metadata (RateLimit.limit); Amime's
   * RateLimit kind sets it statically.
   */
  limit?: { requestsPerUnit: number; unit: RateLimitUnit };
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
  /**
   * The actions that build the descriptors, instead of the route's `rate_limits` (as Envoy's
   * RateLimitPerRoute.rate_limits does per route; here for every route of the listener). The
   * RateLimit kind's global rules use it, so they neither hide nor join an EnvoyFilter's route ones.
   */
  rateLimits?: RateLimitPolicy[];
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
