// Span export off the request path: finished spans go into the shared bounded queue
// (export/batch-exporter.ts); a timer flushes a batch (Zipkin v2 JSON, OTLP/HTTP as JSON or
// protobuf, or OTLP/gRPC TraceService/Export) with one POST or call at a time, over TLS when the
// endpoint is https (the config's CA file, client certificate and SNI when it gives them). A POST that fails in a way worth retrying (no connection,
// timeout, 429, 502, 503, 504 — OTLP's retryable answers) is retried with exponential backoff a
// bounded number of times; then, or when the queue is full, spans are dropped and counted — the
// proxy never waits for a collector.
import type { Clock } from "../../../core/clock.ts";
import { BatchExporter } from "../export/batch-exporter.ts";
import { collectorTlsReader, type CollectorTls, type CollectorTlsFiles } from "../export/collector-tls.ts";
import { postWithTls, type PostTarget } from "../export/http-post.ts";
import type { GrpcExport } from "../otlp/grpc-export.ts";
import type * as TraceProto from "../otlp/trace-proto.ts";
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
  /** OTLP over gRPC (TraceService/Export to the endpoint's host:port) instead of HTTP. */
  grpc?: boolean;
  /** TLS to the collector (https endpoints). */
  tls?: CollectorTlsFiles;
}

const TRACE_EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

export class SpanExporter {
  readonly endpoint: string;
  readonly format: "zipkin" | "otlp";
  readonly encoding: "json" | "protobuf";
  readonly batches: BatchExporter<Span>;
  readonly grpc: boolean;
  private readonly target: PostTarget;
  private readonly tls: (() => Promise<CollectorTls>) | null;
  private grpcExport: GrpcExport | null = null;

  constructor(o: SpanExporterOptions) {
    this.endpoint = o.endpoint;
    this.format = o.format;
    this.grpc = o.format === "otlp" && o.grpc === true;
    this.encoding = o.format === "otlp" && (o.encoding === "protobuf" || this.grpc) ? "protobuf" : "json";
    this.tls = o.tls !== undefined && o.endpoint.startsWith("https:") ? collectorTlsReader(o.tls) : null;
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
  async close(): Promise<void> {
    await this.batches.close();
    this.grpcExport?.close();
    this.grpcExport = null;
  }

  private async post(batch: Span[]): ReturnType<typeof postWithTls> {
    if (this.grpc) {
      if (this.grpcExport === null) {
        // gRPC (node:http2, grpc-js) is loaded by the first config that exports traces over it.
        const { GrpcExport } = await import("../otlp/grpc-export.ts");
        if (!URL.canParse(this.endpoint)) return "fail";
        const url = new URL(this.endpoint);
        const tls = url.protocol === "https:" ? (this.tls ?? (() => Promise.resolve({}))) : undefined;
        this.grpcExport = new GrpcExport(url.host, TRACE_EXPORT_PATH, this.target.timeoutMs, { headers: this.target.headers, tls });
      }
      return this.grpcExport.call((await protobufEncoding()).otlpProto(batch));
    }
    if (this.format === "zipkin") return postWithTls(this.target, zipkinJson(batch), "application/json", this.tls);
    if (this.encoding === "protobuf") return postWithTls(this.target, (await protobufEncoding()).otlpProto(batch), "application/x-protobuf", this.tls);
    return postWithTls(this.target, otlpJson(batch), "application/json", this.tls);
  }

}

// protobufjs (≈ 60 modules, its .proto parser included) is loaded by the first batch a config
// exports as OTLP protobuf, not by every sidecar that traces (Zipkin and OTLP/JSON need none of it).
let protobufModule: Promise<typeof TraceProto> | undefined;
function protobufEncoding(): Promise<typeof TraceProto> {
  return (protobufModule ??= import("../otlp/trace-proto.ts"));
}
