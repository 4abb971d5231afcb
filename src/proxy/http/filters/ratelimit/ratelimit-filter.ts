// Envoy's global rate limit (envoy.filters.http.ratelimit): the route's `rate_limits` (or its
// virtual host's) build descriptors (descriptors.ts); when there are any, the request is suspended
// while the rate-limit service of `config.cluster` answers ShouldRateLimit (rls-client.ts), then
// resumed (OK), answered 429 with `x-envoy-ratelimited: true` and flag RL (OVER_LIMIT), or, when
// the call fails or times out (`timeoutMs`, Envoy's default 20 ms), let through and counted
// `failure_mode_allowed` — or with failure_mode_deny answered 500 with flag RLSE. Counters as
// Envoy's: `cluster.<route's target cluster>.ratelimit.{ok,over_limit,error,failure_mode_allowed}`.
import { GLOBAL_RATE_LIMIT_FILTER, type GlobalRateLimitConfig } from "../../../../model/rate-limit.ts";
import type { Route } from "../../../../model/proxy-config.ts";
import { GRPC_RESOURCE_EXHAUSTED } from "../../../http2/grpc.ts";
import { addResponseHeaders, CONTINUE, STOP, type FilterStatus, type HttpFilter, type RequestContext } from "../../../request/context.ts";
import type { FilterStats } from "../../../request/filter-stats.ts";
import { RF_RL, RF_RLSE } from "../../../request/response-flags.ts";
import { resumeChain } from "../chain.ts";
import { checkGlobalRateLimit } from "./check.ts";
import { buildDescriptors, policiesOf } from "./descriptors.ts";
import { loadRlsCodec, shouldRateLimit, type RlsResponse } from "./rls-client.ts";
import { xRateLimitHeaders } from "./x-ratelimit-headers.ts";

interface Counters extends Record<string, number> {
  ok: number;
  over_limit: number;
  error: number;
  failure_mode_allowed: number;
}

/** Counters per route (its target cluster names them), re-looked-up when another proxy runs the same route object. */
const routeStats = new WeakMap<Route, { owner: FilterStats; counters: Counters }>();

function statsOf(x: RequestContext, route: Route, cluster: string): Counters {
  const s = routeStats.get(route);
  if (s !== undefined && s.owner === x.proxy.filterStats) return s.counters;
  const counters = x.proxy.filterStats.group<Counters>(`cluster.${cluster}.ratelimit`, () => ({ ok: 0, over_limit: 0, error: 0, failure_mode_allowed: 0 }));
  routeStats.set(route, { owner: x.proxy.filterStats, counters });
  return counters;
}

const RATE_LIMITED: [string, string] = ["x-envoy-ratelimited", "true"];

function overLimit(x: RequestContext, c: GlobalRateLimitConfig, res: RlsResponse): void {
  const headers: [string, string][] = [RATE_LIMITED];
  for (const h of res.response_headers_to_add) headers.push([h.key.toLowerCase(), h.value]);
  if (c.xRateLimitHeaders) headers.push(...xRateLimitHeaders(res.statuses));
  const body = res.raw_body.length > 0 ? res.raw_body.toString("utf8") : undefined;
  x.reply(429, RF_RL, body, headers, x.grpc && c.rateLimitedAsResourceExhausted ? GRPC_RESOURCE_EXHAUSTED : undefined);
}

export const globalRateLimitFilter: HttpFilter = {
  name: GLOBAL_RATE_LIMIT_FILTER,
  check(config: unknown): void {
    checkGlobalRateLimit(config);
    // A failure shows on the first call (counted error, per the failure mode).
    loadRlsCodec().catch(() => {});
  },
  onRequest(x: RequestContext, config: unknown): FilterStatus {
    const route = x.route;
    // Envoy's filter needs a route to a cluster: redirects and direct responses are not limited.
    if (route === null || route.action.kind !== "forward") return CONTINUE;
    const c = config as GlobalRateLimitConfig;
    const policies = c.rateLimits ?? policiesOf(route.rateLimits);
    if (policies.length === 0) return CONTINUE;
    const target = (route.action.clusters[0] as { cluster: string }).cluster;
    const descriptors = buildDescriptors(x, policies, c.stage, target);
    if (descriptors.length === 0) return CONTINUE;
    const stats = statsOf(x, route, target);
    const onError = (): void => {
      if (x.finished) return;
      stats.error++;
      if (c.failureModeDeny) return x.reply(500, RF_RLSE);
      stats.failure_mode_allowed++;
      resumeChain(x);
    };
    const cluster = x.runtime.clusters.get(c.cluster);
    if (cluster === undefined) {
      // Envoy: the gRPC client has no such cluster, and the call fails at once.
      onError();
      return STOP;
    }
    shouldRateLimit(cluster, c.authority ?? cluster.config.service?.host ?? c.cluster, { domain: c.domain, descriptors }, c.timeoutMs, x.proxy.clock).then((res) => {
      if (x.finished) return;
      if (res.overall_code === "OVER_LIMIT") {
        stats.over_limit++;
        overLimit(x, c, res);
        return;
      }
      stats.ok++;
      // Envoy's DRAFT_VERSION_03 headers go on responses that pass too.
      if (c.xRateLimitHeaders) {
        const h = xRateLimitHeaders(res.statuses);
        if (h.length > 0) addResponseHeaders(x, h);
      }
      resumeChain(x);
    }, onError);
    return STOP;
  },
};
