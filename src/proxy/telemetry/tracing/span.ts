// A finished span in Zipkin v2's shape (which is what the embedded collector stores), and its
// OTLP/HTTP JSON encoding. Times are microseconds since the epoch, as Zipkin wants.

export interface SpanEndpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

export interface Span {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind: "CLIENT" | "SERVER";
  timestamp: number;
  duration: number;
  localEndpoint: SpanEndpoint;
  remoteEndpoint?: SpanEndpoint;
  tags: Record<string, string>;
}

/** Zipkin v2 JSON body for POST /api/v2/spans. */
export function zipkinJson(spans: readonly Span[]): string {
  return JSON.stringify(spans);
}

/** Split `host:port` (IPv4 or [IPv6]) into a Zipkin endpoint. */
export function endpointOf(hostPort: string, serviceName?: string): SpanEndpoint | undefined {
  if (hostPort === "") return serviceName !== undefined ? { serviceName } : undefined;
  let host = hostPort;
  let port: number | undefined;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    host = hostPort.slice(1, close < 0 ? undefined : close);
    if (close > 0 && hostPort[close + 1] === ":") port = Number(hostPort.slice(close + 2));
  } else {
    const colon = hostPort.indexOf(":");
    if (colon > 0 && colon === hostPort.lastIndexOf(":")) {
      host = hostPort.slice(0, colon);
      port = Number(hostPort.slice(colon + 1));
    }
  }
  const ep: SpanEndpoint = {};
  if (serviceName !== undefined) ep.serviceName = serviceName;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) ep.ipv4 = host;
  else if (host.includes(":")) ep.ipv6 = host;
  if (port !== undefined && Number.isInteger(port) && port > 0) ep.port = port;
  return ep;
}

type OtlpValue = { stringValue: string };

function attrs(m: Record<string, string>): { key: string; value: OtlpValue }[] {
  return Object.entries(m).map(([key, v]) => ({ key, value: { stringValue: v } }));
}

function byService(spans: readonly Span[]): Map<string, Span[]> {
  const out = new Map<string, Span[]>();
  for (const s of spans) {
    const name = s.localEndpoint.serviceName ?? "unknown";
    let list = out.get(name);
    if (list === undefined) out.set(name, (list = []));
    list.push(s);
  }
  return out;
}

/** One span's OTLP fields; `id` turns hex ids into the encoding's form, `time` nanoseconds. */
function otlpSpan<I, T>(s: Span, id: (hex: string) => I, time: (ns: bigint) => T): Record<string, unknown> {
  const start = BigInt(Math.round(s.timestamp)) * 1000n;
  return {
    traceId: id(s.traceId.padStart(32, "0")),
    spanId: id(s.id),
    ...(s.parentId !== undefined ? { parentSpanId: id(s.parentId) } : {}),
    name: s.name,
    // OTLP SpanKind: 2 SERVER, 3 CLIENT.
    kind: s.kind === "SERVER" ? 2 : 3,
    startTimeUnixNano: time(start),
    endTimeUnixNano: time(start + BigInt(Math.round(s.duration)) * 1000n),
    attributes: attrs(s.tags),
    // OTLP StatusCode: 2 ERROR, 0 UNSET.
    status: { code: s.tags.error === "true" ? 2 : 0 },
  };
}

/** The ExportTraceServiceRequest object: one ResourceSpans per service, scope `amime-proxy`. */
export function otlpTraceRequest<I, T>(spans: readonly Span[], id: (hex: string) => I, time: (ns: bigint) => T): { resourceSpans: unknown[] } {
  const resourceSpans = [...byService(spans)].map(([service, list]) => ({
    resource: { attributes: attrs({ "service.name": service }) },
    scopeSpans: [{ scope: { name: "amime-proxy" }, spans: list.map((s) => otlpSpan(s, id, time)) }],
  }));
  return { resourceSpans };
}

/** OTLP/HTTP JSON (ExportTraceServiceRequest) for POST /v1/traces; ids hex as the JSON mapping says. */
export function otlpJson(spans: readonly Span[]): string {
  return JSON.stringify(otlpTraceRequest(spans, (hex) => hex, (ns) => String(ns)));
}
