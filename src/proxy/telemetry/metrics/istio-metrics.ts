// The in-process store of Istio's standard metrics. Recording is a map lookup and a few additions:
// the caller passes a cheap key that identifies the label set (cluster, host, peer header, status,
// flags…) and a function computing the labels, called only the first time a key is seen. Series
// are bounded: past `maxSeries` new label sets are not created and their observations are counted
// as dropped (amime_metrics_dropped_total), so a label explosion cannot eat the proxy's memory.
// Telemetry overrides (metric-views.ts) give a series its own labels per metric; series that end
// up with the same labels for a metric (a removed label) are summed when rendered.
import { Histogram } from "./histogram.ts";
import { HTTP_LABELS, istioLabels, TCP_LABELS, type HopFacts } from "./labels.ts";
import type { PerMetricLabels } from "./metric-views.ts";
import { labelText, type PrometheusWriter } from "./prometheus-text.ts";

/** Per-metric labels of a new series from its Istio label values (metric-views.ts); absent: Istio's labels. */
export type SeriesView = (values: readonly string[]) => PerMetricLabels;

export const DEFAULT_MAX_SERIES = 5000;

/** One metric as it is reported: its points by label text (overrides applied, series sharing labels summed). */
export type MetricFamily =
  | { kind: "counter"; name: string; help: string; unit: string; points: { labels: string; value: number }[] }
  | { kind: "histogram"; name: string; help: string; unit: string; points: { labels: string; hist: Histogram }[] };

export class HttpSeries {
  /** Istio's labels. */
  readonly labels: string;
  /** Labels of each metric (REQUEST_COUNT, REQUEST_DURATION, REQUEST_SIZE, RESPONSE_SIZE; null: off), or null for Istio's. */
  metricLabels: PerMetricLabels = null;
  requests = 0;
  readonly duration = new Histogram();
  readonly requestBytes = new Histogram();
  readonly responseBytes = new Histogram();

  constructor(labels: string) {
    this.labels = labels;
  }

  observe(durationMs: number, requestBytes: number, responseBytes: number): void {
    this.requests++;
    this.duration.observe(durationMs);
    this.requestBytes.observe(requestBytes);
    this.responseBytes.observe(responseBytes);
  }
}

export class TcpSeries {
  readonly labels: string;
  /** Labels of each metric (opened, closed, sent, received; null: off), or null for Istio's. */
  metricLabels: PerMetricLabels = null;
  opened = 0;
  closed = 0;
  sentBytes = 0;
  receivedBytes = 0;

  constructor(labels: string) {
    this.labels = labels;
  }
}

export interface HttpObservation {
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

export class IstioMetrics {
  readonly maxSeries: number;
  /** Observations not recorded because the series cap was reached. */
  dropped = 0;
  /** Wall-clock ms when this store began counting: the start of every cumulative series. */
  readonly startWallMs: number;
  private readonly http = new Map<string, HttpSeries>();
  private readonly tcp = new Map<string, TcpSeries>();
  /** Cheap key → series; only a cache (cleared when it grows past 4× the cap). */
  private readonly fastHttp = new Map<string, HttpSeries>();
  private readonly fastTcp = new Map<string, TcpSeries>();

  constructor(maxSeries = DEFAULT_MAX_SERIES, startWallMs = Date.now()) {
    this.maxSeries = maxSeries;
    this.startWallMs = startWallMs;
  }

  get seriesCount(): number {
    return this.http.size + this.tcp.size;
  }

  recordHttp(key: string, facts: () => HopFacts, o: HttpObservation, view?: SeriesView): void {
    const s = this.httpSeries(key, facts, view);
    if (s === null) {
      this.dropped++;
      return;
    }
    s.observe(o.durationMs, o.requestBytes, o.responseBytes);
  }

  /**
   * The HTTP series for a key, created on first use; null past the cap (the caller counts the
   * observation as dropped). A series, once made, stays for the life of this store: callers may
   * keep it and record into it directly.
   */
  httpSeries(key: string, facts: () => HopFacts, view?: SeriesView): HttpSeries | null {
    let s = this.fastHttp.get(key);
    if (s !== undefined) return s;
    const values = istioLabels(facts());
    const labels = labelText(HTTP_LABELS, values);
    const perMetric = view?.(values) ?? null;
    const id = identity(labels, perMetric);
    s = this.http.get(id);
    if (s === undefined) {
      if (this.seriesCount >= this.maxSeries) return null;
      s = new HttpSeries(labels);
      s.metricLabels = perMetric;
      this.http.set(id, s);
    }
    if (this.fastHttp.size >= this.maxSeries * 4) this.fastHttp.clear();
    this.fastHttp.set(key, s);
    return s;
  }

  /** The TCP series for a key, created on first use; null (and counted as dropped) past the cap. */
  tcpSeries(key: string, facts: () => HopFacts, view?: SeriesView): TcpSeries | null {
    let s = this.fastTcp.get(key);
    if (s !== undefined) return s;
    const values = istioLabels(facts(), true);
    const labels = labelText(TCP_LABELS, values);
    const perMetric = view?.(values) ?? null;
    const id = identity(labels, perMetric);
    s = this.tcp.get(id);
    if (s === undefined) {
      if (this.seriesCount >= this.maxSeries) {
        this.dropped++;
        return null;
      }
      s = new TcpSeries(labels);
      s.metricLabels = perMetric;
      this.tcp.set(id, s);
    }
    if (this.fastTcp.size >= this.maxSeries * 4) this.fastTcp.clear();
    this.fastTcp.set(key, s);
    return s;
  }

  /** Istio's metrics as they are reported now: what Prometheus renders and the exporters send. */
  families(): MetricFamily[] {
    const http = [...this.http.values()];
    const tcp = [...this.tcp.values()];
    const out: MetricFamily[] = [];
    if (http.length > 0) {
      out.push(
        counter(http, 0, "istio_requests_total", "Requests processed by the proxy (Istio standard metric).", "1", (s) => s.requests),
        histogram(http, 1, "istio_request_duration_milliseconds", "Request duration in milliseconds (Istio standard metric).", "ms", (s) => s.duration),
        histogram(http, 2, "istio_request_bytes", "Request body sizes in bytes (Istio standard metric).", "By", (s) => s.requestBytes),
        histogram(http, 3, "istio_response_bytes", "Response sizes in bytes (Istio standard metric).", "By", (s) => s.responseBytes),
      );
    }
    if (tcp.length > 0) {
      out.push(
        counter(tcp, 0, "istio_tcp_connections_opened_total", "TCP connections opened (Istio standard metric).", "1", (s) => s.opened),
        counter(tcp, 1, "istio_tcp_connections_closed_total", "TCP connections closed (Istio standard metric).", "1", (s) => s.closed),
        counter(tcp, 2, "istio_tcp_sent_bytes_total", "Bytes sent to the downstream on TCP connections (Istio standard metric).", "By", (s) => s.sentBytes),
        counter(tcp, 3, "istio_tcp_received_bytes_total", "Bytes received from the downstream on TCP connections (Istio standard metric).", "By", (s) => s.receivedBytes),
      );
    }
    return out.filter((f) => f.points.length > 0);
  }

  render(w: PrometheusWriter): void {
    for (const f of this.families()) {
      w.header(f.name, f.kind, f.help);
      if (f.kind === "counter") for (const p of f.points) w.sample(f.name, p.labels, p.value);
      else for (const p of f.points) w.histogram(f.name, p.labels, p.hist);
    }
    w.header("amime_metrics_series", "gauge", "Istio metric label sets held by this proxy.");
    w.sample("amime_metrics_series", "", this.seriesCount);
    w.header("amime_metrics_series_limit", "gauge", "Most label sets this proxy keeps (new ones past it are dropped).");
    w.sample("amime_metrics_series_limit", "", this.maxSeries);
    w.header("amime_metrics_dropped_total", "counter", "Observations not recorded because the series limit was reached.");
    w.sample("amime_metrics_dropped_total", "", this.dropped);
  }
}

/** A series' map key: Istio's labels, or its per-metric labels when overrides shape them. */
function identity(labels: string, perMetric: PerMetricLabels): string {
  return perMetric === null ? labels : "\u0002" + perMetric.map((l) => l ?? "\u0003").join("\u0001");
}

type Labelled = { readonly labels: string; readonly metricLabels: PerMetricLabels };

/** The series of metric `m` by label text, those sharing one merged (null label: the metric is off for it). */
function grouped<S extends Labelled>(list: readonly S[], m: number): Map<string, S[]> {
  const out = new Map<string, S[]>();
  for (const s of list) {
    const l = s.metricLabels === null ? s.labels : s.metricLabels[m];
    if (l === null || l === undefined) continue;
    const g = out.get(l);
    if (g === undefined) out.set(l, [s]);
    else g.push(s);
  }
  return out;
}

function counter<S extends Labelled>(list: readonly S[], m: number, name: string, help: string, unit: string, get: (s: S) => number): MetricFamily {
  const points: { labels: string; value: number }[] = [];
  for (const [labels, g] of grouped(list, m)) {
    let value = 0;
    for (const s of g) value += get(s);
    points.push({ labels, value });
  }
  return { kind: "counter", name, help, unit, points };
}

function histogram(list: readonly HttpSeries[], m: number, name: string, help: string, unit: string, get: (s: HttpSeries) => Histogram): MetricFamily {
  const points: { labels: string; hist: Histogram }[] = [];
  for (const [labels, g] of grouped(list, m)) {
    if (g.length === 1) {
      points.push({ labels, hist: get(g[0] as HttpSeries) });
      continue;
    }
    const sum = new Histogram();
    for (const s of g) sum.add(get(s));
    points.push({ labels, hist: sum });
  }
  return { kind: "histogram", name, help, unit, points };
}
