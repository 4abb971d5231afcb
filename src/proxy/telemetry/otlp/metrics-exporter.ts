// Istio's standard metrics over OTLP (an `opentelemetry` provider under Telemetry `metrics`): on
// each reporting interval the whole store is snapshotted into one ExportMetricsServiceRequest
// (cumulative sums and histograms, so a lost export loses no count: the next one carries it) and
// sent by OTLP/HTTP protobuf (POST …/v1/metrics) or OTLP/gRPC MetricsService/Export, through the
// shared batch loop (retry with backoff, drop and count).
import { BatchExporter, type SendOutcome } from "../export/batch-exporter.ts";
import type { MetricSink, MetricSinkContext } from "../export/metric-sink.ts";
import { encodeMetricsRequest, otlpMetricsRequest } from "./metrics-proto.ts";

/** Snapshots waiting at most: cumulative, so an old one is worth little once a newer one exists. */
const MAX_QUEUED_SNAPSHOTS = 4;

export class OtlpMetricsExporter implements MetricSink {
  readonly counters: BatchExporter<Uint8Array>;
  private readonly ctx: MetricSinkContext;
  private readonly onClose: () => void;

  /** `send` carries one encoded request (HTTP POST or gRPC call); `onClose` releases its channel. */
  constructor(ctx: MetricSinkContext, send: (body: Uint8Array) => Promise<SendOutcome>, onClose: () => void = () => {}) {
    this.ctx = ctx;
    this.onClose = onClose;
    this.counters = new BatchExporter<Uint8Array>({ name: "otlp_metrics", send: (b) => send(b[0] as Uint8Array), clock: ctx.clock, maxQueue: MAX_QUEUED_SNAPSHOTS, maxBatch: 1, flushIntervalMs: 0 });
  }

  collect(): void {
    if (!this.counters.accepting) {
      this.counters.drop();
      return;
    }
    this.counters.add(encodeMetricsRequest(otlpMetricsRequest(this.ctx.store, this.ctx.resource, this.ctx.clock.wallNow())));
  }

  flush(): Promise<void> {
    return this.counters.flush();
  }

  async close(): Promise<void> {
    this.collect();
    await this.counters.close();
    this.onClose();
  }
}
