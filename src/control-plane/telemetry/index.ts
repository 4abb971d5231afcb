// Stage: the control plane's telemetry — an embedded Zipkin v2 collector (span-store, zipkin-api),
// a metrics store scraping every sidecar's /stats/prometheus (metrics-store, golden-signals) and
// the service graph (graph). TelemetryService mounts them all on the control plane's server.
export { TelemetryService, parseWindow, type TelemetryServiceOptions } from "./telemetry-service.ts";
export { SpanStore, type StoredSpan } from "./span-store.ts";
export { MetricsStore } from "./metrics-store.ts";
export { parsePrometheusText, PrometheusParseError } from "./prometheus-parse.ts";
export type { Graph, GraphEdge, GraphNode, ServiceRow } from "./graph.ts";
