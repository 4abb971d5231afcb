// Access logs as OTLP logs (Istio's `envoyOtelAls` provider, Envoy's OpenTelemetry access
// logger): each finished request becomes a LogRecord — the formatted line as its body, the
// provider's labels as attributes, the trace id when there is one — queued in the shared bounded
// queue (export/batch-exporter.ts) and sent in batches by OTLP/gRPC LogsService/Export, one call
// at a time, off the request path. Retryable gRPC failures (UNAVAILABLE, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, ABORTED, CANCELLED) are retried with exponential backoff a bounded number
// of times; then, or when the buffer is full, records are dropped and counted.
import type { Clock } from "../../../core/clock.ts";
import type { AccessLogEntry } from "../access-log/log-entry.ts";
import { BatchExporter } from "../export/batch-exporter.ts";
import { GrpcExport } from "./grpc-export.ts";
import { collectorTlsReader, type CollectorTlsFiles } from "../export/collector-tls.ts";
import { fixed64, otlpRoot } from "./protos.ts";
import type protobuf from "protobufjs";

const EXPORT_PATH = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

export interface OtlpLogExporterOptions {
  /** TLS to the collector (absent: plaintext gRPC). */
  tls?: CollectorTlsFiles;
  /** gRPC target `host:port`. */
  target: string;
  /** Resource attributes (Envoy's: log_name, node_name, cluster_name). */
  resource: Readonly<Record<string, string>>;
  /** The attributes of one record, from the provider's labels (rendered now, on the request's end). */
  attributes?: (e: AccessLogEntry) => Record<string, unknown>;
  clock: Clock;
  maxQueue?: number;
  maxBatch?: number;
  flushIntervalMs?: number;
  timeoutMs?: number;
  maxRetries?: number;
  retryBaseMs?: number;
}

interface LogRecord {
  timeUnixNano: ReturnType<typeof fixed64>;
  observedTimeUnixNano: ReturnType<typeof fixed64>;
  severityNumber: number;
  body: { stringValue: string };
  attributes: { key: string; value: unknown }[];
  traceId?: Buffer;
}

/** An OTLP AnyValue for a rendered label value (strings, numbers, booleans, null, nested objects). */
function anyValue(v: unknown): unknown {
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  if (typeof v === "number") return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  if (typeof v === "object" && v !== null) return { kvlistValue: { values: Object.entries(v).map(([key, x]) => ({ key, value: anyValue(x) })) } };
  return {};
}

let requestType: protobuf.Type | null = null;
export function logsRequestType(): protobuf.Type {
  return (requestType ??= otlpRoot().lookupType("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest"));
}

export class OtlpLogExporter {
  readonly target: string;
  readonly batches: BatchExporter<LogRecord>;
  private readonly resource: { key: string; value: unknown }[];
  private readonly attributes: ((e: AccessLogEntry) => Record<string, unknown>) | undefined;
  private readonly clock: Clock;
  private readonly grpc: GrpcExport;

  constructor(o: OtlpLogExporterOptions) {
    this.target = o.target;
    this.resource = Object.entries(o.resource).map(([key, v]) => ({ key, value: { stringValue: v } }));
    this.attributes = o.attributes;
    this.clock = o.clock;
    this.grpc = new GrpcExport(o.target, EXPORT_PATH, o.timeoutMs ?? 5000, { tls: o.tls !== undefined ? collectorTlsReader(o.tls) : undefined });
    this.batches = new BatchExporter<LogRecord>({ ...o, name: "otlp_logs", send: (batch) => this.call(batch) });
  }

  /** Queue one access log record (`line` is its body). Never blocks; false = dropped. */
  log(line: string, e: AccessLogEntry): boolean {
    if (!this.batches.accepting) return this.batches.drop();
    const ns = BigInt(Math.round(e.startWallMs)) * 1_000_000n;
    const rec: LogRecord = {
      timeUnixNano: fixed64(ns),
      observedTimeUnixNano: fixed64(BigInt(Math.round(this.clock.wallNow())) * 1_000_000n),
      severityNumber: 9, // INFO
      body: { stringValue: line.endsWith("\n") ? line.slice(0, -1) : line },
      attributes: this.attributes === undefined ? [] : Object.entries(this.attributes(e)).map(([key, v]) => ({ key, value: anyValue(v) })),
    };
    if (/^[0-9a-f]{32}$/.test(e.traceId)) rec.traceId = Buffer.from(e.traceId, "hex");
    return this.batches.add(rec);
  }

  /** Send what is queued now (one call per batch, retries included); resolves when done. */
  flush(): Promise<void> {
    return this.batches.flush();
  }

  /** Resolves once everything accepted so far has been sent or dropped. */
  drained(): Promise<void> {
    return this.batches.flush();
  }

  async close(): Promise<void> {
    await this.batches.close();
    this.grpc.close();
  }

  private call(batch: LogRecord[]): Promise<"ok" | "fail" | "retry"> {
    const t = logsRequestType();
    const body = t.encode(t.fromObject({ resourceLogs: [{ resource: { attributes: this.resource }, scopeLogs: [{ scope: { name: "amime-proxy" }, logRecords: batch }] }] })).finish();
    return this.grpc.call(body);
  }
}
