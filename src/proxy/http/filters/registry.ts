// Every HTTP filter, registered by name: config names a filter and the listener's chain is built
// from here. A new filter is a folder beside this file plus one line below (and its translation).
// The filters beyond cors, fault and router come in a lazy chunk of the sidecar's bundle
// (src/proxy/rooms/, issue 15), registered here once loaded: before a config that names one is
// applied. Building and running a chain stays synchronous.
import type { ProxyConfig } from "../../../model/proxy-config.ts";
import type { FilterChain, FilterSlot, HttpFilter, Runtime } from "../../request/context.ts";
import { corsFilter } from "./cors/cors-filter.ts";
import { faultFilter } from "./fault/fault-filter.ts";
import { routeFilter } from "./route/route-filter.ts";
import { routerFilter } from "./router/router-filter.ts";

/** The filters of the lazy chunk, by name (the order is the one error messages list). */
const LAZY_NAMES: readonly string[] = ["jwt_authn", "ext_authz", "rbac", "local_ratelimit", "ratelimit"];

const FILTERS = new Map<string, HttpFilter>([corsFilter, faultFilter, routerFilter].map((f) => [f.name, f]));

/** A route's `rateLimits` check (the ratelimit folder's), registered with the lazy filters. */
let checkRouteRateLimits: ((v: unknown) => void) | undefined;

/** The lazy chunk's filters, once loaded (src/proxy/rooms/load.ts). */
export function registerLazyHttpFilters(filters: readonly HttpFilter[], checkRateLimits: (v: unknown) => void): void {
  for (const f of filters) FILTERS.set(f.name, f);
  checkRouteRateLimits = checkRateLimits;
}

/** The filter registered under `name`, if any. */
export function httpFilter(name: string): HttpFilter | undefined {
  return FILTERS.get(name);
}

/** Names of every registered filter (for error messages). */
export function httpFilterNames(): string[] {
  return [...LAZY_NAMES, corsFilter.name, faultFilter.name, routerFilter.name];
}

/**
 * Where `config` first names a filter of the lazy chunk not yet registered (a listener's list, a
 * route's per-filter config or rate limits), as a field path; undefined when it names none.
 */
export function usesLazyHttpFilters(config: ProxyConfig): string | undefined {
  const lazy = (name: unknown): boolean => typeof name === "string" && LAZY_NAMES.includes(name) && !FILTERS.has(name);
  for (const [i, l] of config.listeners.entries()) {
    if (Array.isArray(l.httpFilters) && l.httpFilters.some((f) => lazy((f as { name?: unknown } | null)?.name))) return `listeners[${i}].httpFilters`;
  }
  for (const [i, rc] of config.routes.entries()) {
    for (const vh of rc.virtualHosts) {
      for (const r of vh.routes) {
        if (r.rateLimits !== undefined && checkRouteRateLimits === undefined) return `routes[${i}].rateLimits`;
        if (Object.keys(r.filterConfig ?? {}).some(lazy)) return `routes[${i}].filterConfig`;
      }
    }
  }
  return undefined;
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
    if (f === undefined) throw new Error(`[${i}].name: ${missing(entry.name)}`);
    try {
      f.check?.(entry.config);
    } catch (e) {
      throw new Error(`[${i}].config: ${(e as Error).message}`);
    }
    chain.push({ filter: f, config: entry.config });
  });
  if (routeAfterAuthn) {
    const at = chain.findIndex((slot) => slot.filter.name === "jwt_authn");
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
            if (checkRouteRateLimits === undefined) throw new Error(`: the ratelimit filter's code is not loaded (src/proxy/rooms/)`);
            checkRouteRateLimits(r.rateLimits);
          } catch (e) {
            throw new Error(`routes[${i}].virtualHosts[${j}].routes[${k}].rateLimits${(e as Error).message}`);
          }
        }
        for (const [name, cfg] of Object.entries(r.filterConfig ?? {})) {
          const at = `routes[${i}].virtualHosts[${j}].routes[${k}].filterConfig.${name}`;
          const f = FILTERS.get(name);
          if (f === undefined) throw new Error(`${at}: ${missing(name)}`);
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

/** Why no filter is registered under `name`: unknown, or one of the lazy chunk not loaded (the caller's bug). */
function missing(name: string): string {
  if (LAZY_NAMES.includes(name)) return `HTTP filter ${JSON.stringify(name)} is not loaded (src/proxy/rooms/)`;
  return `unknown HTTP filter ${JSON.stringify(name)} (known: ${httpFilterNames().join(", ")})`;
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
