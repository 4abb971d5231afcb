// The rate limits one request would meet on the explained proxy's listener: the `local_ratelimit`
// bucket it would take a token from (the route's own config, else the listener's) and, for the
// global `ratelimit` filter, the descriptors its route's (or virtual host's) `rate_limits` build
// and where they would be sent. Whether a token is left, or what the service answers, depends on
// traffic: the view says what is asked, not the answer. Pure.
import type { Listener, Route } from "../../../model/proxy-config.ts";
import { GLOBAL_RATE_LIMIT_FILTER, LOCAL_RATE_LIMIT_FILTER, type GlobalRateLimitConfig, type LocalRateLimitConfig } from "../../../model/rate-limit.ts";
import { buildDescriptors, policiesOf } from "../../../proxy/http/filters/ratelimit/descriptors.ts";
import type { RequestView } from "../../../proxy/router/index.ts";
import { formatMs } from "./policy-text.ts";

export interface RateLimitView {
  local?: { statPrefix: string; from: "route" | "listener"; summary: string };
  global?: { domain: string; cluster: string; descriptors: { key: string; value: string }[][]; summary: string };
}

function percent(perMillion: number): string {
  return `${perMillion / 10_000}%`;
}

function localSummary(c: LocalRateLimitConfig): string {
  const b = c.tokenBucket;
  if (b === undefined) return "no bucket here: nothing is limited";
  if (c.enabledPerMillion === 0) return `bucket of ${b.maxTokens} (+${b.tokensPerFill} every ${formatMs(b.fillIntervalMs)}), but filter_enabled is 0%: never checked`;
  const enforced = c.enforcedPerMillion === 0 ? "counted only (filter_enforced 0%)" : `${c.status} when empty${c.enforcedPerMillion < 1_000_000 ? ` for ${percent(c.enforcedPerMillion)} of them` : ""}`;
  return `a token from a bucket of ${b.maxTokens} (+${b.tokensPerFill} every ${formatMs(b.fillIntervalMs)}), checked for ${percent(c.enabledPerMillion)} of requests; ${enforced}`;
}

export function explainRateLimits(listener: Listener, route: Route, view: RequestView): RateLimitView | undefined {
  const filters = listener.httpFilters ?? [];
  const out: RateLimitView = {};
  const local = filters.find((f) => f.name === LOCAL_RATE_LIMIT_FILTER);
  if (local !== undefined) {
    const own = route.filterConfig?.[LOCAL_RATE_LIMIT_FILTER] as LocalRateLimitConfig | undefined;
    const c = own ?? (local.config as LocalRateLimitConfig | undefined);
    if (c !== undefined) out.local = { statPrefix: c.statPrefix, from: own !== undefined ? "route" : "listener", summary: localSummary(c) };
  }
  const global = filters.find((f) => f.name === GLOBAL_RATE_LIMIT_FILTER);
  if (global !== undefined && route.action.kind === "forward") {
    const c = global.config as GlobalRateLimitConfig;
    const target = route.action.clusters[0]?.cluster ?? "";
    const descriptors = buildDescriptors(view, policiesOf(route.rateLimits), c.stage, target).map((d) => d.entries);
    const onError = c.failureModeDeny ? "500 (RLSE) if it fails" : "let through if it fails";
    const summary = descriptors.length === 0
      ? "no descriptor for this request: the rate-limit service is not called"
      : `asks domain ${JSON.stringify(c.domain)} at ${c.cluster} (timeout ${c.timeoutMs === 0 ? "none" : formatMs(c.timeoutMs)}): 429 if over the limit, ${onError}`;
    out.global = { domain: c.domain, cluster: c.cluster, descriptors, summary };
  }
  return out.local === undefined && out.global === undefined ? undefined : out;
}
