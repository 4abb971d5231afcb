// Header edits (Istio Headers → Envoy request/response_headers_to_add/_to_remove) as a plan the
// proxy applies while writing a message: forward the original headers whose lowercase name is
// not in `dropped`, then write `added` in order. Per-destination edits are applied before the
// route's, as Envoy's WeightedClusterEntry::finalizeRequestHeaders does, so a route-level `set`
// wins over a destination-level `set` of the same header.

import type { HeaderEdits, HeaderOperations, Route, WeightedCluster } from "../../model/proxy-config.ts";

export type HeaderList = [name: string, value: string][];

/** Values for the `%…%` escapes header values may contain. */
export interface HeaderValueContext {
  /** The proxy's host name, for `%HOSTNAME%`. */
  hostname: string;
  /** Downstream peer IP, for `%DOWNSTREAM_REMOTE_ADDRESS%` and `%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%`. */
  sourceIp: string;
}

export class HeaderPlan {
  /** Lowercase name, value; written after the forwarded headers, in this order. */
  readonly added: HeaderList = [];
  /** Lowercase names of original headers not to forward. */
  readonly dropped = new Set<string>();

  get empty(): boolean {
    return this.added.length === 0 && this.dropped.size === 0;
  }

  /** Forward an original header with this (lowercase) name? */
  keeps(name: string): boolean {
    return !this.dropped.has(name);
  }

  set(name: string, value: string): void {
    this.remove(name);
    this.added.push([name, value]);
  }

  add(name: string, value: string): void {
    this.added.push([name, value]);
  }

  remove(name: string): void {
    this.dropped.add(name);
    const added = this.added;
    let w = 0;
    for (let r = 0; r < added.length; r++) {
      const h = added[r] as [string, string];
      if (h[0] !== name) added[w++] = h;
    }
    added.length = w;
  }
}

/**
 * Apply one edit set: `remove` drops, `set` replaces (drops the original and any earlier added
 * value), `add` appends. Within one level Envoy's HeaderParser removes before it adds, so a
 * header both removed and set at the same level ends up set. `:authority` is the Host header in
 * HTTP/1.1 and is planned as `host`.
 */
export function applyHeaderEdits(plan: HeaderPlan, edits: HeaderEdits | undefined, ctx: HeaderValueContext): void {
  if (edits === undefined) return;
  for (const name of edits.remove) plan.remove(headerName(name));
  for (const name in edits.set) plan.set(headerName(name), expandHeaderValue(edits.set[name] as string, ctx));
  for (const name in edits.add) plan.add(headerName(name), expandHeaderValue(edits.add[name] as string, ctx));
}

/** Request edits of the chosen destination, then of the route. */
export function requestHeaderPlan(route: Route, destination: WeightedCluster | undefined, ctx: HeaderValueContext, plan = new HeaderPlan()): HeaderPlan {
  applyHeaderEdits(plan, destination?.headers?.request, ctx);
  applyHeaderEdits(plan, route.headers?.request, ctx);
  return plan;
}

/** Response edits of the chosen destination, then of the route. */
export function responseHeaderPlan(route: Route, destination: WeightedCluster | undefined, ctx: HeaderValueContext, plan = new HeaderPlan()): HeaderPlan {
  applyHeaderEdits(plan, destination?.headers?.response, ctx);
  applyHeaderEdits(plan, route.headers?.response, ctx);
  return plan;
}

/** True when the route or destination has any edits in that direction (skip the plan otherwise). */
export function hasHeaderEdits(ops: HeaderOperations | undefined, direction: "request" | "response"): boolean {
  const e = ops?.[direction];
  return e !== undefined && (e.remove.length > 0 || Object.keys(e.set).length > 0 || Object.keys(e.add).length > 0);
}

function headerName(name: string): string {
  const lower = name.toLowerCase();
  return lower === ":authority" ? "host" : lower;
}

/**
 * Envoy's header value formatter, minimally: `%%` → `%`, `%HOSTNAME%`,
 * `%DOWNSTREAM_REMOTE_ADDRESS%` (we know no peer port, so this is the IP, as the
 * `_WITHOUT_PORT` variant). Unknown `%VAR%` stay verbatim (Istio validation rejects them).
 */
export function expandHeaderValue(value: string, ctx: HeaderValueContext): string {
  if (!value.includes("%")) return value;
  return value.replace(/%%|%([A-Z_]+)%/g, (whole, name: string | undefined) => {
    if (name === undefined) return "%";
    switch (name) {
      case "HOSTNAME":
        return ctx.hostname;
      case "DOWNSTREAM_REMOTE_ADDRESS":
      case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT":
        return ctx.sourceIp;
      default:
        return whole;
    }
  });
}
