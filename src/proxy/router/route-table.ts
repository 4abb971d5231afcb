// RouteTable: one RouteConfiguration compiled for per-request lookup. The domain maps are built
// when config arrives and every virtual host is compiled once then to check it (regexes, matchers:
// Envoy rejects such a config); `match` selects the virtual host by :authority and returns the first
// route whose conditions all hold (first match wins), allocating nothing: results are preallocated
// per route. A virtual host's compiled form is kept from its first request on (issue 15): a sidecar
// of a 1,000-service mesh calls a few of its 1,000 hosts, and their condition closures, results and
// lists were ≈ 0.8 MB of heap.

import type { Route, RouteConfiguration, VirtualHost } from "../../model/proxy-config.ts";
import { MatchContext } from "./match-context.ts";
import type { RequestView } from "./request-view.ts";
import type { Condition } from "./route-conditions.ts";
import { compileConditions } from "./route-conditions.ts";
import type { DomainMatch } from "./virtual-host-index.ts";
import { VirtualHostIndex } from "./virtual-host-index.ts";

export interface RouteFound {
  readonly kind: "route";
  readonly virtualHost: VirtualHost;
  readonly route: Route;
  /** Index of the route within virtualHost.routes. */
  readonly routeIndex: number;
}

/** The authority selects no virtual host: the caller answers 404 with response flag NR. */
export interface NoVirtualHost {
  readonly kind: "noVirtualHost";
}

/** The virtual host has no route for this request: the caller answers 404 with response flag NR. */
export interface NoRoute {
  readonly kind: "noRoute";
  readonly virtualHost: VirtualHost;
}

export type RouteMatchResult = RouteFound | NoVirtualHost | NoRoute;

export interface CompiledRoute {
  readonly route: Route;
  readonly conditions: readonly Condition[];
  readonly result: RouteFound;
}

export interface CompiledVirtualHost {
  readonly virtualHost: VirtualHost;
  readonly routes: readonly CompiledRoute[];
  readonly noRoute: NoRoute;
}

const NO_VIRTUAL_HOST: NoVirtualHost = Object.freeze({ kind: "noVirtualHost" });

/** A virtual host of the index: compiled on its first request. */
interface HostEntry {
  readonly virtualHost: VirtualHost;
  compiled: CompiledVirtualHost | undefined;
}

export class RouteTable {
  readonly config: RouteConfiguration;
  readonly #hosts: VirtualHostIndex<HostEntry>;
  readonly #ctx = new MatchContext();
  #compiled = 0;

  /** Throws RouterError (ROUTER_BAD_REGEX, ROUTER_BAD_MATCH) for config Envoy would reject. */
  constructor(config: RouteConfiguration) {
    this.config = config;
    // Compiled here only to be checked; kept from the host's first request on.
    for (const vh of config.virtualHosts) compileVirtualHost(vh);
    this.#hosts = new VirtualHostIndex(config.virtualHosts.map((vh) => ({ domains: vh.domains, value: { virtualHost: vh, compiled: undefined } })));
  }

  static compile(config: RouteConfiguration): RouteTable {
    return new RouteTable(config);
  }

  match(request: RequestView): RouteMatchResult {
    const entry = this.#hosts.find(request.authority);
    if (entry === undefined) return NO_VIRTUAL_HOST;
    const vh = entry.compiled ?? this.#compile(entry);
    const ctx = this.#ctx;
    ctx.reset(request);
    const routes = vh.routes;
    let found: RouteFound | undefined;
    for (let i = 0; i < routes.length && found === undefined; i++) {
      const r = routes[i] as CompiledRoute;
      if (allHold(r.conditions, ctx)) found = r.result;
    }
    ctx.reset(undefined);
    return found ?? vh.noRoute;
  }

  /** The virtual host an authority selects (no route matching). */
  virtualHostFor(authority: string): VirtualHost | undefined {
    return this.#hosts.find(authority)?.virtualHost;
  }

  /** For explain: the compiled virtual host and which domain selected it. */
  findVirtualHostDetailed(authority: string): DomainMatch<CompiledVirtualHost> | undefined {
    const hit = this.#hosts.findDetailed(authority);
    return hit === undefined ? undefined : { domain: hit.domain, kind: hit.kind, value: hit.value.compiled ?? this.#compile(hit.value) };
  }

  /** Virtual hosts compiled and kept so far (those that served a request or were explained). */
  get compiledHosts(): number {
    return this.#compiled;
  }

  #compile(entry: HostEntry): CompiledVirtualHost {
    this.#compiled++;
    entry.compiled = compileVirtualHost(entry.virtualHost);
    return entry.compiled;
  }
}

export function allHold(conditions: readonly Condition[], ctx: MatchContext): boolean {
  for (let j = 0; j < conditions.length; j++) {
    if (!(conditions[j] as Condition).test(ctx)) return false;
  }
  return true;
}

function compileVirtualHost(virtualHost: VirtualHost): CompiledVirtualHost {
  const routes = virtualHost.routes.map((route, routeIndex): CompiledRoute => ({
    route,
    conditions: compileConditions(route.match),
    result: Object.freeze({ kind: "route", virtualHost, route, routeIndex }),
  }));
  return { virtualHost, routes, noRoute: Object.freeze({ kind: "noRoute", virtualHost }) };
}
