// Span export off the request path: finished spans go into a bounded queue; a timer flushes a
// batch (Zipkin v2 JSON, or OTLP/HTTP as JSON or protobuf) with one POST at a time. A POST that
// fails in a way worth retrying (no connection, timeout, 429, 502, 503, 504 — OTLP's retryable
// answers) is retried with exponential backoff a bounded number of times; then, or when the
// queue is full, spans are dropped and counted — the proxy never waits for a collector.
import { http, httpsModule, tlsModule } from "../../../core/builtins.ts";
import type { Clock, TimerHandle } from "../../../core/clock.ts";
import { otlpProto } from "../otlp/trace-proto.ts";
import { otlpJson, zipkinJson, type Span } from "./span.ts";

const { request } = http;

export interface SpanExporterOptions {
  endpoint: string;
  format: "zipkin" | "otlp";
  /** OTLP body encoding (default json). */
  encoding?: "json" | "protobuf";
  /** Extra request headers (vendor auth: an access token, an API key). */
  headers?: Readonly<Record<string, string>>;
  clock: Clock;
  maxQueue?: number;
  maxBatch?: number;
  flushIntervalMs?: number;
  timeoutMs?: number;
  /** Retries of one batch after a retryable failure (default 3), the first after `retryBaseMs` (default 500), doubling. */
  maxRetries?: number;
  retryBaseMs?: number;
  /** Roots trusted besides the system's for an https endpoint: the mesh's current trust bundle (the control plane's collector). */
  meshRoots?: () => string | undefined;
}

/** What one POST came to: accepted, failed for good, or failed in a way worth retrying. */
type Outcome = "ok" | "fail" | "retry";

const RETRYABLE = new Set([429, 502, 503, 504]);

export class SpanExporter {
  readonly endpoint: string;
  readonly format: "zipkin" | "otlp";
  readonly encoding: "json" | "protobuf";
  exported = 0;
  dropped = 0;
  failedPosts = 0;
  retries = 0;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly clock: Clock;
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly meshRoots: (() => string | undefined) | undefined;
  private queue: Span[] = [];
  private timer: TimerHandle | null = null;
  private backoff: { timer: TimerHandle; wake: () => void } | null = null;
  private inFlight: Promise<void> | null = null;
  private closed = false;

  constructor(o: SpanExporterOptions) {
    this.endpoint = o.endpoint;
    this.format = o.format;
    this.encoding = o.format === "otlp" && o.encoding === "protobuf" ? "protobuf" : "json";
    this.headers = o.headers ?? {};
    this.clock = o.clock;
    this.maxQueue = o.maxQueue ?? 4096;
    this.maxBatch = o.maxBatch ?? 512;
    this.flushIntervalMs = o.flushIntervalMs ?? 1000;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.maxRetries = o.maxRetries ?? 3;
    this.retryBaseMs = o.retryBaseMs ?? 500;
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

  /** Send what is queued now (one POST per batch, sequentially, retries included); resolves when done. */
  async flush(): Promise<void> {
    while (this.inFlight !== null) await this.inFlight;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight = this.deliver(batch);
      await this.inFlight;
      this.inFlight = null;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    // A closing exporter does not wait out a backoff: the batch gets one last try now.
    this.wakeBackoff();
    await this.flush();
  }

  private async deliver(batch: Span[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.post(batch);
      if (outcome === "ok") {
        this.exported += batch.length;
        return;
      }
      this.failedPosts++;
      if (outcome === "fail" || attempt >= this.maxRetries || this.closed) {
        this.dropped += batch.length;
        return;
      }
      this.retries++;
      await this.sleep(this.retryBaseMs * 2 ** attempt);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((wake) => {
      const timer = this.clock.setTimeout(() => {
        this.backoff = null;
        wake();
      }, ms);
      this.backoff = { timer, wake };
    });
  }

  private wakeBackoff(): void {
    const b = this.backoff;
    if (b === null) return;
    this.backoff = null;
    b.timer.cancel();
    b.wake();
  }

  private body(batch: Span[]): { body: string | Uint8Array; type: string } {
    if (this.format === "zipkin") return { body: zipkinJson(batch), type: "application/json" };
    if (this.encoding === "protobuf") return { body: otlpProto(batch), type: "application/x-protobuf" };
    return { body: otlpJson(batch), type: "application/json" };
  }

  private post(batch: Span[]): Promise<Outcome> {
    let url: URL;
    try {
      url = new URL(this.endpoint);
    } catch {
      return Promise.resolve("fail");
    }
    const { body, type } = this.body(batch);
    return new Promise((resolve) => {
      const tls = url.protocol === "https:";
      const send = tls ? httpsModule().request : request;
      const roots = tls ? this.meshRoots?.() : undefined;
      const headers = { ...this.headers, "content-type": type, "content-length": Buffer.byteLength(body) };
      let req: ReturnType<typeof request>;
      try {
        req = send(url, { method: "POST", headers, timeout: this.timeoutMs, ...(roots !== undefined ? { ca: [...tlsModule().rootCertificates, roots] } : {}) }, (res) => {
        res.resume();
        res.on("close", () => resolve("retry")); // cut off before its end (a no-op after "end")
        res.on("end", () => {
          const code = res.statusCode ?? 0;
          resolve(code >= 200 && code < 300 ? "ok" : RETRYABLE.has(code) ? "retry" : "fail");
        });
        });
      } catch {
        // A header value Node refuses (the control plane checks them; an environment variable may still hold one).
        return resolve("fail");
      }
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => resolve("retry"));
      req.end(body);
    });
  }
}
