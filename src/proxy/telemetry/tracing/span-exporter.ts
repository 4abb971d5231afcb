// Span export off the request path: finished spans go into a bounded queue; a timer flushes a
// batch (Zipkin v2 JSON or OTLP/HTTP JSON) with one POST at a time. When the queue is full or the
// collector is down, spans are dropped and counted — the proxy never waits for a collector.
import { request } from "node:http";
import { request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";
import type { Clock, TimerHandle } from "../../../core/clock.ts";
import { otlpJson, zipkinJson, type Span } from "./span.ts";

export interface SpanExporterOptions {
  endpoint: string;
  format: "zipkin" | "otlp";
  clock: Clock;
  maxQueue?: number;
  maxBatch?: number;
  flushIntervalMs?: number;
  timeoutMs?: number;
  /** Roots trusted besides the system's for an https endpoint: the mesh's current trust bundle (the control plane's collector). */
  meshRoots?: () => string | undefined;
}

export class SpanExporter {
  readonly endpoint: string;
  readonly format: "zipkin" | "otlp";
  exported = 0;
  dropped = 0;
  failedPosts = 0;
  private readonly clock: Clock;
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly meshRoots: (() => string | undefined) | undefined;
  private queue: Span[] = [];
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private closed = false;

  constructor(o: SpanExporterOptions) {
    this.endpoint = o.endpoint;
    this.format = o.format;
    this.clock = o.clock;
    this.maxQueue = o.maxQueue ?? 4096;
    this.maxBatch = o.maxBatch ?? 512;
    this.flushIntervalMs = o.flushIntervalMs ?? 1000;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.meshRoots = o.meshRoots;
  }

  get queued(): number {
    return this.queue.length;
  }

  add(span: Span): void {
    if (this.closed || this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.timer === null && this.inFlight === null) this.timer = this.clock.setTimeout(() => this.onTimer(), this.flushIntervalMs);
  }

  private onTimer(): void {
    this.timer = null;
    void this.flush();
  }

  /** Send what is queued now (one POST per batch, sequentially); resolves when done. */
  async flush(): Promise<void> {
    if (this.inFlight !== null) await this.inFlight;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight = this.post(batch);
      await this.inFlight;
      this.inFlight = null;
    }
  }

  async close(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.flush();
    this.closed = true;
  }

  private post(batch: Span[]): Promise<void> {
    const body = this.format === "otlp" ? otlpJson(batch) : zipkinJson(batch);
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(this.endpoint);
      } catch {
        this.failedPosts++;
        this.dropped += batch.length;
        return resolve();
      }
      const tls = url.protocol === "https:";
      const send = tls ? httpsRequest : request;
      const roots = tls ? this.meshRoots?.() : undefined;
      const req = send(url, { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: this.timeoutMs, ...(roots !== undefined ? { ca: [...rootCertificates, roots] } : {}) }, (res) => {
        res.resume();
        res.on("end", () => {
          const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
          if (ok) this.exported += batch.length;
          else {
            this.failedPosts++;
            this.dropped += batch.length;
          }
          resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => {
        this.failedPosts++;
        this.dropped += batch.length;
        resolve();
      });
      req.end(body);
    });
  }
}
