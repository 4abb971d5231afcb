// EnvoyFilters → the proxy's config, for the patches the sidecar runs: `local_ratelimit` and the
// global `ratelimit` filter inserted just before `router` in the HTTP filter lists of the
// listeners a patch matches (context, port), and the HTTP_ROUTE / VIRTUAL_HOST patches of
// SIDECAR_INBOUND as per-route `local_ratelimit` configs and `rateLimits` on the inbound routes
// (Istio's vhost `inbound|http|<port>` = our inbound route `inbound|<port>||`; its route `default`
// = every one of them), those of GATEWAY on the gateway's routes (vhost `host:port` and route
// names are Istio's already). A VIRTUAL_HOST patch's `rate_limits` go to every route of the vhost
// as `rateLimits.virtualHost`, an HTTP_ROUTE patch's as `rateLimits.route` (MERGE appends lists). Selection as Istio's: an EnvoyFilter in the root
// namespace applies mesh-wide, one elsewhere to its namespace; `workloadSelector.labels` narrows it.
// Which patches apply is decided in config/envoy-filter/applied-patches.ts (analyze asks it too).
import type { Listener, ProxyConfig, Route, RouteConfiguration } from "../../../model/proxy-config.ts";
import { LOCAL_RATE_LIMIT_FILTER } from "../../../model/rate-limit.ts";
import { labelsMatch } from "../../../model/registry.ts";
import type { Snapshot } from "../../../model/snapshot.ts";
import type { ProxyInput } from "../common.ts";
import { httpFilters, INBOUND_ROUTE_CONFIG } from "../listeners.ts";
import { appliedPatches, type GatewayRoutePatch, type LocalFilterPatch, type LocalRoutePatch, type RoutePatchBody } from "../../../config/envoy-filter/applied-patches.ts";

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
