// Amime's RateLimit kind (amime.dev/v1alpha1) → the same proxy config the EnvoyFilter shape gives:
// on the inbound HTTP listeners of the workloads it selects (a gateway's listeners for a gateway),
// just before `router`,
// - its local rules as one `local_ratelimit` filter (stat prefix `amime_ratelimit`) with Envoy's
//   local `descriptors` and the `rate_limits` actions building them (LocalRateLimit.rate_limits):
//   per rule the entry `amime_ratelimit_rule = <namespace>/<name>/<rule name or index>` (a
//   `header_value_match` on the rule's match, or a `generic_key` without one) and, with a key, an
//   entry whose value is the key's (`request_headers`, `metadata` on jwt_authn's payload,
//   `source_principal`, `remote_address`) matched by a wildcard descriptor: a bucket per value;
// - its global rules as one `ratelimit` filter per rate-limit service, domain `amime-ratelimit`,
//   whose `rateLimits` build the same descriptors, each carrying its rule's limit
//   (RateLimitDescriptor.limit), which the service applies instead of its config's.
// Selection: `selector` labels (or every workload without one) in the resource's namespace, the
// root namespace's for the whole mesh; `service`: the workloads that Service selects. Pure.
import type { HeaderMatcher, Listener, ProxyConfig, StringMatch } from "../../../model/proxy-config.ts";
import type { GlobalRateLimitConfig, LocalDescriptor, LocalRateLimitConfig, RateLimitAction, RateLimitPolicy, RateLimitUnit } from "../../../model/rate-limit.ts";
import { GLOBAL_RATE_LIMIT_FILTER, KIND_RULE_KEY, LOCAL_RATE_LIMIT_FILTER } from "../../../model/rate-limit.ts";
import { labelsMatch } from "../../../model/registry.ts";
import type { ConfigEntry, Snapshot } from "../../../model/snapshot.ts";
import type { JsonObject } from "../../../model/resource.ts";
import type { ProxyInput } from "../common.ts";
import { httpFilters } from "../listeners.ts";
import { KIND_DOMAIN } from "../../../ratelimit-service/match.ts";

export { KIND_DOMAIN } from "../../../ratelimit-service/match.ts";
/** The descriptor entry naming a rule. */
export const RULE_KEY = KIND_RULE_KEY;
export const KIND_STAT_PREFIX = "amime_ratelimit";
/** Values of a keyed local rule that keep their own bucket (Envoy's max_dynamic_descriptors), per rule. */
export const KIND_MAX_KEYS = 10_000;
/**
 * The global rules' call deadline. Envoy's default (20 ms) is missed on a busy host, and a missed
 * call lets the request through; Istio's global task sets 10 s. One second bounds the added latency.
 */
export const KIND_RLS_TIMEOUT_MS = 1000;
/** The default rate-limit service: samples/ratelimit's gRPC port. */
export const DEFAULT_RLS = { name: "ratelimit", namespace: "default", port: 8081 };

const UNIT_MS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

interface RuleSpec {
  name?: string;
  match?: { uri?: StringMatch; method?: StringMatch; headers?: Record<string, StringMatch> };
  limit: { requests: number; per: "second" | "minute" | "hour" | "day" };
  key?: "sourcePrincipal" | "remoteAddress" | { header: string } | { claim: string };
  scope?: "local" | "global";
}

interface RateLimitSpec {
  selector?: { matchLabels?: Record<string, string> };
  service?: string;
  rules: RuleSpec[];
  rateLimitService?: { host: string; port: number };
  failureMode?: "allow" | "deny";
}

/** A rule as the proxies run it. */
export interface CompiledRule {
  /** The value of the rule's `amime_ratelimit_rule` entry: `<namespace>/<name>/<rule name or index>`. */
  id: string;
  scope: "local" | "global";
  policy: RateLimitPolicy;
  /** Local rules: the descriptor holding the bucket(s). */
  descriptor?: LocalDescriptor;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The rule's match as header matchers (`:path` carries the query, so an exact uri allows one). */
function matchers(m: RuleSpec["match"]): HeaderMatcher[] {
  const out: HeaderMatcher[] = [];
  if (m === undefined) return out;
  if (m.uri !== undefined) {
    const u = m.uri;
    const match: StringMatch = "exact" in u ? { regex: `${escapeRegex(u.exact)}(\\?.*)?` } : "prefix" in u ? u : { regex: `(${u.regex})(\\?.*)?` };
    out.push({ name: ":path", match, invert: false });
  }
  if (m.method !== undefined) out.push({ name: ":method", match: m.method, invert: false });
  for (const [name, sm] of Object.entries(m.headers ?? {})) out.push({ name, match: sm, invert: false });
  return out;
}

function keyAction(k: RuleSpec["key"]): RateLimitAction | null {
  if (k === undefined) return null;
  if (k === "remoteAddress") return { kind: "remote_address" };
  if (k === "sourcePrincipal") return { kind: "source_principal", descriptorKey: "source_principal" };
  if ("header" in k) return { kind: "request_headers", headerName: k.header, descriptorKey: k.header, skipIfAbsent: false };
  return { kind: "metadata", descriptorKey: k.claim, path: k.claim.split("."), defaultValue: "", skipIfAbsent: false };
}

/** The entry key a key action emits. */
function keyOf(a: RateLimitAction): string {
  return a.kind === "remote_address" ? "remote_address" : (a as { descriptorKey: string }).descriptorKey;
}

const compiled = new WeakMap<object, CompiledRule[]>();

/** A RateLimit's rules as proxies run them (memoized per spec object). */
export function compileRules(entry: ConfigEntry<JsonObject>): CompiledRule[] {
  const hit = compiled.get(entry.spec);
  if (hit !== undefined) return hit;
  const spec = entry.spec as unknown as RateLimitSpec;
  const out = (spec.rules ?? []).map((r, i): CompiledRule => {
    const id = `${entry.namespace}/${entry.name}/${r.name ?? i}`;
    const heads = matchers(r.match);
    const ruleAction: RateLimitAction = heads.length === 0 ? { kind: "generic_key", descriptorKey: RULE_KEY, descriptorValue: id } : { kind: "header_value_match", descriptorKey: RULE_KEY, descriptorValue: id, expectMatch: true, headers: heads };
    const key = keyAction(r.key);
    const actions = key === null ? [ruleAction] : [ruleAction, key];
    const scope = r.scope ?? "local";
    if (scope === "global") {
      return { id, scope, policy: { stage: 0, actions, limit: { requestsPerUnit: r.limit.requests, unit: r.limit.per.toUpperCase() as RateLimitUnit } } };
    }
    const entries = [{ key: RULE_KEY, value: id }, ...(key === null ? [] : [{ key: keyOf(key), value: "" }])];
    const tokenBucket = { maxTokens: r.limit.requests, tokensPerFill: r.limit.requests, fillIntervalMs: UNIT_MS[r.limit.per] as number };
    return { id, scope, policy: { stage: 0, actions }, descriptor: { entries, tokenBucket } };
  });
  compiled.set(entry.spec, out);
  return out;
}

/** Does this RateLimit select the proxy? */
export function selectsProxy(snapshot: Snapshot, entry: ConfigEntry<JsonObject>, node: ProxyInput): boolean {
  const spec = entry.spec as unknown as RateLimitSpec;
  const nodeNs = node.namespace || "default";
  if (spec.service !== undefined) {
    const svc = snapshot.services.find((s) => s.host === spec.service);
    return svc?.selector !== undefined && svc.namespace === nodeNs && labelsMatch(svc.selector, node.labels);
  }
  if (entry.namespace !== snapshot.mesh.rootNamespace && entry.namespace !== nodeNs) return false;
  return labelsMatch(spec.selector?.matchLabels, node.labels);
}

/** The proxy filters of the RateLimits selecting `node`, in the order they go before router. */
export function kindFilters(snapshot: Snapshot, node: ProxyInput): { name: string; config: LocalRateLimitConfig | GlobalRateLimitConfig }[] {
  const local: CompiledRule[] = [];
  const global = new Map<string, GlobalRateLimitConfig & { rateLimits: RateLimitPolicy[] }>();
  for (const entry of snapshot.rateLimits) {
    if (!selectsProxy(snapshot, entry, node)) continue;
    const spec = entry.spec as unknown as RateLimitSpec;
    for (const rule of compileRules(entry)) {
      if (rule.scope === "local") {
        local.push(rule);
        continue;
      }
      const host = spec.rateLimitService?.host ?? `${DEFAULT_RLS.name}.${DEFAULT_RLS.namespace}.svc.${snapshot.mesh.domainSuffix}`;
      const cluster = `outbound|${spec.rateLimitService?.port ?? DEFAULT_RLS.port}||${host}`;
      const deny = spec.failureMode === "deny";
      const k = `${cluster} ${deny}`;
      let f = global.get(k);
      if (f === undefined) {
        f = { domain: KIND_DOMAIN, stage: 0, failureModeDeny: deny, timeoutMs: KIND_RLS_TIMEOUT_MS, rateLimitedAsResourceExhausted: false, xRateLimitHeaders: true, cluster, authority: host, rateLimits: [] };
        global.set(k, f);
      }
      f.rateLimits.push(rule.policy);
    }
  }
  const out: { name: string; config: LocalRateLimitConfig | GlobalRateLimitConfig }[] = [];
  if (local.length > 0) out.push({ name: LOCAL_RATE_LIMIT_FILTER, config: localConfig(local) });
  for (const f of global.values()) out.push({ name: GLOBAL_RATE_LIMIT_FILTER, config: f });
  return out;
}

/** The local_ratelimit config of these local rules. */
export function localConfig(rules: readonly CompiledRule[]): LocalRateLimitConfig {
  return {
    statPrefix: KIND_STAT_PREFIX,
    enabledPerMillion: 1_000_000,
    enforcedPerMillion: 1_000_000,
    responseHeadersToAdd: [],
    status: 429,
    xRateLimitHeaders: true,
    rateLimits: rules.map((r) => r.policy),
    descriptors: rules.map((r) => r.descriptor as LocalDescriptor),
    maxDynamicDescriptors: KIND_MAX_KEYS,
  };
}

/** Puts the kind's filters onto the proxy's inbound (or gateway) HTTP listeners, before router. */
export function applyRateLimitKinds(snapshot: Snapshot, node: ProxyInput, config: ProxyConfig): void {
  if (snapshot.rateLimits.length === 0) return;
  const filters = kindFilters(snapshot, node);
  if (filters.length === 0) return;
  for (const l of config.listeners) {
    if (!servesRequests(l, node)) continue;
    const list = [...(l.httpFilters ?? httpFilters())];
    const router = list.findIndex((f) => f.name === "router");
    list.splice(router < 0 ? list.length : router, 0, ...filters);
    l.httpFilters = list;
  }
}

function servesRequests(l: Listener, node: ProxyInput): boolean {
  if (l.protocol === "tcp") return false;
  return node.kind === "gateway" ? l.direction === "gateway" : l.direction === "inbound";
}
