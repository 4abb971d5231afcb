// The text view of an ExplainReport: request and proxy, listener, virtual host and why, each
// route's verdict in order, the winning route's origin and policies, each destination cluster's
// settings and endpoints, and a one-line result.
import type { ForwardAction } from "../model/proxy-config.ts";
import { formatTable } from "../core/text-table.ts";
import {
  describeConnectionPool, describeFault, describeHeaders, describeLb, describeOutlier, describeRedirect, describeRetry,
  describeRewrite, describeTimeout, describeTls, formatOrigin,
} from "./policy-text.ts";
import { formatShare, type DestinationView, type ExplainReport } from "./report.ts";
import type { RateLimitView } from "./rate-limits.ts";

const MATCH_KIND: Record<string, string> = {
  exact: "exact match",
  "exact-without-port": "exact match once the port is ignored",
  suffix: "wildcard suffix match",
  "suffix-without-port": "wildcard suffix match once the port is ignored",
  prefix: "wildcard prefix match",
  "prefix-without-port": "wildcard prefix match once the port is ignored",
  any: "catch-all domain",
};

export function formatExplainReport(r: ExplainReport): string {
  const out: string[] = [];
  const q = r.request;
  out.push(`Request:      ${q.method} ${q.scheme}://${q.authority}${q.path}  (port ${q.port})`);
  for (const [k, v] of Object.entries(q.headers)) out.push(`              ${k}: ${v}`);
  out.push(`Proxy:        ${r.node.id} (${r.node.kind} of ${r.node.workload}.${r.node.namespace}), config version ${r.version}`);
  if (r.listener) {
    const l = r.listener;
    out.push(`Listener:     ${l.name} ${l.address}:${l.port} (${l.direction}, ${l.protocol})${l.routeConfigName ? ` → route configuration ${JSON.stringify(l.routeConfigName)}` : ""}`);
  }
  if (r.virtualHost) {
    const vh = r.virtualHost;
    out.push(`Virtual host: ${vh.name}`);
    out.push(`              chosen by domain ${JSON.stringify(vh.matchedDomain)} for authority ${JSON.stringify(q.authority)} (${MATCH_KIND[vh.matchKind] ?? vh.matchKind})`);
  }
  if (r.routes.length > 0) {
    out.push("", "Routes, in order (first match wins):");
    for (const route of r.routes) {
      const verdict = route.matched ? (route.shadowed ? "matches, but an earlier route wins" : "MATCHED") : "not matched";
      out.push(`  #${route.index} ${route.name || "(unnamed)"}: ${verdict}  — ${formatOrigin(route.origin)}`);
      for (const f of route.failures) out.push(`      ✗ ${f}`);
    }
  }
  if (r.selected) {
    const s = r.selected;
    out.push("", `Selected route #${s.index} ${s.name || "(unnamed)"}`, `  from:          ${formatOrigin(s.origin)}`);
    const a = s.action;
    if (a.kind === "redirect") out.push(`  redirect:      ${describeRedirect(a)}`);
    else if (a.kind === "direct") out.push(`  direct:        ${a.status}${a.body !== undefined ? ` body ${JSON.stringify(a.body.length > 60 ? `${a.body.slice(0, 60)}…` : a.body)}` : ""}`);
    else out.push(...forwardLines(a, r.destinations, r.mirrors));
    const headers = describeHeaders(s.headers ?? (a.kind === "redirect" ? a.headers : undefined));
    if (headers) out.push(`  headers:       ${headers}`);
  }
  if (r.rateLimits !== undefined) {
    const rl = r.rateLimits;
    out.push("", "Rate limits on this listener:");
    if (rl.local) out.push(`  local_ratelimit (${rl.local.from === "route" ? "the route's bucket" : "the listener's bucket"}, stats ${rl.local.statPrefix}): ${rl.local.summary}`);
    if (rl.global) {
      out.push(`  ratelimit: ${rl.global.summary}`);
      for (const d of rl.global.descriptors) out.push(`    descriptor ${d.map((e) => `${e.key}=${JSON.stringify(e.value)}`).join(", ")}`);
    }
    out.push(...ruleLines(rl.rules, "  "));
  }
  for (const d of r.destinationRateLimits ?? []) {
    out.push("", `Rate limits at the destination ${d.node} (${d.listener}):`);
    const rl = d.limits;
    if (rl?.local) out.push(`  local_ratelimit (stats ${rl.local.statPrefix}): ${rl.local.summary}`);
    if (rl?.global) out.push(`  ratelimit: ${rl.global.summary}`);
    out.push(...ruleLines(rl?.rules, "  "));
    if (rl?.rules === undefined) out.push("  no RateLimit rule applies to this request");
  }
  for (const d of r.destinations) out.push("", ...clusterLines(d));
  for (const m of r.mirrors) out.push("", ...clusterLines(m, "Mirror cluster"));
  if (r.authorization !== undefined && r.authorization.length > 0) {
    out.push("", "Authorization at the destination (its inbound jwt_authn and rbac filters):");
    for (const a of r.authorization) {
      out.push(`  ${a.node}${"listener" in a ? ` (${a.listener})` : ""}: ${a.summary}`);
      if ("listener" in a) {
        out.push(`    caller ${a.sourcePrincipal === "" ? "without an mTLS identity (plaintext)" : `spiffe://${a.sourcePrincipal} (ISTIO_MUTUAL)`}`);
        if (a.requestPrincipal !== undefined) out.push(`    request principal ${a.requestPrincipal} (from the bearer token, assuming it verifies)`);
        if (a.shadow !== null) out.push(`    dry run: would be ${a.shadow.allowed ? "allowed" : "denied"}${a.shadow.policy && a.shadow.policy !== "none" ? ` by ${a.shadow.policy} rule ${a.shadow.rule}` : ""}`);
        if (a.audited.length > 0) out.push(`    audited by ${a.audited.join(", ")}`);
      }
    }
  }
  out.push("", `Result: ${r.outcome.summary}`);
  return `${out.join("\n")}\n`;
}

function forwardLines(a: ForwardAction, dests: readonly DestinationView[], mirrors: readonly DestinationView[]): string[] {
  const out = ["  destinations:"];
  for (const d of dests) {
    const svc = d.config?.service ? `${d.config.service.host}:${d.config.service.port}` : "";
    const subset = d.config?.subset ? `subset ${d.config.subset}` : "no subset";
    const where = d.config ? `${svc}${svc ? ", " : ""}${subset}` : "cluster missing";
    out.push(`    ${formatShare(d.share).padStart(6)}  ${d.cluster}  (weight ${d.weight}; ${where})`);
    const h = describeHeaders(d.headers);
    if (h) out.push(`            headers: ${h}`);
  }
  out.push(`  timeout:       ${describeTimeout(a)}`);
  out.push(`  retries:       ${describeRetry(a)}`);
  out.push(`  fault:         ${describeFault(a)}`);
  out.push(`  mirror:        ${mirrors.length > 0 ? mirrors.map((m) => `${formatShare(m.weight)} of requests to ${m.cluster}`).join(", ") : "none"}`);
  out.push(`  rewrite:       ${describeRewrite(a)}`);
  if (a.cors) out.push(`  cors:          allow origins ${a.cors.allowOrigins.map((o) => JSON.stringify(o)).join(",") || "<none>"}, methods ${a.cors.allowMethods.join(",") || "<none>"}`);
  return out;
}

function clusterLines(d: DestinationView, title = "Cluster"): string[] {
  const out = [`${title} ${d.cluster}`];
  const c = d.config;
  if (!c) return [...out, `  ${d.problem ?? "not in this proxy's config"}`];
  out.push(`  protocol:          ${c.protocol}, ${c.direction}, discovery ${c.discovery}`);
  out.push(`  load balancer:     ${describeLb(c.lb)}`);
  out.push(`  connection pool:   ${describeConnectionPool(c.connectionPool)}`);
  out.push(`  outlier detection: ${describeOutlier(c.outlierDetection)}`);
  if (c.healthCheck) out.push(`  health check:      ${c.healthCheck.kind}${c.healthCheck.path ? ` ${c.healthCheck.path}` : ""} every ${c.healthCheck.intervalMs}ms`);
  out.push(`  tls:               ${describeTls(c)}`);
  if (c.discovery === "original_dst") return [...out, "  endpoints:         the requested address itself (PASSTHROUGH)"];
  const note = d.panic ? "; below the panic threshold, so the balancer uses all of them" : "";
  out.push(`  endpoints (${d.healthy} of ${d.endpoints.length} healthy in the registry${note}):`);
  if (d.endpoints.length === 0) out.push(`    none: ${d.problem ?? "no endpoints"}`);
  else {
    const rows = d.endpoints.map((e) => [`${e.address}:${e.port}`, e.healthy ? "HEALTHY" : "UNHEALTHY", e.candidate ? "candidate" : "skipped", e.workload ?? "", e.weight !== 1 ? `weight ${e.weight}` : ""]);
    out.push(...formatTable(["ENDPOINT", "STATUS", "PICK", "WORKLOAD", ""], rows).trimEnd().split("\n").map((l) => `    ${l}`));
  }
  return out;
}

/** The RateLimit rules a request falls under: `RateLimit rule default/api/0 (local): 5 per 1m, key x-user="alice"`. */
function ruleLines(rules: RateLimitView["rules"], indent: string): string[] {
  return (rules ?? []).map((h) => `${indent}RateLimit rule ${h.rule} (${h.scope}): ${h.limit}${h.key !== undefined ? `, key ${h.key}` : ""}`);
}
