// The headers a sample app copies from the request it is serving onto each request it makes.
// The sidecars start and report the spans; only the app knows which outbound call belongs to which
// inbound one, so it must carry the trace context across (Istio's distributed-tracing overview).
// end-user, cookie and authorization ride along too, as in Istio's Bookinfo, so header-based routing
// (the `end-user: jason` VirtualServices) and authentication see them on every hop.
import type { IncomingHttpHeaders } from "node:http";

export const PROPAGATED_HEADERS = [
  // Envoy's request id: access logs and consistent trace/log sampling.
  "x-request-id",
  // W3C Trace Context.
  "traceparent",
  "tracestate",
  // Zipkin B3, multi-header and single-header forms.
  "x-b3-traceid",
  "x-b3-spanid",
  "x-b3-parentspanid",
  "x-b3-sampled",
  "x-b3-flags",
  "b3",
  // Other tracers Istio's samples support.
  "x-ot-span-context",
  "x-datadog-trace-id",
  "x-datadog-parent-id",
  "x-datadog-sampling-priority",
  "x-cloud-trace-context",
  "grpc-trace-bin",
  "sw8",
  // Application context, as Bookinfo forwards it.
  "end-user",
  "user-agent",
  "cookie",
  "authorization",
  "jwt",
] as const;

/** The propagated headers present on `incoming`, lowercase names, repeated values joined. */
export function propagate(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PROPAGATED_HEADERS) {
    const value = incoming[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(name === "cookie" ? "; " : ", ") : value;
  }
  return out;
}
