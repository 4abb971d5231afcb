// EnvoyFilters → the proxy's config, for the patches the sidecar runs: `local_ratelimit` and the
// global `ratelimit` filter inserted just before `router` in the HTTP filter lists of the
// listeners a patch matches (context, port), and the HTTP_ROUTE / VIRTUAL_HOST patches of
// SIDECAR_INBOUND as per-route `local_ratelimit` configs and `rateLimits` on the inbound routes
// (Istio's vhost `inbound|http|<port>` = our inbound route `inbound|<port>||`; its route `default`
// = every one of them), those of GATEWAY on the gateway's routes (vhost `host:port` and route
// names are Istio's already). A VIRTUAL_HOST patch's `rate_limits` go to every route of the vhost
// as `rateLimits.virtualHost`, an HTTP_ROUTE patch's as `rateLimits.route` (MERGE appends lists). Selection as Istio's: an EnvoyFilter in the root
// namespace applies mesh-wide, one elsewhere to its namespace; `workloadSelector.labels` narrows it.
// `appliedPatches` is also what `analyze` asks (AMM1013 for every patch that is not applied).
import type { Listener, ProxyConfig, Route, RouteConfiguration } from "../../../model/proxy-config.ts";
import { LOCAL_RATE_LIMIT_FILTER, type GlobalRateLimitConfig, type LocalRateLimitConfig, type RateLimitPolicy } from "../../../model/rate-limit.ts";
import { labelsMatch } from "../../../model/registry.ts";
import type { Snapshot } from "../../../model/snapshot.ts";
import type { ProxyInput } from "../common.ts";
import { httpFilters, INBOUND_ROUTE_CONFIG } from "../listeners.ts";
import type { Problem } from "./envoy-config.ts";
import { envoyFilterRateLimits, type PatchContext, type RateLimitPatch } from "./envoy-filter.ts";

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

/** Does an EnvoyFilter in `namespace` with `spec` select `node`? (Istio: root namespace mesh-wide, else its own namespace.) */
function selects(snapshot: Snapshot, namespace: string, spec: Record<string, unknown>, node: ProxyInput): boolean {
  if (namespace !== snapshot.mesh.rootNamespace && namespace !== (node.namespace || "default")) return false;
  const ws = spec.workloadSelector as { labels?: Record<string, string> } | undefined;
  return ws?.labels === undefined || labelsMatch(ws.labels, node.labels);
}

/** Apply the selected EnvoyFilters' rate-limit patches to `config` (fresh per proxy: listeners and the inbound routes). */
export function applyRateLimits(snapshot: Snapshot, node: ProxyInput, config: ProxyConfig): void {
  if (snapshot.envoyFilters.length === 0) return;
  // Istio applies the root namespace's EnvoyFilters first, then the workload namespace's.
  const root = snapshot.mesh.rootNamespace;
  const entries = [...snapshot.envoyFilters.filter((e) => e.namespace === root), ...snapshot.envoyFilters.filter((e) => e.namespace !== root)];
  for (const entry of entries) {
    const spec = entry.spec as Record<string, unknown>;
    if (!selects(snapshot, entry.namespace, spec, node)) continue;
    for (const patch of appliedPatches(spec).patches) {
      if (patch.kind === "filter") {
        for (const l of config.listeners) if (listenerMatches(l, patch, node, config)) insertBeforeRouter(l, patch.filter);
      } else if (patch.kind === "gateway-route") {
        if (node.kind === "gateway") for (const rc of config.routes) patchGatewayRoutes(rc, patch);
      } else {
        const rc = config.routes.find((r) => r.name === INBOUND_ROUTE_CONFIG);
        if (rc !== undefined && node.kind !== "gateway") patchRoutes(rc, patch);
      }
    }
  }
}

function listenerMatches(l: Listener, p: LocalFilterPatch, node: ProxyInput, config: ProxyConfig): boolean {
  if (l.protocol === "tcp") return false;
  const gateway = node.kind === "gateway";
  const ctx = p.context;
  if (ctx === "GATEWAY" && !gateway) return false;
  if (ctx === "SIDECAR_INBOUND" && (gateway || l.direction !== "inbound")) return false;
  if (ctx === "SIDECAR_OUTBOUND" && (gateway || l.direction !== "outbound")) return false;
  if (p.port === undefined) return true;
  if (l.direction === "outbound") return false;
  // A gateway listener keeps its server port in the route name (`http.<port>`) even when bound elsewhere.
  return l.direction === "gateway" ? l.routeConfigName === `http.${p.port}` : inboundPort(l, config) === p.port;
}

/**
 * The port Istio names an inbound listener by: the workload's port (`inbound|9080||`), which the
 * local runtime may bind elsewhere; its inbound route (matched on the bound port) carries the name.
 */
function inboundPort(l: Listener, config: ProxyConfig): number {
  const rc = config.routes.find((r) => r.name === INBOUND_ROUTE_CONFIG);
  const route = rc?.virtualHosts.flatMap((v) => v.routes).find((r) => r.match.port === l.port);
  const m = route === undefined ? null : /^inbound\|(\d+)\|\|$/.exec(route.name);
  return m === null ? l.port : Number(m[1]);
}

function insertBeforeRouter(l: Listener, filter: LocalFilterPatch["filter"]): void {
  const list = [...(l.httpFilters ?? httpFilters())];
  const router = list.findIndex((f) => f.name === "router");
  list.splice(router < 0 ? list.length : router, 0, { name: filter.name, config: filter.config });
  l.httpFilters = list;
}

/** A route patch's body onto one route (routes are fresh per proxy here: inbound and gateway ones). */
function patchRoute(r: Route, body: RoutePatchBody): void {
  if (body.local !== undefined) r.filterConfig = { ...r.filterConfig, [LOCAL_RATE_LIMIT_FILTER]: body.local };
  const rl = body.rateLimits;
  if (rl === undefined) return;
  const have = r.rateLimits ?? { route: [], virtualHost: [] };
  r.rateLimits = { ...have, [rl.level]: [...have[rl.level], ...rl.policies] };
}

function patchRoutes(rc: RouteConfiguration, p: LocalRoutePatch): void {
  for (const vh of rc.virtualHosts) {
    for (const r of vh.routes) {
      // Istio's vhost inbound|http|<port> names the workload's port, as our route (`inbound|<port>||`) does.
      if (p.port !== undefined && r.name !== `inbound|${p.port}||`) continue;
      patchRoute(r, p.body);
    }
  }
}

/** A gateway's route configurations (`http.<port>`, fresh per gateway): vhost `host:port` and route names as Istio's. */
function patchGatewayRoutes(rc: RouteConfiguration, p: GatewayRoutePatch): void {
  for (const vh of rc.virtualHosts) {
    if (p.vhost !== undefined && vh.name !== p.vhost) continue;
    for (const r of vh.routes) {
      // Our route name is the HTTPRoute's name, plus "." and the match's name when it has one.
      if (p.route !== undefined && r.name !== p.route && !r.name.startsWith(`${p.route}.`)) continue;
      patchRoute(r, p.body);
    }
  }
}
