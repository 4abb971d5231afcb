// Virtual-host selection by :authority, as Envoy's RouteMatcher::findVirtualHost: exact domain,
// then the longest suffix wildcard (`*.foo.com`), then the longest prefix wildcard (`foo.*`),
// then `*`. Istio lists each host both with and without its port; we additionally retry each
// step with the port stripped from the authority, so `reviews:9080` finds a vhost that lists
// only `reviews` (Envoy's ignore_port_in_host_matching, applied as a fallback).

import { RouterError } from "./router-error.ts";

export type DomainMatchKind = "exact" | "exact-without-port" | "suffix" | "suffix-without-port" | "prefix" | "prefix-without-port" | "any";

export interface DomainMatch<T> {
  value: T;
  /** The configured domain that matched. */
  domain: string;
  kind: DomainMatchKind;
}

interface Wildcard<T> {
  /** Domain without its `*`, lowercase. */
  part: string;
  domain: string;
  value: T;
}

/** Above this many distinct authorities the lookup cache is dropped and refilled. */
const CACHE_LIMIT = 1024;

export class VirtualHostIndex<T> {
  readonly #exact = new Map<string, { domain: string; value: T }>();
  /** Longest first: the most specific wildcard wins. */
  readonly #suffixes: Wildcard<T>[] = [];
  readonly #prefixes: Wildcard<T>[] = [];
  #any: { domain: string; value: T } | undefined;
  /** Raw authority → result; authorities seen by one sidecar are few, so this is the hot path. */
  readonly #cache = new Map<string, T | null>();

  constructor(entries: Iterable<{ domains: readonly string[]; value: T }>) {
    const seen = new Set<string>();
    for (const { domains, value } of entries) {
      for (const domain of domains) {
        const d = domain.toLowerCase();
        // Envoy rejects a route configuration that lists a domain twice.
        if (seen.has(d)) throw new RouterError("ROUTER_BAD_MATCH", `domain ${JSON.stringify(domain)} is listed by more than one virtual host`);
        seen.add(d);
        if (d === "*") this.#any = { domain, value };
        else if (d.startsWith("*")) this.#suffixes.push({ part: d.slice(1), domain, value });
        else if (d.endsWith("*")) this.#prefixes.push({ part: d.slice(0, -1), domain, value });
        else this.#exact.set(d, { domain, value });
      }
    }
    // Stable sort: equal lengths cannot both match one host, so ties never matter.
    this.#suffixes.sort((a, b) => b.part.length - a.part.length);
    this.#prefixes.sort((a, b) => b.part.length - a.part.length);
  }

  /** The value for an authority, or undefined when nothing (not even `*`) matches. */
  find(authority: string): T | undefined {
    const cached = this.#cache.get(authority);
    if (cached !== undefined) return cached ?? undefined;
    const hit = this.findDetailed(authority);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(authority, hit === undefined ? null : hit.value);
    return hit?.value;
  }

  /** Like find, and says which domain matched and how (for explain). Never cached. */
  findDetailed(authority: string): DomainMatch<T> | undefined {
    const full = authority.toLowerCase();
    const host = stripPort(full);
    const stripped = host !== full;

    const exact = this.#exact.get(full);
    if (exact !== undefined) return { ...exact, kind: "exact" };
    if (stripped) {
      const e = this.#exact.get(host);
      if (e !== undefined) return { ...e, kind: "exact-without-port" };
    }
    let w = findSuffix(this.#suffixes, full);
    if (w !== undefined) return { domain: w.domain, value: w.value, kind: "suffix" };
    if (stripped) {
      w = findSuffix(this.#suffixes, host);
      if (w !== undefined) return { domain: w.domain, value: w.value, kind: "suffix-without-port" };
    }
    w = findPrefix(this.#prefixes, full);
    if (w !== undefined) return { domain: w.domain, value: w.value, kind: "prefix" };
    if (stripped) {
      w = findPrefix(this.#prefixes, host);
      if (w !== undefined) return { domain: w.domain, value: w.value, kind: "prefix-without-port" };
    }
    if (this.#any !== undefined) return { ...this.#any, kind: "any" };
    return undefined;
  }
}

/** A wildcard stands for at least one character, as in Envoy (`*.foo.com` does not match `.foo.com`). */
function findSuffix<T>(list: Wildcard<T>[], host: string): Wildcard<T> | undefined {
  for (const w of list) {
    if (host.length > w.part.length && host.endsWith(w.part)) return w;
  }
  return undefined;
}

function findPrefix<T>(list: Wildcard<T>[], host: string): Wildcard<T> | undefined {
  for (const w of list) {
    if (host.length > w.part.length && host.startsWith(w.part)) return w;
  }
  return undefined;
}

/** `host:123` → `host`, `[::1]:80` → `[::1]`; anything else unchanged. */
export function stripPort(authority: string): string {
  const colon = authority.lastIndexOf(":");
  if (colon === -1 || colon === authority.length - 1) return authority;
  if (authority.charCodeAt(0) === 91 /* [ */ && authority.lastIndexOf("]") > colon) return authority;
  for (let i = colon + 1; i < authority.length; i++) {
    const c = authority.charCodeAt(i);
    if (c < 48 || c > 57) return authority;
  }
  // A bare IPv6 address without brackets has several colons and no port.
  if (authority.charCodeAt(0) !== 91 && authority.indexOf(":") !== colon) return authority;
  return authority.slice(0, colon);
}
