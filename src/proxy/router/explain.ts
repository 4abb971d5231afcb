// explainMatch: the slow, talkative twin of RouteTable.match for `amime explain` and the
// dashboard — which virtual host the authority selected (and by which domain), and for every
// route whether it matched and, if not, every condition that failed.

import type { Route, VirtualHost } from "../../model/proxy-config.ts";
import { MatchContext } from "./match-context.ts";
import type { RequestView } from "./request-view.ts";
import type { RouteTable } from "./route-table.ts";
import type { DomainMatchKind } from "./virtual-host-index.ts";

export interface RouteExplanation {
  index: number;
  route: Route;
  matched: boolean;
  /** Matched, but an earlier route matched first (first match wins). */
  shadowed: boolean;
  /** Every failed condition, e.g. `header end-user: expected exact "jason", got "mary"`. */
  failures: string[];
}

export interface MatchExplanation {
  authority: string;
  /** Absent: no domain matched (404 NR). */
  virtualHost?: { virtualHost: VirtualHost; domain: string; kind: DomainMatchKind };
  routes: RouteExplanation[];
  /** The route RouteTable.match picks; absent: 404 NR. */
  selected?: RouteExplanation;
}

export function explainMatch(table: RouteTable, request: RequestView): MatchExplanation {
  const hit = table.findVirtualHostDetailed(request.authority);
  if (hit === undefined) return { authority: request.authority, routes: [] };
  const ctx = new MatchContext();
  ctx.reset(request);
  const routes: RouteExplanation[] = [];
  let selected: RouteExplanation | undefined;
  hit.value.routes.forEach((compiled, index) => {
    const failures: string[] = [];
    for (const c of compiled.conditions) if (!c.test(ctx)) failures.push(c.failure(ctx));
    const matched = failures.length === 0;
    const entry: RouteExplanation = { index, route: compiled.route, matched, shadowed: matched && selected !== undefined, failures };
    if (matched && selected === undefined) selected = entry;
    routes.push(entry);
  });
  ctx.reset(undefined);
  const out: MatchExplanation = {
    authority: request.authority,
    virtualHost: { virtualHost: hit.value.virtualHost, domain: hit.domain, kind: hit.kind },
    routes,
  };
  if (selected !== undefined) out.selected = selected;
  return out;
}

/** One line per route, for the CLI: `#0 reviews.jason  no: header end-user: expected exact "jason", got "mary"`. */
export function formatExplanation(e: MatchExplanation): string {
  if (e.virtualHost === undefined) return `authority ${JSON.stringify(e.authority)}: no virtual host matches (404 NR)`;
  const lines = [`authority ${JSON.stringify(e.authority)} → virtual host ${e.virtualHost.virtualHost.name} (domain ${JSON.stringify(e.virtualHost.domain)}, ${e.virtualHost.kind})`];
  for (const r of e.routes) {
    const verdict = r.matched ? (r.shadowed ? "matches, but an earlier route wins" : "MATCH") : `no: ${r.failures.join("; ")}`;
    lines.push(`  #${r.index} ${r.route.name || "(unnamed)"}  ${verdict}`);
  }
  if (e.selected === undefined) lines.push("  no route matches (404 NR)");
  return lines.join("\n");
}
