// One-line descriptions of route and cluster policies for `amime explain`, saying when a value is
// Istio's default so a reader can tell "configured" from "inherited".
import {
  DEFAULT_CONNECTION_POOL, DEFAULT_RETRY_POLICY, UNLIMITED,
  type Cluster, type ConnectionPoolConfig, type ForwardAction, type HeaderOperations, type LoadBalancerConfig, type OutlierDetectionConfig, type RedirectAction, type RouteOrigin,
} from "../model/proxy-config.ts";

/** 1500 → `1.5s`, 30000 → `30s`, 250 → `250ms`. */
export function formatMs(ms: number): string {
  if (ms === 0) return "0s";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${ms}ms`;
}

/** `VirtualService default/reviews http[0].match[1]`, with `file:line` when known. */
export function formatOrigin(o: RouteOrigin): string {
  let rule = "";
  if (o.ruleIndex >= 0) rule = ` http[${o.ruleIndex}]${o.matchIndex >= 0 ? `.match[${o.matchIndex}]` : ""}`;
  if (o.resource === "default" && !o.file) return "generated default route (no VirtualService)";
  const where = o.file ? ` (${o.file}${o.line ? `:${o.line}` : ""})` : "";
  return `${o.resource}${rule}${where}`;
}

export function describeTimeout(a: ForwardAction): string {
  return a.timeoutMs > 0 ? `${formatMs(a.timeoutMs)} (covers all retries)` : "none (Istio's default: no route timeout)";
}

export function describeRetry(a: ForwardAction): string {
  const r = a.retry;
  if (r.attempts === 0) return "off (attempts 0)";
  const same = JSON.stringify(r) === JSON.stringify(DEFAULT_RETRY_POLICY);
  const perTry = r.perTryTimeoutMs > 0 ? formatMs(r.perTryTimeoutMs) : "the route timeout";
  const codes = r.retriableStatusCodes.length > 0 ? `, status codes ${r.retriableStatusCodes.join(",")}` : "";
  return `${r.attempts} attempt${r.attempts === 1 ? "" : "s"}${same ? " (Istio's default policy)" : ""}, per try timeout ${perTry}, retryOn ${r.retryOn.join(",") || "<none>"}${codes}, backoff ${formatMs(r.backoffBaseMs)}..${formatMs(r.backoffMaxMs)}`;
}

export function describeFault(a: ForwardAction): string {
  const parts: string[] = [];
  const f = a.fault;
  if (f?.delay) parts.push(`delay ${formatMs(f.delay.fixedDelayMs)} for ${f.delay.percentage}% of requests`);
  if (f?.abort) parts.push(`abort with ${f.abort.httpStatus !== undefined ? `HTTP ${f.abort.httpStatus}` : `gRPC ${f.abort.grpcStatus ?? "?"}`} for ${f.abort.percentage}% of requests`);
  return parts.length > 0 ? parts.join("; ") : "none";
}

export function describeRewrite(a: ForwardAction): string {
  const w = a.rewrite;
  if (!w) return "none";
  const parts: string[] = [];
  if (w.uri !== undefined) parts.push(`uri → ${JSON.stringify(w.uri)}`);
  if (w.uriRegex) parts.push(`uri regex ${JSON.stringify(w.uriRegex.match)} → ${JSON.stringify(w.uriRegex.rewrite)}`);
  if (w.authority !== undefined) parts.push(`authority → ${JSON.stringify(w.authority)}`);
  return parts.join(", ") || "none";
}

export function describeRedirect(r: RedirectAction): string {
  const parts = [`${r.code}`];
  if (r.scheme) parts.push(`scheme ${r.scheme}`);
  if (r.authority) parts.push(`authority ${r.authority}`);
  if (r.port !== undefined) parts.push(`port ${r.port}`);
  if (r.derivePort) parts.push(`port ${r.derivePort}`);
  if (r.uri !== undefined) parts.push(`uri ${r.uri}`);
  if (r.prefixRewrite !== undefined) parts.push(`prefix → ${r.prefixRewrite}`);
  return parts.join(", ");
}

/** `request: set x-a=1, add x-b=2, remove x-c; response: …`, or undefined when there are no edits. */
export function describeHeaders(h: HeaderOperations | undefined): string | undefined {
  if (!h) return undefined;
  const side = (label: string, e: HeaderOperations["request"]): string | undefined => {
    if (!e) return undefined;
    const parts = [
      ...Object.entries(e.set).map(([k, v]) => `set ${k}: ${v}`),
      ...Object.entries(e.add).map(([k, v]) => `add ${k}: ${v}`),
      ...e.remove.map((k) => `remove ${k}`),
    ];
    return parts.length > 0 ? `${label} ${parts.join(", ")}` : undefined;
  };
  const parts = [side("request:", h.request), side("response:", h.response)].filter((x): x is string => x !== undefined);
  return parts.length > 0 ? parts.join("; ") : undefined;
}

export function describeLb(lb: LoadBalancerConfig): string {
  const key = lb.hashKey;
  if (!key) return lb.policy;
  let by: string;
  if ("header" in key) by = `header ${key.header}`;
  else if ("cookie" in key) by = `cookie ${key.cookie.name}${key.cookie.ttlMs !== undefined ? ` (ttl ${formatMs(key.cookie.ttlMs)})` : ""}`;
  else if ("queryParameter" in key) by = `query parameter ${key.queryParameter}`;
  else by = "source IP";
  const size = lb.policy === "MAGLEV" ? `, table size ${lb.tableSize ?? 65537}` : lb.policy === "RING_HASH" ? `, minimum ring size ${lb.minimumRingSize ?? 1024}` : "";
  return `${lb.policy} by ${by}${size}`;
}

/** Only what differs from Istio's defaults; "Istio defaults (unlimited)" when nothing does. */
export function describeConnectionPool(p: ConnectionPoolConfig): string {
  const parts: string[] = [];
  for (const key of Object.keys(DEFAULT_CONNECTION_POOL) as (keyof ConnectionPoolConfig)[]) {
    const v = p[key];
    if (typeof v !== "number" || v === DEFAULT_CONNECTION_POOL[key]) continue;
    const shown = v === UNLIMITED ? "unlimited" : key.endsWith("Ms") ? formatMs(v) : String(v);
    parts.push(`${key.replace(/Ms$/, "")} ${shown}`);
  }
  if (p.tcpKeepalive) parts.push("tcpKeepalive on");
  return parts.length > 0 ? parts.join(", ") : "Istio defaults (unlimited)";
}

export function describeOutlier(o: OutlierDetectionConfig | undefined): string {
  if (!o) return "off (no outlierDetection in the DestinationRule)";
  const parts = [
    `consecutive5xxErrors ${o.consecutive5xxErrors}`,
    `consecutiveGatewayErrors ${o.consecutiveGatewayErrors}`,
    `interval ${formatMs(o.intervalMs)}`,
    `baseEjectionTime ${formatMs(o.baseEjectionTimeMs)}`,
    `maxEjectionPercent ${o.maxEjectionPercent}`,
    `minHealthPercent ${o.minHealthPercent}`,
  ];
  if (o.splitExternalLocalOriginErrors) parts.push(`consecutiveLocalOriginFailures ${o.consecutiveLocalOriginFailures}`);
  return parts.join(", ");
}

export function describeTls(c: Cluster): string {
  if (!c.tls) return "plain text";
  if (c.autoMtls === true) return "auto mTLS: ISTIO_MUTUAL to endpoints with a sidecar (tlsMode istio), plain text to the others";
  return `${c.tls.mode}${c.tls.sni ? ` sni ${c.tls.sni}` : ""}${c.tls.subjectAltNames.length > 0 ? ` san ${c.tls.subjectAltNames.join(",")}` : ""}`;
}
