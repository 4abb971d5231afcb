// Where a telemetry provider's data goes (MeshConfig extensionProviders): its collector's address
// (Istio's `namespace/host` reduced to the host, IPv6 bracketed), TLS when a DestinationRule
// originates it, OTLP headers and timeouts — for spans (tracingEndpoint) and metrics
// (metricsExporter). Which providers apply to a proxy is telemetry.ts's business. Pure.
import type { CollectorTlsConfig, MetricsExportConfig, TracingConfig, UpstreamTlsConfig } from "../../model/proxy-config.ts";
import { providerProblem, serviceHost } from "../../config/mesh-config/providers.ts";
import type { ExtensionProvider } from "../../model/specs/mesh-config.ts";
import { arr, durationMs, num, obj, str } from "./common.ts";

export const bracket = (host: string): string => (host.includes(":") ? `[${host}]` : host);

/** TLS to a collector at host:port: the DestinationRule's SIMPLE or MUTUAL settings for it (undefined: plaintext). */
export type CollectorTlsLookup = (host: string, port: number) => UpstreamTlsConfig | undefined;

/** Where a tracing provider's spans go, and how. */
export type SpanTarget = Pick<TracingConfig, "endpoint" | "format" | "encoding" | "headers" | "timeoutMs" | "grpc" | "tls">;

/**
 * Where spans go for a tracing provider. A provider the proxy cannot export to (analyze warns,
 * AMM1012) propagates headers only; an unknown name (analyze error, AMM1011) too. A provider's
 * `service:port` goes over TLS when a DestinationRule for that host originates it (Istio's way:
 * the tracer's cluster takes the DestinationRule), zipkin and OTLP/HTTP as https, OTLP/gRPC too.
 */
export function tracingEndpoint(p: ExtensionProvider | undefined, tlsFor: CollectorTlsLookup | undefined): SpanTarget {
  if (p === undefined || providerProblem("tracing", p) !== null) return { format: p?.opentelemetry ? "otlp" : "zipkin" };
  const at = (service: string, port: number): { origin: string; tls: CollectorTlsConfig | undefined } => {
    const c = collectorAt(service, port, tlsFor);
    return { origin: `${c.tls ? "https" : "http"}://${c.target}`, tls: c.tls };
  };
  if (p.zipkin) {
    const z = p.zipkin;
    if (str(z.endpoint) !== undefined) return { endpoint: z.endpoint as string, format: "zipkin" };
    if (!str(z.service)) return { format: "zipkin" };
    const { origin, tls } = at(z.service as string, num(z.port) ?? 9411);
    return { endpoint: `${origin}${str(z.path) ?? "/api/v2/spans"}`, format: "zipkin", ...(tls ? { tls } : {}) };
  }
  const o = p.opentelemetry ?? {};
  if (str(o.endpoint) !== undefined) return { endpoint: o.endpoint as string, format: "otlp" };
  if (!str(o.service)) return { format: "otlp" };
  // Istio's shape (service, port, http) is what Envoy exports as OTLP/HTTP protobuf; without `http`, OTLP/gRPC.
  const grpc = o.http === undefined;
  const { origin, tls } = at(o.service as string, num(o.port) ?? (grpc ? 4317 : 4318));
  const out: SpanTarget = grpc ? { endpoint: origin, format: "otlp", encoding: "protobuf", grpc: true } : { endpoint: `${origin}${str(o.http?.path) ?? "/v1/traces"}`, format: "otlp", encoding: "protobuf" };
  if (tls) out.tls = tls;
  const headers = otlpHeaders(grpc ? o.grpc?.initialMetadata : o.http?.headers);
  if (headers.length > 0) out.headers = headers;
  const timeout = durationMs(grpc ? o.grpc?.timeout : o.http?.timeout);
  if (timeout !== undefined && timeout > 0) out.timeoutMs = timeout;
  return out;
}

/** A collector's `host:port` (Istio's `namespace/host` reduced to the host) and its TLS, if a DestinationRule originates it. */
export function collectorAt(service: string, port: number, tlsFor: CollectorTlsLookup | undefined): { target: string; tls: CollectorTlsConfig | undefined } {
  const host = serviceHost(service);
  return { target: `${bracket(host)}:${port}`, tls: collectorTls(tlsFor?.(host, port)) };
}

function collectorTls(t: UpstreamTlsConfig | undefined): CollectorTlsConfig | undefined {
  if (t === undefined || (t.mode !== "SIMPLE" && t.mode !== "MUTUAL")) return undefined;
  const out: CollectorTlsConfig = {};
  if (t.caCertificates !== undefined) out.caCertificates = t.caCertificates;
  if (t.clientCertificate !== undefined) out.clientCertificate = t.clientCertificate;
  if (t.privateKey !== undefined) out.privateKey = t.privateKey;
  if (t.sni !== undefined) out.sni = t.sni;
  if (t.insecureSkipVerify) out.insecureSkipVerify = true;
  return out;
}

/** `http.headers`: `{name, value}` or `{name, envName}` (read by the proxy from its environment). */
function otlpHeaders(list: unknown): NonNullable<TracingConfig["headers"]> {
  const out: NonNullable<TracingConfig["headers"]> = [];
  for (const h of arr(list as unknown[] | undefined)) {
    const name = str(obj(h as Record<string, unknown>)?.name);
    if (name === undefined || name === "") continue;
    const value = str((h as Record<string, unknown>).value);
    const envName = str((h as Record<string, unknown>).envName);
    if (value !== undefined) out.push({ name, value });
    else if (envName !== undefined) out.push({ name, envName });
  }
  return out;
}

/** An OTLP/HTTP path for metrics from a traces one: `…/v1/traces` → `…/v1/metrics` (OTLP's per-signal paths). */
function metricsPath(path: string | undefined): string {
  return path !== undefined && path.endsWith("/v1/traces") ? `${path.slice(0, -"/v1/traces".length)}/v1/metrics` : "/v1/metrics";
}

/** The exporter of one metrics provider; null for `prometheus` (scraped) and the types analyze warns about (AMM1011/AMM1012). */
export function metricsExporter(p: ExtensionProvider | undefined, intervalMs: number, tlsFor: CollectorTlsLookup | undefined): MetricsExportConfig | null {
  if (p === undefined || providerProblem("metrics", p) !== null) return null;
  if (p.dogstatsd) {
    const d = p.dogstatsd;
    const out: MetricsExportConfig = { kind: "dogstatsd", target: `${bracket(serviceHost(str(d.service) ?? ""))}:${num(d.port) ?? 8125}`, intervalMs };
    const prefix = str(d.prefix);
    if (prefix !== undefined) out.prefix = prefix;
    return out;
  }
  const o = p.opentelemetry;
  if (!o) return null;
  const endpoint = str(o.endpoint);
  if (endpoint === undefined && o.http === undefined) {
    const at = collectorAt(str(o.service) ?? "", num(o.port) ?? 4317, tlsFor);
    const out: MetricsExportConfig = { kind: "otlp", protocol: "grpc", target: at.target, intervalMs, ...(at.tls ? { tls: at.tls } : {}) };
    // As for traces over gRPC: initialMetadata as metadata (vendor auth), grpc.timeout per call.
    const headers = otlpHeaders(o.grpc?.initialMetadata);
    if (headers.length > 0) out.headers = headers;
    const timeout = durationMs(o.grpc?.timeout);
    if (timeout !== undefined && timeout > 0) out.timeoutMs = timeout;
    return out;
  }
  let tls: CollectorTlsConfig | undefined;
  let target: string;
  if (endpoint !== undefined) {
    if (!URL.canParse(endpoint)) return null; // the MeshConfig validator reports it
    const u = new URL(endpoint);
    u.pathname = metricsPath(u.pathname);
    target = u.toString();
  } else {
    const at = collectorAt(str(o.service) ?? "", num(o.port) ?? 4318, tlsFor);
    tls = at.tls;
    target = `${tls ? "https" : "http"}://${at.target}${metricsPath(str(o.http?.path))}`;
  }
  const out: MetricsExportConfig = { kind: "otlp", protocol: "http", target, intervalMs, ...(tls ? { tls } : {}) };
  const headers = otlpHeaders(o.http?.headers);
  if (headers.length > 0) out.headers = headers;
  const timeout = durationMs(o.http?.timeout);
  if (timeout !== undefined && timeout > 0) out.timeoutMs = timeout;
  return out;
}
