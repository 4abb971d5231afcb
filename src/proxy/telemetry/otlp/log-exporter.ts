// Access logs as OTLP logs (Istio's `envoyOtelAls` provider, Envoy's OpenTelemetry access
// logger): each finished request becomes a LogRecord — the formatted line as its body, the
// provider's labels as attributes, the trace id when there is one — queued in a bounded buffer
// and sent in batches by OTLP/gRPC LogsService/Export, one call at a time, off the request path.
// Retryable gRPC failures (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED) are retried
// with exponential backoff a bounded number of times; then, or when the buffer is full, records
// are dropped and counted.
// eslint-disable-next-line @typescript-eslint/no-restricted-imports -- this module is itself loaded with import() by sidecar-telemetry.ts only when the config needs it
import * as grpc from "@grpc/grpc-js";
import type { Clock, TimerHandle } from "../../../core/clock.ts";
import type { AccessLogEntry } from "../access-log/log-entry.ts";
import { fixed64, otlpRoot } from "./protos.ts";
import type protobuf from "protobufjs";

const EXPORT_PATH = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
const RETRYABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.ABORTED, grpc.status.CANCELLED]);

export interface OtlpLogExporterOptions {
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
  exported = 0;
  dropped = 0;
  failedCalls = 0;
  retries = 0;
  private readonly resource: { key: string; value: unknown }[];
  private readonly attributes: ((e: AccessLogEntry) => Record<string, unknown>) | undefined;
  private readonly clock: Clock;
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private client: grpc.Client | null = null;
  private queue: LogRecord[] = [];
  private timer: TimerHandle | null = null;
  private backoff: { timer: TimerHandle; wake: () => void } | null = null;
  private inFlight: Promise<void> | null = null;
  private closed = false;

  constructor(o: OtlpLogExporterOptions) {
    this.target = o.target;
    this.resource = Object.entries(o.resource).map(([key, v]) => ({ key, value: { stringValue: v } }));
    this.attributes = o.attributes;
    this.clock = o.clock;
    this.maxQueue = o.maxQueue ?? 4096;
    this.maxBatch = o.maxBatch ?? 512;
    this.flushIntervalMs = o.flushIntervalMs ?? 1000;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.maxRetries = o.maxRetries ?? 3;
    this.retryBaseMs = o.retryBaseMs ?? 500;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queue one access log record (`line` is its body). Never blocks; false = dropped. */
  log(line: string, e: AccessLogEntry): boolean {
    if (this.closed || this.queue.length >= this.maxQueue) {
      this.dropped++;
      return false;
    }
    const ns = BigInt(Math.round(e.startWallMs)) * 1_000_000n;
    const rec: LogRecord = {
      timeUnixNano: fixed64(ns),
      observedTimeUnixNano: fixed64(BigInt(Math.round(this.clock.wallNow())) * 1_000_000n),
      severityNumber: 9, // INFO
      body: { stringValue: line.endsWith("\n") ? line.slice(0, -1) : line },
      attributes: this.attributes === undefined ? [] : Object.entries(this.attributes(e)).map(([key, v]) => ({ key, value: anyValue(v) })),
    };
    if (/^[0-9a-f]{32}$/.test(e.traceId)) rec.traceId = Buffer.from(e.traceId, "hex");
    this.queue.push(rec);
    if (this.timer === null && this.inFlight === null) this.timer = this.clock.setTimeout(() => this.onTimer(), this.flushIntervalMs);
    return true;
  }

  private onTimer(): void {
    this.timer = null;
    void this.flush();
  }

  /** Send what is queued now (one call per batch, retries included); resolves when done. */
  async flush(): Promise<void> {
    while (this.inFlight !== null) await this.inFlight;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight = this.deliver(batch);
      await this.inFlight;
      this.inFlight = null;
    }
  }

  /** Resolves once everything accepted so far has been sent or dropped. */
  drained(): Promise<void> {
    return this.flush();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    const b = this.backoff;
    if (b !== null) {
      this.backoff = null;
      b.timer.cancel();
      b.wake();
    }
    await this.flush();
    this.client?.close();
    this.client = null;
  }

  private async deliver(batch: LogRecord[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const code = await this.call(batch);
      if (code === grpc.status.OK) {
        this.exported += batch.length;
        return;
      }
      this.failedCalls++;
      if (!RETRYABLE.has(code) || attempt >= this.maxRetries || this.closed) {
        this.dropped += batch.length;
        return;
      }
      this.retries++;
      await new Promise<void>((wake) => {
        const timer = this.clock.setTimeout(() => {
          this.backoff = null;
          wake();
        }, this.retryBaseMs * 2 ** attempt);
        this.backoff = { timer, wake };
      });
    }
  }

  private call(batch: LogRecord[]): Promise<grpc.status> {
    const t = logsRequestType();
    const body = t.encode(t.fromObject({ resourceLogs: [{ resource: { attributes: this.resource }, scopeLogs: [{ scope: { name: "amime-proxy" }, logRecords: batch }] }] })).finish();
    this.client ??= new grpc.Client(this.target, grpc.credentials.createInsecure());
    return new Promise((resolve) => {
      (this.client as grpc.Client).makeUnaryRequest(
        EXPORT_PATH,
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        body,
        { deadline: Date.now() + this.timeoutMs },
        (err) => resolve(err === null ? grpc.status.OK : err.code),
      );
    });
  }
}
