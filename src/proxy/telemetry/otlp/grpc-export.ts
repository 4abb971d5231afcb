// One OTLP/gRPC Export call (LogsService, MetricsService…) with an encoded request body, and what
// it came to for the retry loop: OK is accepted; UNAVAILABLE, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, ABORTED and CANCELLED are worth retrying (OTLP's retryable codes); anything
// else failed for good. The channel is made on first use and kept: plaintext, or TLS with the
// collector TLS the config gives (CA file, client certificate, SNI); headers go as metadata.
// eslint-disable-next-line @typescript-eslint/no-restricted-imports -- this module is itself loaded with import() by sidecar-telemetry.ts only when the config needs it
import * as grpc from "@grpc/grpc-js";
import type { SendOutcome } from "../export/batch-exporter.ts";
import type { CollectorTls } from "../export/collector-tls.ts";
import { defaultTrustCa } from "../../tls/default-trust.ts";

const RETRYABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.ABORTED, grpc.status.CANCELLED]);

export class GrpcExport {
  readonly target: string;
  private readonly path: string;
  private readonly timeoutMs: number;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly tls: (() => Promise<CollectorTls>) | undefined;
  private client: grpc.Client | null = null;
  private metadata: grpc.Metadata | null = null;

  /**
   * `target` is `host:port`; `path` the method, e.g. `/opentelemetry.proto.collector.logs.v1.LogsService/Export`;
   * `headers` go as metadata; `tls` (collector-tls.ts) makes the channel TLS (absent: plaintext).
   */
  constructor(target: string, path: string, timeoutMs: number, o: { headers?: Readonly<Record<string, string>>; tls?: (() => Promise<CollectorTls>) | undefined } = {}) {
    this.target = target;
    this.path = path;
    this.timeoutMs = timeoutMs;
    this.headers = o.headers ?? {};
    this.tls = o.tls;
  }

  async call(body: Uint8Array): Promise<SendOutcome> {
    if (this.client === null) {
      let tls: CollectorTls | null;
      try {
        tls = this.tls === undefined ? null : await this.tls();
      } catch {
        return "fail"; // a TLS file that cannot be read: counted as a failed export, as any other
      }
      let creds: grpc.ChannelCredentials;
      try {
        creds = credentials(tls);
      } catch {
        return "fail"; // no default trust (no system CA bundle): counted as a failed export
      }
      this.client = new grpc.Client(this.target, creds, tls?.servername !== undefined ? { "grpc.ssl_target_name_override": tls.servername } : {});
      this.metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(this.headers)) this.metadata.set(k, v);
    }
    return new Promise((resolve) => {
      (this.client as grpc.Client).makeUnaryRequest(
        this.path,
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        body,
        this.metadata as grpc.Metadata,
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

/** Without a CA file the default trust verifies the collector (the system CA bundle, ../../tls/default-trust.ts), not grpc-js's or Node's roots. */
function credentials(tls: CollectorTls | null): grpc.ChannelCredentials {
  if (tls === null) return grpc.credentials.createInsecure();
  const skip = tls.insecureSkipVerify === true;
  const verify = skip ? { checkServerIdentity: () => undefined, rejectUnauthorized: false } : {};
  const ca = tls.ca ?? (skip ? null : Buffer.from(defaultTrustCa().join("\n")));
  return grpc.credentials.createSsl(ca, tls.key ?? null, tls.cert ?? null, verify);
}
