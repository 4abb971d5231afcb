// RouteTable: one RouteConfiguration compiled for per-request lookup. Compile once when config
// arrives (regexes, domain maps, one condition list per route); `match` then selects the virtual
// host by :authority and returns the first route whose conditions all hold (first match wins),
// allocating nothing: results are preallocated per route.

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

export class RouteTable {
  readonly config: RouteConfiguration;
  readonly #hosts: VirtualHostIndex<CompiledVirtualHost>;
  readonly #ctx = new MatchContext();

  /** Throws RouterError (ROUTER_BAD_REGEX, ROUTER_BAD_MATCH) for config Envoy would reject. */
  constructor(config: RouteConfiguration) {
    this.config = config;
    this.#hosts = new VirtualHostIndex(config.virtualHosts.map((vh) => ({ domains: vh.domains, value: compileVirtualHost(vh) })));
  }

  static compile(config: RouteConfiguration): RouteTable {
    return new RouteTable(config);
  }

  match(request: RequestView): RouteMatchResult {
    const vh = this.#hosts.find(request.authority);
    if (vh === undefined) return NO_VIRTUAL_HOST;
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
    return this.#hosts.findDetailed(authority);
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
