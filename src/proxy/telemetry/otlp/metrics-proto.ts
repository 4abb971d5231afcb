// Istio's standard metrics as one OTLP ExportMetricsServiceRequest: the counters as cumulative
// monotonic sums (integers), the three distributions as cumulative explicit-bucket histograms
// (Envoy's bounds, the same buckets Prometheus sees), every series' Istio labels as attributes,
// counted from the store's start. Built on the exporter's interval, never on a request.
import type protobuf from "protobufjs";
import type { IstioMetrics } from "../metrics/istio-metrics.ts";
import { parseLabelText } from "../metrics/prometheus-text.ts";
import { fixed64, otlpRoot } from "./protos.ts";

const CUMULATIVE = 2;

let requestType: protobuf.Type | null = null;
export function metricsRequestType(): protobuf.Type {
  return (requestType ??= otlpRoot().lookupType("opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest"));
}

type Attr = { key: string; value: { stringValue: string } };

/** A point's Istio labels (or its override-shaped ones) as OTLP attributes. */
function attributes(labels: string): Attr[] {
  return parseLabelText(labels).map(([key, v]) => ({ key, value: { stringValue: v } }));
}

/** The request as a plain object (protobufjs `fromObject` shape). */
export function otlpMetricsRequest(store: IstioMetrics, resource: Readonly<Record<string, string>>, nowWallMs: number): { resourceMetrics: unknown[] } {
  const t = { startTimeUnixNano: fixed64(BigInt(Math.round(store.startWallMs)) * 1_000_000n), timeUnixNano: fixed64(BigInt(Math.round(nowWallMs)) * 1_000_000n) };
  const metrics = store.families().map((f) => {
    const head = { name: f.name, description: f.help, unit: f.unit };
    if (f.kind === "counter") {
      const dataPoints = f.points.map((p) => ({ ...t, attributes: attributes(p.labels), asInt: p.value }));
      return { ...head, sum: { aggregationTemporality: CUMULATIVE, isMonotonic: true, dataPoints } };
    }
    const dataPoints = f.points.map((p) => ({ ...t, attributes: attributes(p.labels), count: p.hist.count, sum: p.hist.sum, bucketCounts: p.hist.counts, explicitBounds: p.hist.bucketBounds }));
    return { ...head, histogram: { aggregationTemporality: CUMULATIVE, dataPoints } };
  });
  const res = Object.entries(resource).map(([key, v]) => ({ key, value: { stringValue: v } }));
  return { resourceMetrics: [{ resource: { attributes: res }, scopeMetrics: [{ scope: { name: "amime-proxy" }, metrics }] }] };
}

/** The request encoded as protobuf (what OTLP/HTTP posts to /v1/metrics and OTLP/gRPC carries). */
export function encodeMetricsRequest(msg: { resourceMetrics: unknown[] }): Uint8Array {
  const t = metricsRequestType();
  return t.encode(t.fromObject(msg)).finish();
}
