// SidecarTelemetry: the sidecar's observability, attached when its config has `telemetry`.
// Installs the request hooks, owns the Istio metrics store, the access logger and the span
// exporter (re-created when a pushed config changes their path or endpoint), and serves
// Prometheus text on the metrics listener (`/stats/prometheus`, default port 15090).
import { AccessLogger } from "./access-log/access-logger.ts";
import type * as OtlpLogs from "./otlp/log-exporter.ts";
import type { OtlpLogExporter } from "./otlp/log-exporter.ts";
import type * as Fluentd from "./fluentd/forward-client.ts";
import type { FluentdForwarder } from "./fluentd/forward-client.ts";
import { IstioMetrics } from "./metrics/istio-metrics.ts";
import { PROMETHEUS_CONTENT_TYPE, PrometheusWriter } from "./metrics/prometheus-text.ts";
import { renderProxyStats, type ProxyStatsSource } from "./metrics/proxy-stats.ts";
import type { ProxyContext } from "../request/context.ts";
import { readOnly, SmallHttpServer, type SmallRequest, type SmallResponse } from "../small-http/index.ts";

/** What telemetry needs of the sidecar: its config, its engine context (hooks go there), its stats. */
export interface TelemetryHost extends ProxyStatsSource {
  readonly ctx: ProxyContext;
  /** Where the metrics listener binds when the config does not say (`--prometheus-address`); absent: the node ip. */
  readonly prometheusAddress?: string | undefined;
}
import { RequestHooks, type HookSinks } from "./request-hooks.ts";
import { DEFAULT_METRICS_PORT, settingsOf } from "./settings.ts";
import { SpanExporter } from "./tracing/span-exporter.ts";
import { resolveHeaders } from "./export/http-post.ts";
import { MetricSinks } from "./export/metric-sinks.ts";
import type { ExportCounters } from "./export/batch-exporter.ts";

let otlpLogs: typeof OtlpLogs | undefined;
let fluentd: typeof Fluentd | undefined;

export class SidecarTelemetry {
  private readonly sidecar: TelemetryHost;
  private readonly sinks: HookSinks;
  /** OTLP metrics and DogStatsD exporters (TelemetryConfig.metricsExport). */
  private readonly metricSinks = new MetricSinks();
  private server: SmallHttpServer | null = null;
  private boundAt = "";
  private exportKey = "";
  private logKey = "";
  /** Port of the metrics listener (0 when it is not bound). */
  metricsPort = 0;
  /** Why the metrics listener could not bind, if it could not (the proxy keeps running). */
  metricsError: string | null = null;

  private constructor(sidecar: TelemetryHost) {
    this.sidecar = sidecar;
    this.sinks = { metrics: new IstioMetrics(settingsOf(sidecar.config).maxSeries, sidecar.ctx.clock.wallNow()), accessLog: null, exporter: null };
  }

  /**
   * Bring telemetry in line with the sidecar's current config: attach on first use, re-create
   * sinks whose settings changed, detach when the config no longer asks for telemetry.
   */
  static async sync(s: TelemetryHost, cur: SidecarTelemetry | null): Promise<SidecarTelemetry | null> {
    if (s.config.telemetry === undefined) {
      if (cur !== null) await cur.close();
      return null;
    }
    const t = cur ?? new SidecarTelemetry(s);
    await t.reconfigure();
    return t;
  }

  get metrics(): IstioMetrics {
    return this.sinks.metrics;
  }

  get accessLog(): AccessLogger | OtlpLogExporter | FluentdForwarder | null {
    return this.sinks.accessLog;
  }

  get exporter(): SpanExporter | null {
    return this.sinks.exporter;
  }

  private async reconfigure(): Promise<void> {
    const s = this.sidecar;
    let c = settingsOf(s.config);
    // The OTLP log exporter brings gRPC (node:http2, node:tls): loaded by the first config that
    // sends access logs over OTLP, not by every sidecar (issue 15).
    while (c.accessLog?.otel != null && otlpLogs === undefined) {
      otlpLogs = await import("./otlp/log-exporter.ts");
      c = settingsOf(s.config);
    }
    while (c.accessLog?.fluentd != null && fluentd === undefined) {
      fluentd = await import("./fluentd/forward-client.ts");
      c = settingsOf(s.config);
    }
    const tc = s.config.telemetry ?? {};
    if (s.ctx.telemetry === undefined) s.ctx.telemetry = new RequestHooks(() => settingsOf(s.config), this.sinks, s.ctx.random, s.ctx.clock);

    const otel = c.accessLog?.otel ?? null;
    const fd = c.accessLog?.fluentd ?? null;
    const logKey = c.accessLog === null ? "" : otel !== null ? `otel ${otel.key}` : fd !== null ? `fluentd ${fd.key}` : `file ${c.accessLog.path}`;
    if (this.sinks.accessLog !== null && logKey !== this.logKey) {
      const old = this.sinks.accessLog;
      this.sinks.accessLog = null;
      void old.close();
    }
    this.logKey = logKey;
    if (c.accessLog !== null && this.sinks.accessLog === null) {
      if (fd !== null) this.sinks.accessLog = new fluentd!.FluentdForwarder({ target: fd.target, tag: fd.tag, record: fd.record, clock: s.ctx.clock });
      else if (otel === null) this.sinks.accessLog = new AccessLogger({ path: c.accessLog.path });
      else {
        // Envoy's OpenTelemetry access logger names the log and the proxy in resource attributes.
        const resource: Record<string, string> = { log_name: otel.logName, node_name: s.config.node.id, cluster_name: c.serviceName };
        this.sinks.accessLog = new otlpLogs!.OtlpLogExporter({ target: otel.target, resource, ...(otel.attributes !== undefined ? { attributes: otel.attributes } : {}), ...(otel.tls !== undefined ? { tls: otel.tls } : {}), clock: s.ctx.clock });
      }
    }

    const tr = tc.tracing;
    const endpoint = c.tracing?.report === true && tr?.endpoint !== undefined ? tr.endpoint : null;
    const exportKey = endpoint === null ? "" : JSON.stringify([endpoint, tr?.format, tr?.encoding, tr?.headers, tr?.timeoutMs, tr?.grpc, tr?.tls]);
    const ex = this.sinks.exporter;
    if (ex !== null && exportKey !== this.exportKey) {
      this.sinks.exporter = null;
      void ex.close();
    }
    this.exportKey = exportKey;
    if (endpoint !== null && this.sinks.exporter === null) {
      this.sinks.exporter = new SpanExporter({
        endpoint,
        format: tr?.format === "otlp" ? "otlp" : "zipkin",
        ...(tr?.encoding === "protobuf" ? { encoding: "protobuf" as const } : {}),
        headers: resolveHeaders(tr?.headers),
        ...(tr?.timeoutMs !== undefined ? { timeoutMs: tr.timeoutMs } : {}),
        ...(tr?.grpc === true ? { grpc: true } : {}),
        ...(tr?.tls !== undefined ? { tls: tr.tls } : {}),
        clock: s.ctx.clock,
        meshRoots: () => s.ctx.mesh?.options?.ca,
      });
    }

    const resource = { "service.name": c.serviceName, "service.instance.id": s.config.node.id };
    await this.metricSinks.sync(tc.metricsExport ?? [], { store: this.sinks.metrics, clock: s.ctx.clock, resource, meshRoots: () => s.ctx.mesh?.options?.ca });

    const port = tc.metricsPort ?? DEFAULT_METRICS_PORT;
    const address = tc.metricsAddress ?? s.prometheusAddress ?? s.config.node.ip ?? "127.0.0.1";
    const want = `${address}:${port}`;
    if (this.boundAt !== want) {
      await this.closeServer();
      // Several sidecars on one host (the local runtime) cannot all have 15090: when the default
      // is taken, any free port will do (it is also served on the admin listener's /stats/prometheus).
      if (!(await this.listen(address, port)) && tc.metricsPort === undefined) await this.listen(address, 0);
      if (this.metricsError !== null) process.stderr.write(`amime proxy: ${this.metricsError}\n`);
      this.boundAt = want;
    }
  }

  private async listen(address: string, port: number): Promise<boolean> {
    const server = new SmallHttpServer((req) => this.handle(req), this.sidecar.ctx.clock);
    try {
      this.metricsPort = await server.listen(port, address);
    } catch (e) {
      // A taken port must not take the proxy down with it: report it and serve without.
      this.metricsError = `metrics listener ${address}:${port}: ${(e as Error).message}`;
      return false;
    }
    this.metricsError = null;
    this.server = server;
    return true;
  }

  private handle(req: SmallRequest): SmallResponse {
    if (req.path === "/stats/prometheus" || req.path === "/metrics") {
      // Read-only, as Envoy's Prometheus listener: GET and HEAD, anything else 405.
      return readOnly(req) ?? { status: 200, contentType: PROMETHEUS_CONTENT_TYPE, body: this.prometheusText() };
    }
    return { status: 404, contentType: "text/plain", body: "not found: try /stats/prometheus\n" };
  }

  /** Everything this proxy exposes to Prometheus, rendered now. */
  prometheusText(): string {
    const w = new PrometheusWriter();
    this.sinks.metrics.render(w);
    renderProxyStats(this.sidecar, w);
    const al = this.sinks.accessLog;
    // A collector-bound log (OTLP or Fluentd) counts through its batch loop; a file through its buffer.
    const otlp = al !== null && "batches" in al ? al : null;
    w.header("amime_access_log_written_total", "counter", "Access log lines handed to the OS, or records accepted by the OTLP logs collector or Fluentd.");
    w.sample("amime_access_log_written_total", "", otlp !== null ? otlp.batches.sent : ((al as AccessLogger | null)?.written ?? 0));
    w.header("amime_access_log_dropped_total", "counter", "Access log lines dropped because the buffer was full.");
    w.sample("amime_access_log_dropped_total", "", otlp !== null ? otlp.batches.dropped : ((al as AccessLogger | null)?.dropped ?? 0));
    w.header("amime_access_log_export_retries_total", "counter", "OTLP log or Fluentd batches sent again after a retryable failure.");
    w.sample("amime_access_log_export_retries_total", "", otlp?.batches.retries ?? 0);
    w.header("amime_access_log_export_failures_total", "counter", "OTLP log Export calls or Fluentd forwards that failed (each try counts).");
    w.sample("amime_access_log_export_failures_total", "", otlp?.batches.failedSends ?? 0);
    const ex = this.sinks.exporter;
    w.header("amime_tracing_spans_exported_total", "counter", "Spans accepted by the trace collector.");
    w.sample("amime_tracing_spans_exported_total", "", ex?.batches.sent ?? 0);
    w.header("amime_tracing_spans_dropped_total", "counter", "Spans dropped (queue full or collector failure).");
    w.sample("amime_tracing_spans_dropped_total", "", ex?.batches.dropped ?? 0);
    w.header("amime_tracing_export_retries_total", "counter", "Span batches sent again after a retryable failure (no connection, timeout, 429, 502, 503, 504).");
    w.sample("amime_tracing_export_retries_total", "", ex?.batches.retries ?? 0);
    w.header("amime_tracing_export_failures_total", "counter", "Span export POSTs that failed (each try counts).");
    w.sample("amime_tracing_export_failures_total", "", ex?.batches.failedSends ?? 0);
    w.header("amime_tracing_spans_queued", "gauge", "Spans waiting to be exported.");
    w.sample("amime_tracing_spans_queued", "", ex?.batches.queued ?? 0);
    renderExportCounters(w, this.exportCounters());
    return w.text();
  }

  /** Every exporter's queue and batch counters (access logs sent to a collector, spans, metrics). */
  exportCounters(): ExportCounters[] {
    const out: ExportCounters[] = [];
    const al = this.sinks.accessLog;
    if (al !== null && "batches" in al) out.push(al.batches);
    if (this.sinks.exporter !== null) out.push(this.sinks.exporter.batches);
    out.push(...this.metricSinks.counters());
    return out;
  }

  /** Write out what is buffered (access log lines, spans) and send the metrics exporters a snapshot now. */
  async flush(): Promise<void> {
    await Promise.all([this.sinks.accessLog?.drained(), this.sinks.exporter?.flush(), this.metricSinks.flush()]);
  }

  private closeServer(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.metricsPort = 0;
    return server === null ? Promise.resolve() : server.close();
  }

  async close(): Promise<void> {
    if (this.sidecar.ctx.telemetry !== undefined) this.sidecar.ctx.telemetry = undefined;
    this.boundAt = "";
    await this.closeServer();
    const al = this.sinks.accessLog;
    const ex = this.sinks.exporter;
    this.sinks.accessLog = null;
    this.sinks.exporter = null;
    await Promise.all([al?.close(), ex?.close(), this.metricSinks.close()]);
  }
}

/** `amime_telemetry_export_*{exporter}`: the shared batch loop's counters, one series per exporter. */
function renderExportCounters(w: PrometheusWriter, list: readonly ExportCounters[]): void {
  const families: [string, "counter" | "gauge", string, (c: ExportCounters) => number][] = [
    ["amime_telemetry_export_sent_total", "counter", "Items (spans, log records, metric snapshots, DogStatsD lines) the backend accepted.", (c) => c.sent],
    ["amime_telemetry_export_dropped_total", "counter", "Items dropped: queue full, backend failure after the retries, or exporter closed.", (c) => c.dropped],
    ["amime_telemetry_export_retried_total", "counter", "Batches sent again after a retryable failure.", (c) => c.retries],
    ["amime_telemetry_export_failed_total", "counter", "Sends that failed (each try counts).", (c) => c.failedSends],
    ["amime_telemetry_export_queued", "gauge", "Items waiting to be exported.", (c) => c.queued],
  ];
  for (const [name, type, help, get] of families) {
    w.header(name, type, help);
    for (const c of list) w.sample(name, `exporter="${c.name}"`, get(c));
  }
}
