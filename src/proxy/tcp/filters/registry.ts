// Every network (L4) filter, registered by name: a TCP listener's chain is built from here. A new
// filter is a folder beside this file plus one line below (and its translation). The filters
// beyond tcp_proxy come in a lazy chunk of the sidecar's bundle (src/proxy/rooms/, issue 15),
// registered here once loaded: before a config that names one is applied.
import type { Listener, ProxyConfig } from "../../../model/proxy-config.ts";
import type { NetworkFilter, NetworkFilterChain } from "../network-filter.ts";
import { tcpProxyFilter } from "./tcp-proxy/tcp-proxy-filter.ts";

/** The filters of the lazy chunk, by name (the order is the one error messages list). */
const LAZY_NAMES: readonly string[] = ["ext_authz", "rbac"];

const FILTERS = new Map<string, NetworkFilter>([[tcpProxyFilter.name, tcpProxyFilter]]);

/** The lazy chunk's filters, once loaded (src/proxy/rooms/load.ts). */
export function registerLazyNetworkFilters(filters: readonly NetworkFilter[]): void {
  for (const f of filters) FILTERS.set(f.name, f);
}

/** Where `config` first names a network filter of the lazy chunk not yet registered; undefined when none. */
export function usesLazyNetworkFilters(config: ProxyConfig): string | undefined {
  for (const [i, l] of config.listeners.entries()) {
    const named = Array.isArray(l.networkFilters) ? l.networkFilters.map((f) => (f as { name?: unknown } | null)?.name) : [];
    if (named.some((n) => typeof n === "string" && LAZY_NAMES.includes(n) && !FILTERS.has(n))) return `listeners[${i}].networkFilters`;
  }
  return undefined;
}

/** The list a TCP listener runs when its config names none. */
export const DEFAULT_NETWORK_FILTERS: readonly string[] = ["tcp_proxy"];

function buildChain(entries: ReadonlyArray<{ readonly name: string; readonly config?: unknown }>): NetworkFilterChain {
  if (!Array.isArray(entries)) throw new Error(`: must be a list of { name, config? }`);
  const chain = entries.map((entry, i) => {
    if (typeof entry !== "object" || entry === null || typeof entry.name !== "string") throw new Error(`[${i}].name: must be a string`);
    const f = FILTERS.get(entry.name);
    if (f === undefined && LAZY_NAMES.includes(entry.name)) throw new Error(`[${i}].name: network filter ${JSON.stringify(entry.name)} is not loaded (src/proxy/rooms/)`);
    if (f === undefined) throw new Error(`[${i}].name: unknown network filter ${JSON.stringify(entry.name)} (known: ${[...LAZY_NAMES, tcpProxyFilter.name].join(", ")})`);
    try {
      f.check?.(entry.config);
    } catch (e) {
      throw new Error(`[${i}].config: ${(e as Error).message}`);
    }
    return { filter: f, config: entry.config };
  });
  if (chain[chain.length - 1]?.filter !== tcpProxyFilter) throw new Error(`: the network filter list must end with "tcp_proxy"`);
  return chain;
}

const DEFAULT_CHAIN: NetworkFilterChain = buildChain(DEFAULT_NETWORK_FILTERS.map((name) => ({ name })));
/** Chains built per listener config object (one per config version). */
const chains = new WeakMap<Listener, NetworkFilterChain>();

/** Check and build every TCP-capable listener's chain of a config: throws Error with the field path. */
export function buildNetworkChains(config: ProxyConfig): void {
  config.listeners.forEach((l, i) => {
    if (l.protocol === "http" || l.networkFilters === undefined) return;
    try {
      chains.set(l, buildChain(l.networkFilters));
    } catch (e) {
      throw new Error(`listeners[${i}].networkFilters${(e as Error).message}`);
    }
  });
}

/** The chain a connection on `listener` runs. */
export function networkChainFor(listener: Listener): NetworkFilterChain {
  if (listener.networkFilters === undefined) return DEFAULT_CHAIN;
  let c = chains.get(listener);
  if (c === undefined) {
    c = buildChain(listener.networkFilters);
    chains.set(listener, c);
  }
  return c;
}
