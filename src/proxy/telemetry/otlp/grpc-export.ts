// One OTLP/gRPC Export call (LogsService, MetricsService…) with an encoded request body, and what
// it came to for the retry loop: OK is accepted; UNAVAILABLE, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, ABORTED and CANCELLED are worth retrying (OTLP's retryable codes); anything
// else failed for good. The channel is made on first use and kept.
// eslint-disable-next-line @typescript-eslint/no-restricted-imports -- this module is itself loaded with import() by sidecar-telemetry.ts only when the config needs it
import * as grpc from "@grpc/grpc-js";
import type { SendOutcome } from "../export/batch-exporter.ts";

const RETRYABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.ABORTED, grpc.status.CANCELLED]);

export class GrpcExport {
  readonly target: string;
  private readonly path: string;
  private readonly timeoutMs: number;
  private client: grpc.Client | null = null;

  /** `target` is `host:port`; `path` the method, e.g. `/opentelemetry.proto.collector.logs.v1.LogsService/Export`. */
  constructor(target: string, path: string, timeoutMs: number) {
    this.target = target;
    this.path = path;
    this.timeoutMs = timeoutMs;
  }

  call(body: Uint8Array): Promise<SendOutcome> {
    this.client ??= new grpc.Client(this.target, grpc.credentials.createInsecure());
    return new Promise((resolve) => {
      (this.client as grpc.Client).makeUnaryRequest(
        this.path,
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        body,
        { deadline: Date.now() + this.timeoutMs },
        (err) => resolve(err === null ? "ok" : RETRYABLE.has(err.code) ? "retry" : "fail"),
      );
    });
  }

  close(): void {
    this.client?.close();
    this.client = null;
  }
}
