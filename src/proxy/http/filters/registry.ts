// Every HTTP filter, registered by name: config names a filter and the listener's chain is built
// from here. A new filter is a folder beside this file plus one line below (and its translation).
import type { FilterChain, FilterSlot, HttpFilter } from "../../request/request-context.ts";
import { corsFilter } from "./cors/cors-filter.ts";
import { faultFilter } from "./fault/fault-filter.ts";
import { routeFilter } from "./route/route-filter.ts";
import { routerFilter } from "./router/router-filter.ts";

const FILTERS: ReadonlyMap<string, HttpFilter> = new Map(
  [
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
 * A listener's chain: the route lookup, then the named filters with their compiled configs.
 * Throws Error naming the first unknown filter or bad config.
 */
export function buildChain(filters: ReadonlyArray<{ readonly name: string; readonly config?: unknown }>): FilterChain {
  const chain: FilterSlot[] = [{ filter: routeFilter, config: undefined }];
  for (const entry of filters) {
    const f = FILTERS.get(entry.name);
    if (f === undefined) throw new Error(`unknown HTTP filter "${entry.name}" (known: ${httpFilterNames().join(", ")})`);
    chain.push({ filter: f, config: f.compile !== undefined ? f.compile(entry.config) : entry.config });
  }
  const last = chain[chain.length - 1];
  if (last === undefined || last.filter !== routerFilter) throw new Error(`the HTTP filter list must end with "router"`);
  return chain;
}

/** The default chain, built once. */
export const DEFAULT_CHAIN: FilterChain = buildChain(DEFAULT_HTTP_FILTERS.map((name) => ({ name })));
