// Which of an EnvoyFilter's patches translation applies (control-plane/translate/rate-limit/apply.ts
// applies them) and which it does not, with field paths and reasons: `analyze` reports the latter
// (AMM1013). Only the rate-limit patches are applied: `local_ratelimit` and the global `ratelimit`
// HTTP filter, and HTTP_ROUTE / VIRTUAL_HOST patches of SIDECAR_INBOUND and GATEWAY routes. Pure.
import type { GlobalRateLimitConfig, LocalRateLimitConfig, RateLimitPolicy } from "../../model/rate-limit.ts";
import type { Problem } from "./envoy-config.ts";
import { envoyFilterRateLimits, type PatchContext, type RateLimitPatch } from "./rate-limits.ts";

export interface LocalFilterPatch {
  kind: "filter";
  context: PatchContext;
  port?: number;
  filter: { name: "local_ratelimit"; config: LocalRateLimitConfig } | { name: "ratelimit"; config: GlobalRateLimitConfig };
}

/** What a route or virtual host patch puts on the routes it matches. */
export interface RoutePatchBody {
  /** The per-route local_ratelimit config. */
  local?: LocalRateLimitConfig;
  /** `rate_limits`, appended to the routes' own (HTTP_ROUTE) or their virtual host's (VIRTUAL_HOST). */
  rateLimits?: { level: "route" | "virtualHost"; policies: RateLimitPolicy[] };
}

/** A per-route config for a gateway's routes: Istio's vhost `<host>:<port>` and route (HTTPRoute) names, as ours. */
export interface GatewayRoutePatch {
  kind: "gateway-route";
  /** Absent: every virtual host. */
  vhost?: string;
  /** The VirtualService http route's name; absent: every route. */
  route?: string;
  body: RoutePatchBody;
}

export interface LocalRoutePatch {
  kind: "route";
  /** The listening port of the Istio vhost name `inbound|http|<port>`; absent: every inbound route. */
  port?: number;
  body: RoutePatchBody;
}

export interface AppliedPatches {
  patches: (LocalFilterPatch | LocalRoutePatch | GatewayRoutePatch)[];
  /** Field paths (from `spec`) and reasons of every patch, or part of one, not applied. */
  notApplied: Problem[];
}

const memo = new WeakMap<object, AppliedPatches>();

/** The patches of an EnvoyFilter spec that translation applies, and what it does not. Pure. */
export function appliedPatches(spec: unknown): AppliedPatches {
  if (typeof spec === "object" && spec !== null) {
    const hit = memo.get(spec);
    if (hit !== undefined) return hit;
  }
  const out: AppliedPatches = { patches: [], notApplied: [] };
  const s = (typeof spec === "object" && spec !== null ? spec : {}) as Record<string, unknown>;
  // Resource-level problems (targetRefs, priority) stop the whole resource: its selection would be wrong.
  const whole = envoyFilterRateLimits({ ...s, configPatches: [] });
  out.notApplied.push(...whole.notApplied);
  const list = Array.isArray(s.configPatches) ? s.configPatches : [];
  list.forEach((p, i) => {
    const one = envoyFilterRateLimits({ configPatches: [p] });
    const fix = (q: Problem): Problem => ({ path: q.path.replace("spec.configPatches[0]", `spec.configPatches[${i}]`), message: q.message });
    if (one.notApplied.length > 0) return void out.notApplied.push(...one.notApplied.map(fix));
    const patch = one.patches[0];
    if (patch === undefined) return;
    const problem = localPatch(patch, `spec.configPatches[${i}]`);
    if ("message" in problem) out.notApplied.push(problem);
    else if (whole.notApplied.length === 0) out.patches.push(problem);
  });
  if (typeof spec === "object" && spec !== null) memo.set(spec, out);
  return out;
}

const VHOST = /^inbound\|http\|(\d+)$/;

function localPatch(p: RateLimitPatch, path: string): LocalFilterPatch | LocalRoutePatch | GatewayRoutePatch | Problem {
  if (p.applyTo === "HTTP_FILTER") {
    if (p.port !== undefined && p.context === "SIDECAR_OUTBOUND") return { path: `${path}.match.listener.portNumber`, message: "the sidecar's outbound side is one HTTP listener for every port: a portNumber does not select it" };
    return { kind: "filter", context: p.context, ...(p.port !== undefined ? { port: p.port } : {}), filter: p.filter };
  }
  const body: RoutePatchBody = {};
  if (p.local !== undefined) body.local = p.local;
  if (p.rateLimits !== undefined) body.rateLimits = { level: p.applyTo === "VIRTUAL_HOST" ? "virtualHost" : "route", policies: p.rateLimits };
  if (p.context === "GATEWAY") return { kind: "gateway-route", ...(p.vhost !== undefined ? { vhost: p.vhost } : {}), ...(p.route !== undefined ? { route: p.route } : {}), body };
  if (p.context !== "SIDECAR_INBOUND") return { path: `${path}.match.context`, message: `per-route rate limits are applied to SIDECAR_INBOUND and GATEWAY routes only, not ${p.context}` };
  if (p.route !== undefined && p.route !== "default") return { path: `${path}.match.routeConfiguration.vhost.route.name`, message: `the inbound route is named "default"; ${JSON.stringify(p.route)} matches none` };
  if (p.vhost === undefined) return { kind: "route", body };
  const m = VHOST.exec(p.vhost);
  if (m === null) return { path: `${path}.match.routeConfiguration.vhost.name`, message: `inbound virtual hosts are named inbound|http|<port>; ${JSON.stringify(p.vhost)} matches none` };
  return { kind: "route", port: Number(m[1]), body };
}
