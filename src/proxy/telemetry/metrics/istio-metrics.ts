// The in-process store of Istio's standard metrics. Recording is a map lookup and a few additions:
// the caller passes a cheap key that identifies the label set (cluster, host, peer header, status,
// flags…) and a function computing the labels, called only the first time a key is seen. Series
// are bounded: past `maxSeries` new label sets are not created and their observations are counted
// as dropped (amime_metrics_dropped_total), so a label explosion cannot eat the proxy's memory.
import { Histogram } from "./histogram.ts";
import { HTTP_LABELS, istioLabels, TCP_LABELS, type HopFacts } from "./labels.ts";
import { labelText, type PrometheusWriter } from "./prometheus-text.ts";

export const DEFAULT_MAX_SERIES = 5000;

export class HttpSeries {
  readonly labels: string;
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
  private readonly http = new Map<string, HttpSeries>();
  private readonly tcp = new Map<string, TcpSeries>();
  /** Cheap key → series; only a cache (cleared when it grows past 4× the cap). */
  private readonly fastHttp = new Map<string, HttpSeries>();
  private readonly fastTcp = new Map<string, TcpSeries>();

  constructor(maxSeries = DEFAULT_MAX_SERIES) {
    this.maxSeries = maxSeries;
  }

  get seriesCount(): number {
    return this.http.size + this.tcp.size;
  }

  recordHttp(key: string, facts: () => HopFacts, o: HttpObservation): void {
    const s = this.httpSeries(key, facts);
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
  httpSeries(key: string, facts: () => HopFacts): HttpSeries | null {
    let s = this.fastHttp.get(key);
    if (s !== undefined) return s;
    const labels = labelText(HTTP_LABELS, istioLabels(facts()));
    s = this.http.get(labels);
    if (s === undefined) {
      if (this.seriesCount >= this.maxSeries) return null;
      s = new HttpSeries(labels);
      this.http.set(labels, s);
    }
    if (this.fastHttp.size >= this.maxSeries * 4) this.fastHttp.clear();
    this.fastHttp.set(key, s);
    return s;
  }

  /** The TCP series for a key, created on first use; null (and counted as dropped) past the cap. */
  tcpSeries(key: string, facts: () => HopFacts): TcpSeries | null {
    let s = this.fastTcp.get(key);
    if (s !== undefined) return s;
    const labels = labelText(TCP_LABELS, istioLabels(facts(), true));
    s = this.tcp.get(labels);
    if (s === undefined) {
      if (this.seriesCount >= this.maxSeries) {
        this.dropped++;
        return null;
      }
      s = new TcpSeries(labels);
      this.tcp.set(labels, s);
    }
    if (this.fastTcp.size >= this.maxSeries * 4) this.fastTcp.clear();
    this.fastTcp.set(key, s);
    return s;
  }

  render(w: PrometheusWriter): void {
    const http = [...this.http.values()];
    const tcp = [...this.tcp.values()];
    if (http.length > 0) {
      w.header("istio_requests_total", "counter", "Requests processed by the proxy (Istio standard metric).");
      for (const s of http) w.sample("istio_requests_total", s.labels, s.requests);
      w.header("istio_request_duration_milliseconds", "histogram", "Request duration in milliseconds (Istio standard metric).");
      for (const s of http) w.histogram("istio_request_duration_milliseconds", s.labels, s.duration);
      w.header("istio_request_bytes", "histogram", "Request body sizes in bytes (Istio standard metric).");
      for (const s of http) w.histogram("istio_request_bytes", s.labels, s.requestBytes);
      w.header("istio_response_bytes", "histogram", "Response sizes in bytes (Istio standard metric).");
      for (const s of http) w.histogram("istio_response_bytes", s.labels, s.responseBytes);
    }
    if (tcp.length > 0) {
      const counters: [string, string, (s: TcpSeries) => number][] = [
        ["istio_tcp_connections_opened_total", "TCP connections opened (Istio standard metric).", (s) => s.opened],
        ["istio_tcp_connections_closed_total", "TCP connections closed (Istio standard metric).", (s) => s.closed],
        ["istio_tcp_sent_bytes_total", "Bytes sent to the downstream on TCP connections (Istio standard metric).", (s) => s.sentBytes],
        ["istio_tcp_received_bytes_total", "Bytes received from the downstream on TCP connections (Istio standard metric).", (s) => s.receivedBytes],
      ];
      for (const [name, help, get] of counters) {
        w.header(name, "counter", help);
        for (const s of tcp) w.sample(name, s.labels, get(s));
      }
    }
    w.header("amime_metrics_series", "gauge", "Istio metric label sets held by this proxy.");
    w.sample("amime_metrics_series", "", this.seriesCount);
    w.header("amime_metrics_series_limit", "gauge", "Most label sets this proxy keeps (new ones past it are dropped).");
    w.sample("amime_metrics_series_limit", "", this.maxSeries);
    w.header("amime_metrics_dropped_total", "counter", "Observations not recorded because the series limit was reached.");
    w.sample("amime_metrics_dropped_total", "", this.dropped);
  }
}
