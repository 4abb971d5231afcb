// Which of an EnvoyFilter's patches configure rate limiting, and how: the HTTP_FILTER patches that
// insert envoy.filters.http.local_ratelimit or envoy.filters.http.ratelimit, and the HTTP_ROUTE /
// VIRTUAL_HOST MERGE patches that add their per-route config (typed_per_filter_config) or
// `rate_limits` — the shapes of Istio's "Enabling Rate Limits using Envoy" task. Every other patch,
// and any part of these the sidecar cannot run, is listed in `notApplied` with its field path, so
// the resource keeps its AMM1013 warning and says why. Pure.
import type { GlobalRateLimitConfig, LocalRateLimitConfig, RateLimitPolicy } from "../../model/rate-limit.ts";
import { globalRateLimit, localRateLimit, rateLimitPolicies, unwrapTyped, type Json, type Problem } from "./envoy-config.ts";

export type PatchContext = "ANY" | "SIDECAR_INBOUND" | "SIDECAR_OUTBOUND" | "GATEWAY";

/** A filter to insert into the HTTP filter lists of the listeners the patch matches. */
export interface RateLimitFilterPatch {
  applyTo: "HTTP_FILTER";
  context: PatchContext;
  /** listener.portNumber, when the patch names one. */
  port?: number;
  filter: { name: "local_ratelimit"; config: LocalRateLimitConfig } | { name: "ratelimit"; config: GlobalRateLimitConfig };
}

/** Per-route config for the routes (or every route of the virtual hosts) the patch matches. */
export interface RateLimitRoutePatch {
  applyTo: "HTTP_ROUTE" | "VIRTUAL_HOST";
  context: PatchContext;
  /** routeConfiguration.vhost.name; absent or "" matches any. */
  vhost?: string;
  /** routeConfiguration.vhost.route.name (HTTP_ROUTE only); absent matches any. */
  route?: string;
  local?: LocalRateLimitConfig;
  rateLimits?: RateLimitPolicy[];
}

export type RateLimitPatch = RateLimitFilterPatch | RateLimitRoutePatch;

export interface EnvoyFilterRateLimits {
  patches: RateLimitPatch[];
  /** Field paths (from `spec`) and reasons of everything not applied. Empty: the whole resource applies. */
  notApplied: Problem[];
}

const FILTER_NAMES: Record<string, "local" | "global"> = {
  "envoy.filters.http.local_ratelimit": "local",
  "envoy.filters.http.ratelimit": "global",
};
const CONTEXTS = new Set(["ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY"]);
const INSERTS = new Set(["INSERT_BEFORE", "INSERT_AFTER", "INSERT_FIRST", "ADD"]);
const HCM = new Set(["envoy.filters.network.http_connection_manager", "envoy.http_connection_manager"]);

function obj(v: Json): Record<string, Json> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : undefined;
}

export function envoyFilterRateLimits(spec: Json): EnvoyFilterRateLimits {
  const patches: RateLimitPatch[] = [];
  const notApplied: Problem[] = [];
  const s = obj(spec) ?? {};
  if (s.targetRefs !== undefined) notApplied.push({ path: "spec.targetRefs", message: "targetRefs are not applied (use workloadSelector)" });
  if (s.priority !== undefined && s.priority !== 0) notApplied.push({ path: "spec.priority", message: "priority is not applied" });
  const list = Array.isArray(s.configPatches) ? s.configPatches : [];
  list.forEach((p, i) => {
    const path = `spec.configPatches[${i}]`;
    const problems: Problem[] = [];
    const patch = onePatch(obj(p) ?? {}, path, problems);
    if (problems.length > 0) notApplied.push(...problems);
    else if (patch !== undefined) patches.push(patch);
  });
  return { patches, notApplied };
}

function onePatch(p: Record<string, Json>, path: string, problems: Problem[]): RateLimitPatch | undefined {
  const match = obj(p.match) ?? {};
  const context = String(match.context ?? "ANY");
  if (!CONTEXTS.has(context)) {
    problems.push({ path: `${path}.match.context`, message: `context ${context} is not applied` });
    return undefined;
  }
  for (const k of ["proxy", "cluster"]) if (match[k] !== undefined) problems.push({ path: `${path}.match.${k}`, message: `match.${k} is not applied` });
  const patch = obj(p.patch) ?? {};
  const op = String(patch.operation ?? "");
  const value = obj(patch.value) ?? {};
  const vpath = `${path}.patch.value`;
  if (p.applyTo === "HTTP_FILTER") {
    if (!INSERTS.has(op)) return void problems.push({ path: `${path}.patch.operation`, message: `${op} of an HTTP filter is not applied (INSERT_BEFORE, INSERT_AFTER, INSERT_FIRST, ADD are)` });
    const kind = FILTER_NAMES[String(value.name)];
    if (kind === undefined) return void problems.push({ path: `${vpath}.name`, message: `the HTTP filter ${JSON.stringify(value.name)} is not applied (only envoy.filters.http.local_ratelimit and envoy.filters.http.ratelimit are)` });
    const listener = obj(match.listener) ?? {};
    for (const k of Object.keys(listener)) if (k !== "filterChain" && k !== "portNumber") problems.push({ path: `${path}.match.listener.${k}`, message: `listener.${k} is not applied` });
    const chain = obj(listener.filterChain) ?? {};
    for (const k of Object.keys(chain)) if (k !== "filter") problems.push({ path: `${path}.match.listener.filterChain.${k}`, message: `filterChain.${k} is not applied` });
    const filter = obj(chain.filter);
    if (filter !== undefined && filter.name !== undefined && !HCM.has(String(filter.name))) problems.push({ path: `${path}.match.listener.filterChain.filter.name`, message: "an HTTP filter goes into the http_connection_manager" });
    // The position is Istio's: rate limiting sits just before the router in the sidecar's list
    // whatever sub-filter the patch anchors on, as the task's INSERT_BEFORE router does.
    const typed = unwrapTyped(value.typed_config, `${vpath}.typed_config`, problems);
    if (typed === undefined) return undefined;
    if (typed.type !== kind) return void problems.push({ path: `${vpath}.typed_config`, message: `the config of ${String(value.name)} must be its own type` });
    const out: RateLimitFilterPatch = {
      applyTo: "HTTP_FILTER",
      context: context as PatchContext,
      filter: kind === "local" ? { name: "local_ratelimit", config: localRateLimit(typed.body, typed.path, problems) } : { name: "ratelimit", config: globalRateLimit(typed.body, typed.path, problems) },
    };
    if (typeof listener.portNumber === "number") out.port = listener.portNumber;
    return out;
  }
  if (p.applyTo === "HTTP_ROUTE" || p.applyTo === "VIRTUAL_HOST") {
    if (op !== "MERGE") return void problems.push({ path: `${path}.patch.operation`, message: `${op} of a ${p.applyTo} is not applied (MERGE is)` });
    const rc = obj(match.routeConfiguration) ?? {};
    for (const k of Object.keys(rc)) if (k !== "vhost") problems.push({ path: `${path}.match.routeConfiguration.${k}`, message: `routeConfiguration.${k} is not applied` });
    const vhost = obj(rc.vhost) ?? {};
    const route = obj(vhost.route) ?? {};
    if (route.action !== undefined && route.action !== "ANY") problems.push({ path: `${path}.match.routeConfiguration.vhost.route.action`, message: "only action ANY is applied" });
    const out: RateLimitRoutePatch = { applyTo: p.applyTo, context: context as PatchContext };
    if (typeof vhost.name === "string" && vhost.name !== "") out.vhost = vhost.name;
    if (p.applyTo === "HTTP_ROUTE" && typeof route.name === "string" && route.name !== "") out.route = route.name;
    // A route's rate_limits live under `route` (RouteAction); a virtual host's at its top level.
    const holder = p.applyTo === "HTTP_ROUTE" ? obj(value.route) : value;
    const holderPath = p.applyTo === "HTTP_ROUTE" ? `${vpath}.route` : vpath;
    for (const k of Object.keys(value)) {
      if (k === "typed_per_filter_config") continue;
      if (p.applyTo === "HTTP_ROUTE" && k === "route") continue;
      if (p.applyTo === "VIRTUAL_HOST" && k === "rate_limits") continue;
      problems.push({ path: `${vpath}.${k}`, message: `${k} is not applied` });
    }
    if (holder !== undefined && p.applyTo === "HTTP_ROUTE") for (const k of Object.keys(holder)) if (k !== "rate_limits") problems.push({ path: `${holderPath}.${k}`, message: `route.${k} is not applied` });
    if (holder?.rate_limits !== undefined) out.rateLimits = rateLimitPolicies(holder.rate_limits, `${holderPath}.rate_limits`, problems);
    const perFilter = obj(value.typed_per_filter_config) ?? {};
    for (const [name, cfg] of Object.entries(perFilter)) {
      const here = `${vpath}.typed_per_filter_config.${name}`;
      if (FILTER_NAMES[name] !== "local") {
        problems.push({ path: here, message: `per-route config of ${name} is not applied (envoy.filters.http.local_ratelimit's is)` });
        continue;
      }
      const typed = unwrapTyped(cfg, here, problems);
      if (typed?.type === "local") out.local = localRateLimit(typed.body, typed.path, problems);
    }
    if (out.local === undefined && out.rateLimits === undefined) problems.push({ path: vpath, message: "configures no rate limit" });
    return out;
  }
  problems.push({ path: `${path}.applyTo`, message: `applyTo ${String(p.applyTo)} is not applied` });
  return undefined;
}
