// The span a finished request reports (Envoy's HTTP tracing tags and Istio's, the route's custom
// tags, the client or server side's endpoints), built only for a sampled span that is reported.
import type { TelemetryRequest } from "../request/context.ts";
import type { TelemetrySettings } from "./settings.ts";
import { endpointOf, type Span } from "./tracing/span.ts";
import type { OutgoingSpan } from "./tracing/trace-context.ts";
import { formatResponseFlags } from "../request/response-flags.ts";

/** The Zipkin span of request `x` (`s`: its ids and parent). */
export function requestSpan(x: TelemetryRequest, c: TelemetrySettings, grpcStatus: string, s: OutgoingSpan): Span {
  const client = x.direction !== "inbound"; // outbound and gateway listeners: the client side
  const cluster = c.cluster(x.cluster);
  const svc = cluster?.service;
  const q = x.path.indexOf("?");
  const name = svc !== undefined ? `${svc.host}:${svc.port}/*` : `${x.authority}${q < 0 ? x.path : x.path.slice(0, q)}`;
  const tags: Record<string, string> = {
    component: "proxy",
    "http.method": x.method,
    "http.url": `http://${x.authority}${x.path}`,
    "http.protocol": "HTTP/1.1",
    "http.status_code": String(x.status),
    response_flags: formatResponseFlags(x.flags),
    upstream_cluster: x.cluster || "-",
    "upstream_cluster.name": x.cluster || "-",
    node_id: c.config.node.id,
    "guid:x-request-id": x.requestId,
    "peer.address": x.sourceIp,
    request_size: String(x.bytesReceived),
    response_size: String(x.bytesSent),
  };
  if (c.tracing?.istioTags !== false) {
    tags["istio.canonical_service"] = c.self.canonicalService;
    tags["istio.canonical_revision"] = c.self.canonicalRevision;
    tags["istio.namespace"] = c.self.namespace;
    tags["istio.mesh_id"] = c.self.trustDomain;
  }
  if (x.upstreamHost !== "") tags.upstream_address = x.upstreamHost;
  const ua = x.header("user-agent");
  if (ua !== undefined) tags.user_agent = ua;
  if (grpcStatus !== "") tags["grpc.status_code"] = grpcStatus;
  if (x.status >= 500 || x.status === 0) tags.error = "true";
  const tr = c.tracing;
  if (tr !== null) {
    for (const [k, v] of tr.fixedTags) tags[k] = v;
    for (const [k, h, def] of tr.headerTags) {
      const v = x.header(h) ?? def;
      if (v !== undefined) tags[k] = v;
    }
  }
  const span: Span = {
    traceId: s.traceId,
    id: s.spanId,
    name,
    kind: client ? "CLIENT" : "SERVER",
    timestamp: Math.round(x.startWallMs * 1000),
    duration: Math.max(1, Math.round(x.durationMs * 1000)),
    localEndpoint: { serviceName: c.serviceName, ...(/^\d+\.\d+\.\d+\.\d+$/.test(c.config.node.ip) ? { ipv4: c.config.node.ip } : {}) },
    tags,
  };
  if (s.parentId !== "") span.parentId = s.parentId;
  const remote = client ? endpointOf(x.upstreamHost) : endpointOf(x.sourceIp);
  if (remote !== undefined) span.remoteEndpoint = remote;
  return span;
}
