// Routes (RDS): route configuration → virtual host → route, and a route's action — forward
// (weighted clusters, timeout, retry, fault, mirror, rewrite, CORS), redirect or direct response —
// with header edits. Pure data, JSON-serializable.
import type { RouteRateLimits } from "../rate-limit.ts";
import type { StringMatch, RouteMatch } from "../route-match.ts";

export interface RouteConfiguration {
  name: string;
  virtualHosts: VirtualHost[];
}

export interface VirtualHost {
  /** e.g. `reviews.default.svc.cluster.local:9080` */
  name: string;
  /**
   * Host/:authority values that select this virtual host: exact names with or without port
   * (`reviews`, `reviews:9080`, `reviews.default.svc.cluster.local:9080`), leading wildcards
   * (`*.example.com`) and `*` for anything. Longest/most specific match wins, as in Envoy.
   */
  domains: string[];
  routes: Route[];
  /** CORS policy applying to routes without their own. */
  cors?: CorsPolicy;
}

/** Where a translated rule came from, for `amime explain`, logs and the dashboard. */
export interface RouteOrigin {
  /** `VirtualService default/reviews` or `default` for the implicit route. */
  resource: string;
  /** http[i] index in the VirtualService, -1 for generated routes. */
  ruleIndex: number;
  /** match[j] index within the rule, -1 when the rule has no match. */
  matchIndex: number;
  file?: string;
  line?: number;
}

export interface Route {
  /** HTTPRoute.name (+ "." + match name), used in logs and stats. */
  name: string;
  match: RouteMatch;
  action: RouteAction;
  /** Header edits on request/response, applied after the per-destination ones. */
  headers?: HeaderOperations;
  /**
   * Per-filter config overrides on this route, by HTTP filter name (Envoy's
   * typed_per_filter_config): the named filter runs with this config instead of the listener's.
   */
  filterConfig?: Readonly<Record<string, unknown>>;
  /** The `rate_limits` the global `ratelimit` filter builds descriptors from (model/rate-limit.ts). */
  rateLimits?: RouteRateLimits;
  origin: RouteOrigin;
}

export type RouteAction = ForwardAction | RedirectAction | DirectResponseAction;

export interface ForwardAction {
  kind: "forward";
  /** Relative weights; a single entry gets all traffic. */
  clusters: WeightedCluster[];
  /** 0 = no route timeout (Istio's default). Covers all retries. */
  timeoutMs: number;
  retry: RetryPolicy;
  fault?: FaultPolicy;
  mirrors: MirrorPolicy[];
  rewrite?: RewritePolicy;
  cors?: CorsPolicy;
}

export interface WeightedCluster {
  cluster: string;
  weight: number;
  headers?: HeaderOperations;
}

export interface RetryPolicy {
  /** Number of retries (not counting the first try). 0 disables. */
  attempts: number;
  /** 0 = same as the route timeout. */
  perTryTimeoutMs: number;
  /** Envoy retry_on tokens: 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, … and gRPC: cancelled, deadline-exceeded, internal, resource-exhausted, unavailable. */
  retryOn: string[];
  /** Numeric codes from retryOn (imply retriable-status-codes). */
  retriableStatusCodes: number[];
  /** Base interval for jittered exponential backoff (Envoy: 25 ms); max = 10× base. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Avoid hosts already tried (Istio default true). */
  retryIgnorePreviousHosts: boolean;
}

export interface FaultPolicy {
  delay?: { fixedDelayMs: number; percentage: number };
  abort?: { httpStatus?: number; grpcStatus?: string; percentage: number };
}

export interface MirrorPolicy {
  cluster: string;
  /** 0..100; Istio default 100. */
  percentage: number;
}

export interface RewritePolicy {
  /** Replaces the matched uri prefix (or the whole path for exact matches). */
  uri?: string;
  uriRegex?: { match: string; rewrite: string };
  authority?: string;
}

export interface RedirectAction {
  kind: "redirect";
  uri?: string;
  /** Replaces the matched prefix (Istio redirect prefixRewrite). */
  prefixRewrite?: string;
  authority?: string;
  port?: number;
  derivePort?: "FROM_PROTOCOL_DEFAULT" | "FROM_REQUEST_PORT";
  scheme?: string;
  /** Default 301. */
  code: number;
  headers?: HeaderOperations;
}

export interface DirectResponseAction {
  kind: "direct";
  status: number;
  body?: string;
}

export interface HeaderEdits {
  set: Record<string, string>;
  add: Record<string, string>;
  remove: string[];
}

export interface HeaderOperations {
  request?: HeaderEdits;
  response?: HeaderEdits;
}

export interface CorsPolicy {
  allowOrigins: StringMatch[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
  allowCredentials?: boolean;
  /** What to do with a preflight whose origin does not match: FORWARD (default) or IGNORE. */
  unmatchedPreflights: "FORWARD" | "IGNORE";
}

/** Istio's mesh default retry policy when a route sets none. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  attempts: 2,
  perTryTimeoutMs: 0,
  retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"],
  retriableStatusCodes: [503],
  backoffBaseMs: 25,
  backoffMaxMs: 250,
  retryIgnorePreviousHosts: true,
};
