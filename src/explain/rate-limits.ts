// The rate limits one request would meet on the explained proxy's listener: the `local_ratelimit`
// bucket it would take a token from (the route's own config, else the listener's) and, for the
// global `ratelimit` filter, the descriptors its route's (or virtual host's) `rate_limits` build
// and where they would be sent. Whether a token is left, or what the service answers, depends on
// traffic: the view says what is asked, not the answer. Pure.
import type { Listener, ProxyConfig, Route } from "../model/proxy-config.ts";
import { GLOBAL_RATE_LIMIT_FILTER, KIND_RULE_KEY as RULE_KEY, LOCAL_RATE_LIMIT_FILTER, type GlobalRateLimitConfig, type LocalRateLimitConfig } from "../model/rate-limit.ts";
import { matches } from "../proxy/http/filters/local-ratelimit/descriptor-buckets.ts";
import { buildDescriptors, policiesOf } from "../proxy/http/filters/ratelimit/descriptors.ts";
import type { RequestView } from "../proxy/router/index.ts";
import { formatMs } from "./policy-text.ts";

export interface RateLimitView {
  local?: { statPrefix: string; from: "route" | "listener"; summary: string };
  global?: { domain: string; cluster: string; descriptors: { key: string; value: string }[][]; summary: string };
  /** The RateLimit (amime.dev) rules this request falls under, local and global. */
  rules?: RuleHit[];
}

export interface RuleHit {
  /** `<namespace>/<name>/<rule name or index>`. */
  rule: string;
  scope: "local" | "global";
  /** e.g. `5 per 1m`. */
  limit: string;
  /** The key's entry for this request (`x-user="alice"`), absent for a rule without a key. */
  key?: string;
}

const UNIT_TEXT: Record<string, string> = { SECOND: "1s", MINUTE: "1m", HOUR: "1h", DAY: "1d" };

/** The RateLimit rules a request falls under on these filters (their descriptors carrying amime_ratelimit_rule). */
function ruleHits(filters: readonly { name: string; config?: unknown }[], route: Route, view: RequestView, target: string): RuleHit[] {
  const out: RuleHit[] = [];
  const keyText = (entries: readonly { key: string; value: string }[]): { key?: string } => {
    const k = entries[1];
    return k === undefined ? {} : { key: `${k.key}=${JSON.stringify(k.value)}` };
  };
  for (const f of filters) {
    if (f.name === LOCAL_RATE_LIMIT_FILTER) {
      const c = f.config as LocalRateLimitConfig | undefined;
      if (c?.descriptors === undefined) continue;
      for (const d of buildDescriptors(view, c.rateLimits ?? policiesOf(route.rateLimits), 0, target)) {
        const rule = d.entries[0]?.key === RULE_KEY ? d.entries[0].value : undefined;
        const hit = c.descriptors.find((cd) => matches(cd.entries, d.entries));
        if (rule === undefined || hit === undefined) continue;
        out.push({ rule, scope: "local", limit: `${hit.tokenBucket.maxTokens} per ${formatMs(hit.tokenBucket.fillIntervalMs)}`, ...keyText(d.entries) });
      }
    } else if (f.name === GLOBAL_RATE_LIMIT_FILTER) {
      const c = f.config as GlobalRateLimitConfig;
      for (const d of buildDescriptors(view, c.rateLimits ?? policiesOf(route.rateLimits), c.stage, target)) {
        const rule = d.entries[0]?.key === RULE_KEY ? d.entries[0].value : undefined;
        if (rule === undefined || d.limit === undefined) continue;
        out.push({ rule, scope: "global", limit: `${d.limit.requests_per_unit} per ${UNIT_TEXT[d.limit.unit] ?? d.limit.unit}`, ...keyText(d.entries) });
      }
    }
  }
  return out;
}

function percent(perMillion: number): string {
  return `${perMillion / 10_000}%`;
}

function localSummary(c: LocalRateLimitConfig): string {
  const b = c.tokenBucket;
  const n = c.descriptors?.length ?? 0;
  if (b === undefined) return n > 0 ? `${n} descriptor bucket(s) only: a request matching none is not limited` : "no bucket here: nothing is limited";
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
    const descriptors = buildDescriptors(view, c.rateLimits ?? policiesOf(route.rateLimits), c.stage, target).map((d) => d.entries);
    const onError = c.failureModeDeny ? "500 (RLSE) if it fails" : "let through if it fails";
    const summary = descriptors.length === 0
      ? "no descriptor for this request: the rate-limit service is not called"
      : `asks domain ${JSON.stringify(c.domain)} at ${c.cluster} (timeout ${c.timeoutMs === 0 ? "none" : formatMs(c.timeoutMs)}): 429 if over the limit, ${onError}`;
    out.global = { domain: c.domain, cluster: c.cluster, descriptors, summary };
  }
  const target = route.action.kind === "forward" ? (route.action.clusters[0]?.cluster ?? "") : "";
  const rules = ruleHits(filters, route, view, target);
  if (rules.length > 0) out.rules = rules;
  return out.local === undefined && out.global === undefined ? undefined : out;
}

/**
 * The rate limits at a destination workload's inbound listener on `port` (where RateLimit
 * resources put theirs), for `view` as that workload would see it; null when no such listener.
 */
export function explainInboundRateLimits(dest: ProxyConfig, port: number, view: RequestView): { node: string; listener: string; limits: RateLimitView | undefined } | null {
  const listener = dest.listeners.find((l) => l.direction === "inbound" && l.port === port && l.protocol !== "tcp");
  if (listener === undefined) return null;
  const routes = dest.routes.find((r) => r.name === listener.routeConfigName)?.virtualHosts.flatMap((v) => v.routes) ?? [];
  const route = routes.find((r) => r.match.port === port) ?? routes[0];
  return { node: dest.node.id, listener: listener.name, limits: route === undefined ? undefined : explainRateLimits(listener, route, view) };
}
