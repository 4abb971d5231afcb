// VirtualService http rules → Routes, in order. Each match entry becomes its own Route (with its
// origin: rule and match index, file and line); a rule without match is one catch-all Route, and
// nothing after a catch-all is reachable, so translation stops there as Istio does. sourceLabels,
// sourceNamespace and match-level gateways are decided here, against the proxy's node.
import type { Destination, HTTPMatchRequest, HTTPRoute, VirtualServiceSpec } from "../../model/specs/networking.ts";
import { clusterKey, type ForwardAction, type MirrorPolicy, type Route, type RouteAction, type RouteMatch, type RouteOrigin, type WeightedCluster } from "../../model/proxy-config.ts";
import { labelsMatch } from "../../model/registry.ts";
import { resolveHost, type ConfigEntry } from "../../model/snapshot.ts";
import { usesConsistentHash } from "./clusters.ts";
import { arr, durationMs, num, obj, str, strMap } from "./common.ts";
import {
  corsPolicy, directResponseAction, faultPolicy, headerOperations, isCatchAll, mirrorPercent, redirectAction, retryPolicy, rewritePolicy, routeMatch,
} from "./route-parts.ts";
import type { ProxyScope } from "./scope.ts";

export interface RouteContext {
  scope: ProxyScope;
  /** Port of the virtual host being built (service port, or gateway server port). */
  port: number;
  /** `namespace/name` of the Gateway when building gateway routes; absent for sidecars (the `mesh` gateway). */
  gateway?: string;
}

type VsEntry = ConfigEntry<VirtualServiceSpec>;

/** `name`, `ns/name` or a legacy FQDN `name.ns.svc.<suffix>` → `ns/name`; `mesh` stays `mesh`. */
export function gatewayRef(g: string, vsNamespace: string): string {
  if (g === "mesh") return g;
  const slash = g.indexOf("/");
  if (slash >= 0) return g;
  const dot = g.indexOf(".");
  if (dot > 0) {
    const rest = g.slice(dot + 1).split(".");
    return `${rest[0] ?? vsNamespace}/${g.slice(0, dot)}`;
  }
  return `${vsNamespace}/${g}`;
}

function boundTo(gateways: readonly string[] | undefined, vsNamespace: string, ctx: RouteContext): boolean {
  const list = arr(gateways as string[]).filter((g): g is string => typeof g === "string");
  const effective = list.length === 0 ? ["mesh"] : list;
  const want = ctx.gateway ?? "mesh";
  return effective.some((g) => gatewayRef(g, vsNamespace) === want);
}

/** Whether a VirtualService applies in this context (gateways absent = `mesh`). */
export function virtualServiceApplies(vs: VsEntry, ctx: RouteContext): boolean {
  return boundTo(vs.spec.gateways, vs.namespace, ctx);
}

/** A match entry survives when its source conditions hold for this proxy and its port fits the virtual host. */
function matchApplies(m: HTTPMatchRequest, vs: VsEntry, topGateways: string[] | undefined, ctx: RouteContext): boolean {
  const node = ctx.scope.node;
  const sl = strMap(m.sourceLabels);
  if (sl && !labelsMatch(sl, node.labels)) return false;
  if (str(m.sourceNamespace) && m.sourceNamespace !== node.namespace) return false;
  if (!boundTo(arr(m.gateways).length > 0 ? m.gateways : topGateways, vs.namespace, ctx)) return false;
  const port = num(m.port);
  return port === undefined || port === 0 || port === ctx.port;
}

export function virtualServiceRoutes(vs: VsEntry, ctx: RouteContext): Route[] {
  const out: Route[] = [];
  const rules = arr(vs.spec.http);
  for (let i = 0; i < rules.length; i++) {
    const rule = obj(rules[i]);
    if (!rule) continue;
    const delegate = obj(rule.delegate);
    if (delegate && str(delegate.name)) {
      const { routes, catchAll } = delegateRoutes(vs, i, rule, ctx);
      out.push(...routes);
      if (catchAll) break;
      continue;
    }
    const { routes, catchAll } = ruleRoutes(vs, i, rule, ctx, undefined);
    out.push(...routes);
    if (catchAll) break;
  }
  return out;
}

function ruleRoutes(vs: VsEntry, i: number, rule: HTTPRoute, ctx: RouteContext, parentMatches: HTTPMatchRequest[] | undefined): { routes: Route[]; catchAll: boolean } {
  const pos = vs.positionOf(["spec", "http", i]);
  const origin = (j: number): RouteOrigin => ({ resource: vs.id, ruleIndex: i, matchIndex: j, file: pos.file, line: pos.line });
  const action = routeAction(rule, vs.namespace, ctx);
  if (!action) return { routes: [], catchAll: false };
  const headers = headerOperations(rule.headers);
  const base = str(rule.name) ?? "";
  // Each route owns its action and headers: the first takes the ones just built, later matches of
  // the rule copies (one match per rule is the common case, and a copy per rule was ≈ 15 % of a
  // 1,000-service outbound route configuration's time).
  let made = 0;
  const make = (match: RouteMatch, j: number, matchName: string | undefined): Route => {
    const first = made++ === 0;
    return {
      name: [base, matchName].filter((x) => x).join("."),
      match,
      action: first ? action : structuredClone(action),
      ...(headers ? { headers: first ? headers : structuredClone(headers) } : {}),
      origin: origin(j),
    };
  };
  const own = arr(rule.match).map((m) => obj(m)).filter((m): m is HTTPMatchRequest => m !== undefined);
  const topGateways = vs.spec.gateways;
  // Delegated rules: each root match ANDed with each delegate match.
  const entries: { m: HTTPMatchRequest; j: number }[] = [];
  if (parentMatches && parentMatches.length > 0) {
    const childList = own.length > 0 ? own : [undefined];
    childList.forEach((c, j) => {
      for (const p of parentMatches) {
        const merged = mergeMatch(p, c);
        if (merged) entries.push({ m: merged, j: c ? j : -1 });
      }
    });
  } else {
    own.forEach((m, j) => entries.push({ m, j }));
  }
  if (entries.length === 0 && own.length === 0 && !(parentMatches && parentMatches.length > 0)) {
    return { routes: [make(routeMatch(undefined), -1, undefined)], catchAll: true };
  }
  const routes: Route[] = [];
  let catchAll = false;
  for (const { m, j } of entries) {
    if (!matchApplies(m, vs, topGateways, ctx)) continue;
    const rm = routeMatch(m, ctx.gateway !== undefined);
    routes.push(make(rm, j, str(m.name)));
    if (isCatchAll(rm)) {
      catchAll = true;
      break;
    }
  }
  return { routes, catchAll };
}

/**
 * Istio delegation: the root rule's matches AND the delegate's; the delegate supplies everything
 * else. Only one level (a delegate's own `delegate` is ignored, as Istio does).
 */
function delegateRoutes(root: VsEntry, i: number, rule: HTTPRoute, ctx: RouteContext): { routes: Route[]; catchAll: boolean } {
  const name = rule.delegate!.name!;
  const ns = str(rule.delegate!.namespace) ?? root.namespace;
  const child = ctx.scope.snapshot.virtualServices.find((v) => v.name === name && v.namespace === ns && arr(v.spec.hosts).length === 0);
  if (!child) return { routes: [], catchAll: false };
  const parent = arr(rule.match).map((m) => obj(m)).filter((m): m is HTTPMatchRequest => m !== undefined);
  const parentApplicable = parent.filter((m) => matchApplies(m, root, root.spec.gateways, ctx));
  if (parent.length > 0 && parentApplicable.length === 0) return { routes: [], catchAll: false };
  const out: Route[] = [];
  const rules = arr(child.spec.http);
  // The delegate inherits the root's gateway binding.
  const childEntry: VsEntry = { ...child, spec: { ...child.spec, gateways: root.spec.gateways } };
  for (let k = 0; k < rules.length; k++) {
    const r = obj(rules[k]);
    if (!r || obj(r.delegate)) continue;
    const { routes, catchAll } = ruleRoutes(childEntry, k, r, ctx, parentApplicable.length > 0 ? parentApplicable : undefined);
    out.push(...routes);
    if (catchAll) return { routes: out, catchAll: true };
  }
  return { routes: out, catchAll: false };
}

/** AND two match entries; undefined when they cannot both hold (conflicting uri, method…). */
function mergeMatch(parent: HTTPMatchRequest, child: HTTPMatchRequest | undefined): HTTPMatchRequest | undefined {
  if (!child) return parent;
  const out: HTTPMatchRequest = { ...parent, ...child };
  if (parent.uri && child.uri) {
    // The delegate's uri must narrow the root's prefix (Istio's rule); otherwise the pair never matches.
    const pp = parent.uri.prefix;
    const c = child.uri.exact ?? child.uri.prefix;
    if (pp === undefined || c === undefined || !c.startsWith(pp)) {
      if (JSON.stringify(parent.uri) !== JSON.stringify(child.uri)) return undefined;
    }
    out.uri = child.uri;
  }
  for (const f of ["scheme", "method", "authority"] as const) {
    if (parent[f] && child[f] && JSON.stringify(parent[f]) !== JSON.stringify(child[f])) return undefined;
  }
  out.headers = { ...obj(parent.headers), ...obj(child.headers) };
  out.withoutHeaders = { ...obj(parent.withoutHeaders), ...obj(child.withoutHeaders) };
  out.queryParams = { ...obj(parent.queryParams), ...obj(child.queryParams) };
  out.sourceLabels = { ...obj(parent.sourceLabels), ...obj(child.sourceLabels) };
  if (parent.port && child.port && parent.port !== child.port) return undefined;
  return out;
}

function routeAction(rule: HTTPRoute, ns: string, ctx: RouteContext): RouteAction | undefined {
  if (obj(rule.redirect)) return redirectAction(rule.redirect!);
  if (obj(rule.directResponse)) return directResponseAction(rule.directResponse!);
  const dests = arr(rule.route).map((d) => obj(d)).filter((d) => d !== undefined && obj(d.destination) !== undefined);
  // Envoy has no zero-weight destination: Istio drops them when there are several.
  const live = dests.length > 1 ? dests.filter((d) => (num(d!.weight) ?? 0) > 0) : dests;
  if (live.length === 0) return undefined;
  let consistentHash = false;
  const clusters: WeightedCluster[] = live.map((d) => {
    const target = destinationCluster(d!.destination!, ns, ctx);
    if (usesConsistentHash(ctx.scope, target.host, target.subset, target.port)) consistentHash = true;
    const headers = headerOperations(d!.headers);
    return { cluster: target.cluster, weight: live.length === 1 ? 100 : num(d!.weight) ?? 0, ...(headers ? { headers } : {}) };
  });
  const mirrors: MirrorPolicy[] = [];
  if (obj(rule.mirror)) mirrors.push({ cluster: destinationCluster(rule.mirror!, ns, ctx).cluster, percentage: mirrorPercent(rule.mirrorPercentage, rule.mirrorPercent) });
  for (const m of arr(rule.mirrors)) {
    if (obj(m) && obj(m.destination)) mirrors.push({ cluster: destinationCluster(m.destination!, ns, ctx).cluster, percentage: mirrorPercent(m.percentage) });
  }
  const action: ForwardAction = {
    kind: "forward",
    clusters,
    timeoutMs: durationMs(rule.timeout) ?? 0,
    retry: retryPolicy(rule.retries, consistentHash),
    mirrors,
  };
  const fault = faultPolicy(rule.fault);
  if (fault) action.fault = fault;
  const rewrite = rewritePolicy(rule.rewrite);
  if (rewrite) action.rewrite = rewrite;
  const cors = corsPolicy(rule.corsPolicy);
  if (cors) action.cors = cors;
  return action;
}

/**
 * Istio's destination port: Destination.port, else the only port of the service, else the port
 * the request came in on (the virtual host's port).
 */
export function destinationCluster(d: Destination, ns: string, ctx: RouteContext): { cluster: string; host: string; subset: string; port: number } {
  const host = resolveHost(str(d.host) ?? "", ns, ctx.scope.snapshot.mesh.domainSuffix);
  const subset = str(d.subset) ?? "";
  let port = num(obj(d.port)?.number);
  if (!port) {
    const svc = ctx.scope.serviceFor(host);
    port = svc && svc.ports.length === 1 ? svc.ports[0]!.port : ctx.port;
  }
  return { cluster: clusterKey("outbound", port, subset, host), host, subset, port };
}

/** The route Istio generates for a service without a VirtualService. */
export function defaultRoute(host: string, port: number, scope: ProxyScope): Route {
  const cluster = clusterKey("outbound", port, "", host);
  return {
    name: "default",
    match: routeMatch(undefined),
    action: { kind: "forward", clusters: [{ cluster, weight: 100 }], timeoutMs: 0, retry: retryPolicy(undefined, usesConsistentHash(scope, host, "", port)), mirrors: [] },
    origin: { resource: "default", ruleIndex: -1, matchIndex: -1 },
  };
}
