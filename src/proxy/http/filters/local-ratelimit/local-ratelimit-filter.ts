// Envoy's local rate limit (envoy.filters.http.local_ratelimit): a token bucket in this proxy,
// from the listener's config or the route's override (Route.filterConfig.local_ratelimit). Of the
// requests the filter is enabled for (filter_enabled), one without a token is counted
// rate_limited and, if enforced (filter_enforced), answered 429 with Envoy's body
// `local_rate_limited`, `x-envoy-ratelimited: true`, the configured response headers and, when
// asked, x-ratelimit-limit/-remaining/-reset; flag RL. Counters under
// `<stat_prefix>.http_local_rate_limit.{enabled,enforced,rate_limited,ok}` as Envoy's. One bucket
// per config in its place (listener, or route): a push that leaves it unchanged keeps the bucket
// as it is — Envoy does not rebuild a listener or route whose config did not change — and a
// changed config starts full, as Envoy's rebuilt filter config does. With `descriptors` (Envoy's
// local descriptors), the request's descriptors — built by its config's `rateLimits` actions, else
// its route's (stage 0) — draw from the buckets of the configured descriptors they match
// (descriptor-buckets.ts; one bucket per value for wildcard entries, LRU-bounded); a request
// matching none draws from `tokenBucket`, or passes when there is none.
import type { LocalRateLimitConfig } from "../../../../model/rate-limit.ts";
import { LOCAL_RATE_LIMIT_FILTER } from "../../../../model/rate-limit.ts";
import { addResponseHeaders, CONTINUE, STOP, type FilterStatus, type HttpFilter, type RequestContext } from "../../../request/context.ts";
import type { FilterStats } from "../../../request/filter-stats.ts";
import { RF_RL } from "../../../request/response-flags.ts";
import { buildDescriptors, policiesOf } from "../ratelimit/descriptors.ts";
import { checkLocalRateLimit } from "./check.ts";
import { DEFAULT_MAX_DYNAMIC_DESCRIPTORS, DescriptorBuckets } from "./descriptor-buckets.ts";
import { TokenBucketState } from "./token-bucket.ts";

export const BODY_LOCAL_RATE_LIMITED = "local_rate_limited";

interface Counters extends Record<string, number> {
  enabled: number;
  enforced: number;
  rate_limited: number;
  ok: number;
}

interface State {
  bucket: TokenBucketState | null;
  descriptors: DescriptorBuckets | null;
  /** The bucket the last passing request drew from (for x-ratelimit-* on its response; read at once, same tick). */
  lastTaken: { bucket: TokenBucketState; maxTokens: number } | null;
  /** `bucket` as a take() result, made once (no allocation per request). */
  defaultHit: { bucket: TokenBucketState; maxTokens: number } | null;
  counters: Counters;
  headers: [string, string][];
  /** The proxy whose bucket this is (tests run several in one process). */
  owner: FilterStats;
}

const states = new WeakMap<object, State>();

/**
 * Buckets by place and content, so the equal config object of the next push finds its bucket.
 * Bounded: places that left the config are dropped oldest first.
 */
const byContent = new Map<string, State>();
export const MAX_CARRIED_BUCKETS = 4096;

function contentKey(x: RequestContext, config: LocalRateLimitConfig): string {
  const route = x.route;
  const place = route !== null && route.filterConfig?.[LOCAL_RATE_LIMIT_FILTER] === config ? `route ${x.listenerCtx.routeConfigName} ${x.virtualHost?.name ?? ""} ${route.name}` : `listener ${x.listenerCtx.name}`;
  return `${place} ${JSON.stringify(config)}`;
}

function stateOf(x: RequestContext, config: LocalRateLimitConfig): State {
  let s = states.get(config);
  if (s !== undefined) return s;
  // A config object not seen yet (a push): the same config in the same place keeps its bucket.
  const key = contentKey(x, config);
  s = byContent.get(key);
  if (s !== undefined && s.owner === x.proxy.filterStats) {
    byContent.delete(key);
    byContent.set(key, s);
    states.set(config, s);
    return s;
  }
  const counters = x.proxy.filterStats.group<Counters>(`${config.statPrefix}.http_local_rate_limit`, () => ({ enabled: 0, enforced: 0, rate_limited: 0, ok: 0 }));
  const headers: [string, string][] = [["x-envoy-ratelimited", "true"]];
  for (const h of config.responseHeadersToAdd) headers.push([h.key, h.value]);
  const descriptors = config.descriptors === undefined || config.descriptors.length === 0 ? null : new DescriptorBuckets(config.descriptors, x.proxy.clock, config.maxDynamicDescriptors ?? DEFAULT_MAX_DYNAMIC_DESCRIPTORS);
  const bucket = config.tokenBucket === undefined ? null : new TokenBucketState(config.tokenBucket, x.proxy.clock);
  const defaultHit = bucket === null ? null : { bucket, maxTokens: (config.tokenBucket as { maxTokens: number }).maxTokens };
  s = { bucket, descriptors, lastTaken: null, defaultHit, counters, headers, owner: x.proxy.filterStats };
  states.set(config, s);
  byContent.set(key, s);
  if (byContent.size > MAX_CARRIED_BUCKETS) byContent.delete(byContent.keys().next().value as string);
  return s;
}

/** A share per million hits this request (0: never, 1_000_000: always). */
function hits(x: RequestContext, perMillion: number): boolean {
  return perMillion >= 1_000_000 || (perMillion > 0 && x.proxy.random.next() * 1_000_000 < perMillion);
}

export const localRateLimitFilter: HttpFilter = {
  name: LOCAL_RATE_LIMIT_FILTER,
  check: checkLocalRateLimit,
  onRequest(x: RequestContext, config: unknown): FilterStatus {
    if (config === undefined) return CONTINUE;
    const c = config as LocalRateLimitConfig;
    if ((c.tokenBucket === undefined && c.descriptors === undefined) || !hits(x, c.enabledPerMillion)) return CONTINUE;
    const s = stateOf(x, c);
    const limitedBy = take(x, c, s);
    if (limitedBy === undefined) return CONTINUE;
    s.counters.enabled++;
    if (limitedBy === null) {
      s.counters.ok++;
      if (c.xRateLimitHeaders && s.lastTaken !== null) {
        // Envoy's DRAFT_VERSION_03 headers go on responses that pass too: the bucket just drawn from.
        const b = s.lastTaken;
        addResponseHeaders(x, [["x-ratelimit-limit", String(b.maxTokens)], ["x-ratelimit-remaining", String(b.bucket.remaining())], ["x-ratelimit-reset", String(Math.ceil(b.bucket.msUntilFill() / 1000))]]);
      }
      return CONTINUE;
    }
    s.counters.rate_limited++;
    if (!hits(x, c.enforcedPerMillion)) return CONTINUE;
    s.counters.enforced++;
    let headers = s.headers;
    if (c.xRateLimitHeaders) {
      headers = [...headers, ["x-ratelimit-limit", String(limitedBy.maxTokens)], ["x-ratelimit-remaining", "0"], ["x-ratelimit-reset", String(Math.ceil(limitedBy.bucket.msUntilFill() / 1000))]];
    }
    x.reply(c.status, RF_RL, BODY_LOCAL_RATE_LIMITED, headers);
    return STOP;
  },
};

/**
 * Takes this request's tokens: from the buckets of the configured descriptors its descriptors
 * match (stopping at the first empty one, as Envoy), else from the default bucket. Returns the
 * empty bucket that limits it, null when it passes, undefined when no bucket applies.
 */
function take(x: RequestContext, c: LocalRateLimitConfig, s: State): { bucket: TokenBucketState; maxTokens: number } | null | undefined {
  if (s.descriptors !== null) {
    const route = x.route;
    const policies = c.rateLimits ?? policiesOf(route?.rateLimits);
    if (policies.length > 0) {
      const target = route !== null && route.action.kind === "forward" ? (route.action.clusters[0] as { cluster: string }).cluster : "";
      let matched = false;
      for (const d of buildDescriptors(x, policies, 0, target)) {
        const hit = s.descriptors.bucketFor(d.entries);
        if (hit === null) continue;
        // The one with the fewest tokens left gives the headers.
        if (!matched || hit.bucket.remaining() < (s.lastTaken as { bucket: TokenBucketState }).bucket.remaining()) s.lastTaken = hit;
        matched = true;
        if (!hit.bucket.consume()) return hit;
      }
      if (matched) return null;
    }
  }
  const whole = s.defaultHit;
  if (whole === null) return undefined;
  s.lastTaken = whole;
  return whole.bucket.consume() ? null : whole;
}
