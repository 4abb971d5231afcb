// Span export off the request path: finished spans go into the shared bounded queue
// (export/batch-exporter.ts); a timer flushes a batch (Zipkin v2 JSON, or OTLP/HTTP as JSON or
// protobuf) with one POST at a time. A POST that fails in a way worth retrying (no connection,
// timeout, 429, 502, 503, 504 — OTLP's retryable answers) is retried with exponential backoff a
// bounded number of times; then, or when the queue is full, spans are dropped and counted — the
// proxy never waits for a collector.
import type { Clock } from "../../../core/clock.ts";
import { BatchExporter } from "../export/batch-exporter.ts";
import { postBody, type PostTarget } from "../export/http-post.ts";
import { otlpProto } from "../otlp/trace-proto.ts";
import { otlpJson, zipkinJson, type Span } from "./span.ts";

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

export class SpanExporter {
  readonly endpoint: string;
  readonly format: "zipkin" | "otlp";
  readonly encoding: "json" | "protobuf";
  readonly batches: BatchExporter<Span>;
  private readonly target: PostTarget;

  constructor(o: SpanExporterOptions) {
    this.endpoint = o.endpoint;
    this.format = o.format;
    this.encoding = o.format === "otlp" && o.encoding === "protobuf" ? "protobuf" : "json";
    this.target = { endpoint: o.endpoint, headers: o.headers ?? {}, timeoutMs: o.timeoutMs ?? 5000, meshRoots: o.meshRoots };
    this.batches = new BatchExporter<Span>({ ...o, name: o.format === "zipkin" ? "zipkin" : "otlp_traces", send: (batch) => this.post(batch) });
  }

  add(span: Span): void {
    this.batches.add(span);
  }

  /** Send what is queued now (one POST per batch, sequentially, retries included); resolves when done. */
  flush(): Promise<void> {
    return this.batches.flush();
  }

  /** A closing exporter does not wait out a backoff: the batch gets one last try now. */
  close(): Promise<void> {
    return this.batches.close();
  }

  private post(batch: Span[]): ReturnType<typeof postBody> {
    if (this.format === "zipkin") return postBody(this.target, zipkinJson(batch), "application/json");
    if (this.encoding === "protobuf") return postBody(this.target, otlpProto(batch), "application/x-protobuf");
    return postBody(this.target, otlpJson(batch), "application/json");
  }
}
