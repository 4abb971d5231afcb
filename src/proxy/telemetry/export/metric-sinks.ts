// The sidecar's metrics exporters (TelemetryConfig.metricsExport): one per configured provider,
// each with its own reporting-interval timer, re-created when a pushed config changes it, closed
// (with a last snapshot) when the config drops it. Transports that bring heavy modules (gRPC) are
// loaded by the first config that asks for them.
import type { TimerHandle } from "../../../core/clock.ts";
import type { MetricsExportConfig } from "../../../model/proxy-config.ts";
import type { ExportCounters } from "./batch-exporter.ts";
import { collectorTlsReader } from "./collector-tls.ts";
import { postWithTls, resolveHeaders } from "./http-post.ts";
import type { MetricSink, MetricSinkContext } from "./metric-sink.ts";

interface Running {
  sink: MetricSink;
  timer: TimerHandle | null;
}

async function createSink(c: MetricsExportConfig, ctx: MetricSinkContext): Promise<MetricSink> {
  const timeoutMs = c.timeoutMs ?? 5000;
  if (c.kind === "dogstatsd") {
    const { DogStatsdExporter } = await import("../dogstatsd/dogstatsd-exporter.ts");
    return new DogStatsdExporter(ctx, c.target, c.prefix ?? "envoy");
  }
  const { OtlpMetricsExporter } = await import("../otlp/metrics-exporter.ts");
  if (c.protocol === "grpc") {
    const { GrpcExport } = await import("../otlp/grpc-export.ts");
    const grpc = new GrpcExport(c.target, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", timeoutMs, { headers: resolveHeaders(c.headers), tls: c.tls !== undefined ? collectorTlsReader(c.tls) : undefined });
    return new OtlpMetricsExporter(ctx, (body) => grpc.call(body), () => grpc.close());
  }
  const target = { endpoint: c.target, headers: resolveHeaders(c.headers), timeoutMs, meshRoots: ctx.meshRoots };
  const tls = c.tls !== undefined && c.target.startsWith("https:") ? collectorTlsReader(c.tls) : null;
  return new OtlpMetricsExporter(ctx, (body) => postWithTls(target, body, "application/x-protobuf", tls));
}

export class MetricSinks {
  private running = new Map<string, Running>();

  /** The exporters' counters, for the metrics endpoint. */
  counters(): ExportCounters[] {
    return [...this.running.values()].map((r) => r.sink.counters);
  }

  /** Bring the exporters in line with `list`: keep unchanged ones, close dropped ones, start new ones. */
  async sync(list: readonly MetricsExportConfig[], ctx: MetricSinkContext): Promise<void> {
    const want = new Map(list.map((c) => [JSON.stringify(c), c]));
    for (const [key, r] of this.running) {
      if (want.has(key)) continue;
      this.running.delete(key);
      r.timer?.cancel();
      void r.sink.close();
    }
    for (const [key, c] of want) {
      if (this.running.has(key)) continue;
      const r: Running = { sink: await createSink(c, ctx), timer: null };
      this.running.set(key, r);
      const tick = (): void => {
        r.sink.collect();
        void r.sink.flush();
        r.timer = ctx.clock.setTimeout(tick, c.intervalMs).unref();
      };
      r.timer = ctx.clock.setTimeout(tick, c.intervalMs).unref();
    }
  }

  /** Take a snapshot now and send it (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => (r.sink.collect(), r.sink.flush())));
  }

  async close(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    for (const r of all) r.timer?.cancel();
    await Promise.all(all.map((r) => r.sink.close()));
  }
}
