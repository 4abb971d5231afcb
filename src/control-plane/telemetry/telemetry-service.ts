// TelemetryService: the control plane's observability endpoints, mountable on any node:http
// server with one line (`if (telemetry.handle(req, res)) return;`):
//   /api/v2/*                          embedded Zipkin v2 collector (zipkin-api.ts)
//   GET  /api/v1/telemetry/services?window=60s   golden signals per service × version
//   GET  /api/v1/telemetry/graph?window=60s      service graph (nodes, edges with rps/errors/p99)
//   GET  /api/v1/telemetry/targets               scrape targets and their last result
//   PUT  /api/v1/telemetry/targets/<name>        body {"url": "http://…/stats/prometheus"}
//   DELETE /api/v1/telemetry/targets/<name>
import type { IncomingMessage, ServerResponse } from "node:http";
import { systemClock, type Clock } from "../../core/clock.ts";
import { buildGraph, serviceRows } from "./graph.ts";
import { MetricsStore, type MetricsStoreOptions } from "./metrics-store.ts";
import { SpanStore } from "./span-store.ts";
import { handleZipkin, sendJson } from "./zipkin-api.ts";

export interface TelemetryServiceOptions {
  clock?: Clock;
  /** Scrape URLs from the registry (called at every scrape), in addition to PUT targets. */
  targets?: () => readonly string[];
  scrapeIntervalMs?: number;
  retentionMs?: number;
  maxSpans?: number;
  fetchText?: MetricsStoreOptions["fetchText"];
}

const DEFAULT_WINDOW_MS = 60_000;

/** `60s`, `5m`, `1h`, `500ms` or plain milliseconds; null if unreadable. */
export function parseWindow(v: string | null): number | null {
  if (v === null || v === "") return DEFAULT_WINDOW_MS;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (m === null) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? "ms";
  const ms = unit === "h" ? n * 3_600_000 : unit === "m" ? n * 60_000 : unit === "s" ? n * 1000 : n;
  return ms > 0 ? ms : null;
}

export class TelemetryService {
  readonly spans: SpanStore;
  readonly metrics: MetricsStore;
  private readonly clock: Clock;
  private readonly registered = new Map<string, string>();

  constructor(o: TelemetryServiceOptions = {}) {
    this.clock = o.clock ?? systemClock;
    this.spans = new SpanStore(o.maxSpans ?? 50_000);
    const fromRegistry = o.targets ?? (() => []);
    this.metrics = new MetricsStore({
      clock: this.clock,
      targets: () => [...fromRegistry(), ...this.registered.values()],
      intervalMs: o.scrapeIntervalMs ?? 5000,
      ...(o.retentionMs !== undefined ? { retentionMs: o.retentionMs } : {}),
      ...(o.fetchText !== undefined ? { fetchText: o.fetchText } : {}),
    });
  }

  /** Begin scraping targets. */
  start(): void {
    this.metrics.start();
  }

  stop(): void {
    this.metrics.stop();
  }

  /** Scrape `url` from now on (scraping starts with the first target). */
  addTarget(name: string, url: string): void {
    this.registered.set(name, url);
    this.metrics.start();
  }

  removeTarget(name: string): boolean {
    return this.registered.delete(name);
  }

  /** Answer the request if it is one of ours; false lets the server route it elsewhere. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? "/", "http://control-plane");
    if (handleZipkin(this.spans, req, res, url, () => this.clock.wallNow())) return true;
    const p = url.pathname;
    if (!p.startsWith("/api/v1/telemetry/")) return false;
    const method = req.method ?? "GET";
    if (p.startsWith("/api/v1/telemetry/targets/") && (method === "PUT" || method === "DELETE")) {
      this.targetRequest(req, res, decodeURIComponent(p.slice("/api/v1/telemetry/targets/".length)), method);
      return true;
    }
    req.resume();
    if (method !== "GET") {
      sendJson(res, 405, { error: "method not allowed" });
      return true;
    }
    const windowMs = parseWindow(url.searchParams.get("window"));
    if (windowMs === null) {
      sendJson(res, 400, { error: "window must look like 60s, 5m, 1h or 500ms" });
      return true;
    }
    switch (p) {
      case "/api/v1/telemetry/services":
        sendJson(res, 200, { windowMs, services: serviceRows(this.metrics.window(windowMs)) });
        return true;
      case "/api/v1/telemetry/graph":
        sendJson(res, 200, buildGraph(this.metrics.window(windowMs), windowMs, this.metrics.tcpWindow(windowMs)));
        return true;
      case "/api/v1/telemetry/targets":
        sendJson(res, 200, { targets: this.metrics.status() });
        return true;
      default:
        sendJson(res, 404, { error: `no such telemetry endpoint ${p}` });
        return true;
    }
  };

  private targetRequest(req: IncomingMessage, res: ServerResponse, name: string, method: string): void {
    if (name === "") {
      req.resume();
      sendJson(res, 400, { error: "target name missing" });
      return;
    }
    if (method === "DELETE") {
      req.resume();
      sendJson(res, this.removeTarget(name) ? 200 : 404, { name });
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let url: unknown;
      try {
        url = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { url?: unknown }).url;
      } catch {
        url = undefined;
      }
      if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
        sendJson(res, 400, { error: 'body must be {"url": "http://host:port/stats/prometheus"}' });
        return;
      }
      this.addTarget(name, url);
      sendJson(res, 200, { name, url });
    });
  }
}
