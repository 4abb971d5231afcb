// Every HTTP filter, registered by name: config names a filter and the listener's chain is built
// from here. A new filter is a folder beside this file plus one line below (and its translation).
import type { ProxyConfig } from "../../../model/proxy-config.ts";
import type { FilterChain, FilterSlot, HttpFilter, Runtime } from "../../request/context.ts";
import { corsFilter } from "./cors/cors-filter.ts";
import { extAuthzFilter } from "./ext-authz/ext-authz-filter.ts";
import { faultFilter } from "./fault/fault-filter.ts";
import { jwtAuthnFilter } from "./jwt-authn/jwt-filter.ts";
import { localRateLimitFilter } from "./local-ratelimit/local-ratelimit-filter.ts";
import { checkRouteRateLimits } from "./ratelimit/check.ts";
import { globalRateLimitFilter } from "./ratelimit/ratelimit-filter.ts";
import { rbacFilter } from "./rbac/rbac-filter.ts";
import { routeFilter } from "./route/route-filter.ts";
import { routerFilter } from "./router/router-filter.ts";

const FILTERS: ReadonlyMap<string, HttpFilter> = new Map(
  [
    jwtAuthnFilter,
    extAuthzFilter,
    rbacFilter,
    localRateLimitFilter,
    globalRateLimitFilter,
    corsFilter,
    faultFilter,
    routerFilter,
  ].map((f) => [f.name, f]),
);

/** The filter registered under `name`, if any. */
export function httpFilter(name: string): HttpFilter | undefined {
  return FILTERS.get(name);
}

/** Names of every registered filter (for error messages). */
export function httpFilterNames(): string[] {
  return [...FILTERS.keys()];
}

/** The list a listener runs when its config names none (Istio's default: cors → fault → router). */
export const DEFAULT_HTTP_FILTERS: readonly string[] = ["cors", "fault", "router"];

/**
 * A listener's chain: the route lookup, then the named filters with their configs (checked).
 * `routeAfterAuthn`: the route is looked up after jwt_authn instead (its routes match JWT claims:
 * Envoy re-picks the route once jwt_authn has set the claims, as Istio configures claim routing).
 * Throws Error naming the first unknown filter or bad config.
 */
export function buildChain(filters: ReadonlyArray<{ readonly name: string; readonly config?: unknown }>, routeAfterAuthn = false): FilterChain {
  const chain: FilterSlot[] = routeAfterAuthn ? [] : [{ filter: routeFilter, config: undefined }];
  if (!Array.isArray(filters)) throw new Error(`: must be a list of { name, config? }`);
  filters.forEach((entry, i) => {
    if (typeof entry !== "object" || entry === null || typeof entry.name !== "string") throw new Error(`[${i}].name: must be a string`);
    const f = FILTERS.get(entry.name);
    if (f === undefined) throw new Error(`[${i}].name: unknown HTTP filter ${JSON.stringify(entry.name)} (known: ${httpFilterNames().join(", ")})`);
    try {
      f.check?.(entry.config);
    } catch (e) {
      throw new Error(`[${i}].config: ${(e as Error).message}`);
    }
    chain.push({ filter: f, config: entry.config });
  });
  if (routeAfterAuthn) {
    const at = chain.findIndex((slot) => slot.filter === jwtAuthnFilter);
    chain.splice(at + 1, 0, { filter: routeFilter, config: undefined });
  }
  const last = chain[chain.length - 1];
  if (last === undefined || last.filter !== routerFilter) throw new Error(`: the HTTP filter list must end with "router"`);
  return chain;
}

/** The default chain, built once. */
export const DEFAULT_CHAIN: FilterChain = buildChain(DEFAULT_HTTP_FILTERS.map((name) => ({ name })));

/**
 * Every HTTP listener's chain for a config (the default one when it names no list), and the
 * per-route overrides checked: throws Error with the field path of the first problem.
 */
export function buildChains(config: ProxyConfig): Map<string, FilterChain> {
  const out = new Map<string, FilterChain>();
  config.listeners.forEach((l, i) => {
    if (l.protocol === "tcp") return;
    if (l.httpFilters === undefined) {
      out.set(l.name, DEFAULT_CHAIN);
      return;
    }
    try {
      out.set(l.name, buildChain(l.httpFilters, matchesClaims(config, l.routeConfigName ?? l.name)));
    } catch (e) {
      throw new Error(`listeners[${i}].httpFilters${(e as Error).message}`);
    }
  });
  config.routes.forEach((rc, i) =>
    rc.virtualHosts.forEach((vh, j) =>
      vh.routes.forEach((r, k) => {
        if (r.rateLimits !== undefined) {
          try {
            checkRouteRateLimits(r.rateLimits);
          } catch (e) {
            throw new Error(`routes[${i}].virtualHosts[${j}].routes[${k}].rateLimits${(e as Error).message}`);
          }
        }
        for (const [name, cfg] of Object.entries(r.filterConfig ?? {})) {
          const at = `routes[${i}].virtualHosts[${j}].routes[${k}].filterConfig.${name}`;
          const f = FILTERS.get(name);
          if (f === undefined) throw new Error(`${at}: unknown HTTP filter ${JSON.stringify(name)} (known: ${httpFilterNames().join(", ")})`);
          try {
            f.check?.(cfg);
          } catch (e) {
            throw new Error(`${at}: ${(e as Error).message}`);
          }
        }
      }),
    ),
  );
  return out;
}

/** Some route of the route configuration matches a JWT claim. */
function matchesClaims(config: ProxyConfig, routeConfigName: string): boolean {
  const rc = config.routes.find((r) => r.name === routeConfigName);
  return rc?.virtualHosts?.some((vh) => vh.routes?.some((r) => r.match?.headers?.some((h) => h.claim !== undefined))) === true;
}

/** The chain a request on `listener` runs. */
export function chainFor(runtime: Runtime, listener: string): FilterChain {
  return runtime.httpFilters.get(listener) ?? DEFAULT_CHAIN;
}
