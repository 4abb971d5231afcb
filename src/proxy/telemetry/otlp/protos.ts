// The OTLP protobuf definitions (proto/, a subset of opentelemetry-proto; see proto/NOTICE),
// loaded once with protobufjs on first use — when an exporter first sends, never on a request.
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import protobuf from "protobufjs";

export const OTLP_PROTO_DIR = fileURLToPath(new URL("./proto/", import.meta.url));

const FILES = [
  "opentelemetry/proto/collector/trace/v1/trace_service.proto",
  "opentelemetry/proto/collector/logs/v1/logs_service.proto",
  "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
];

let root: protobuf.Root | null = null;

/** The OTLP root: `lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest")`… */
export function otlpRoot(): protobuf.Root {
  if (root !== null) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => join(OTLP_PROTO_DIR, target);
  r.loadSync(FILES, { keepCase: false });
  root = r;
  return r;
}

/** 64-bit unsigned nanoseconds for a fixed64 field, without precision loss. */
export function fixed64(n: bigint): { low: number; high: number; unsigned: boolean } {
  return { low: Number(n & 0xffffffffn) | 0, high: Number((n >> 32n) & 0xffffffffn) | 0, unsigned: true };
}
