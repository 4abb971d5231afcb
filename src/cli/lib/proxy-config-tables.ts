// The tables of `amime proxy-config`, after `istioctl proxy-config`: one row per listener, per
// route (with its virtual host and where it came from), per cluster, per endpoint.
import type { HeaderMatcher, ProxyConfig, RouteMatch, StringMatch } from "../../model/proxy-config.ts";
import { labels, list } from "../../core/text-table.ts";

export interface Table {
  headers: string[];
  rows: string[][];
}

export function listenersTable(c: ProxyConfig): Table {
  return {
    headers: ["NAME", "ADDRESS", "PORT", "DIRECTION", "PROTOCOL", "DESTINATION"],
    rows: c.listeners.map((l) => [
      l.name, l.address, String(l.port), l.direction, l.protocol.toUpperCase(),
      l.protocol === "http" ? `Route: ${l.routeConfigName ?? "<none>"}` : `Cluster: ${list(l.tcpRoute?.clusters.map((x) => x.cluster))}`,
    ]),
  };
}

export function routesTable(c: ProxyConfig): Table {
  const rows: string[][] = [];
  for (const rc of c.routes) {
    for (const vh of rc.virtualHosts) {
      for (const r of vh.routes) rows.push([rc.name, vh.name, domains(vh.domains), matchSummary(r.match), virtualService(r.origin.resource)]);
      if (vh.routes.length === 0) rows.push([rc.name, vh.name, domains(vh.domains), "<none>", "404"]);
    }
  }
  return { headers: ["NAME", "VHOST", "DOMAINS", "MATCH", "VIRTUAL SERVICE"], rows };
}

export function clustersTable(c: ProxyConfig): Table {
  return {
    headers: ["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "LB"],
    rows: c.clusters.map((x) => {
      // Istio keys: `outbound|9080|v2|host`, `inbound|9080||`.
      const [, port = "", subset = "", host = ""] = x.name.includes("|") ? x.name.split("|") : ["", "", "", x.name];
      return [x.service?.host ?? host, x.service ? String(x.service.port) : port, x.subset ?? subset ?? "", x.direction, x.discovery === "eds" ? "EDS" : "ORIGINAL_DST", x.lb.policy];
    }).map((r) => r.map((cell, i) => (cell === "" && i < 3 ? "-" : cell))),
  };
}

export function endpointsTable(c: ProxyConfig, wide = false): Table {
  const rows: string[][] = [];
  for (const [cluster, eps] of Object.entries(c.endpoints)) {
    for (const e of eps) {
      const row = [`${e.address}:${e.port}`, e.healthy ? "HEALTHY" : "UNHEALTHY", cluster];
      if (wide) row.push(e.workload ?? "-", String(e.weight), e.locality ?? "-", labels(e.labels));
      rows.push(row);
    }
  }
  return { headers: ["ENDPOINT", "STATUS", "CLUSTER", ...(wide ? ["WORKLOAD", "WEIGHT", "LOCALITY", "LABELS"] : [])], rows };
}

/** Istio lists each host in several spellings; show the longest one and how many others. */
function domains(ds: readonly string[]): string {
  if (ds.length === 0) return "<none>";
  const longest = [...ds].sort((a, b) => b.length - a.length)[0] as string;
  return ds.length > 1 ? `${longest} +${ds.length - 1} more` : longest;
}

/** `VirtualService default/reviews` → `reviews.default`, as istioctl names it. */
function virtualService(resource: string): string {
  const m = /^VirtualService (?:([^/\s]+)\/)?(\S+)$/.exec(resource);
  // Generated routes (no VirtualService) have the origin `default`.
  return m ? `${m[2]}.${m[1] ?? "default"}` : "-";
}

function sm(m: StringMatch): string {
  if ("exact" in m) return m.exact;
  if ("prefix" in m) return `${m.prefix}*`;
  return `~${m.regex}`;
}

function header(h: HeaderMatcher): string {
  const body = h.match ? `${h.name}=${sm(h.match)}` : h.name;
  return h.invert ? `!${body}` : body;
}

/** `/reviews* end-user=jason method=GET`: the route's conditions on one line. */
export function matchSummary(m: RouteMatch): string {
  const parts = [m.uri ? sm(m.uri) : "/*"];
  if (m.ignoreUriCase) parts.push("(ignore case)");
  if (m.method) parts.push(`method=${sm(m.method)}`);
  if (m.scheme) parts.push(`scheme=${sm(m.scheme)}`);
  if (m.authority) parts.push(`authority=${sm(m.authority)}`);
  if (m.port !== undefined) parts.push(`port=${m.port}`);
  parts.push(...m.headers.map(header));
  parts.push(...m.queryParams.map((q) => `?${q.name}${q.match ? `=${sm(q.match)}` : ""}`));
  return parts.join(" ");
}
