// OTLP/protobuf encoding of finished spans: the ExportTraceServiceRequest that OTLP/HTTP POSTs
// to /v1/traces as application/x-protobuf (what Envoy sends for Istio's `opentelemetry` provider
// with `http`) and OTLP/gRPC carries.
import type protobuf from "protobufjs";
import { otlpTraceRequest, type Span } from "../tracing/span.ts";
import { fixed64, otlpRoot } from "./protos.ts";

let requestType: protobuf.Type | null = null;

export function traceRequestType(): protobuf.Type {
  return (requestType ??= otlpRoot().lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"));
}

/** The spans as one protobuf ExportTraceServiceRequest. */
export function otlpProto(spans: readonly Span[]): Uint8Array {
  const t = traceRequestType();
  const msg = otlpTraceRequest(spans, (hex) => Buffer.from(hex, "hex"), fixed64);
  return t.encode(t.fromObject(msg)).finish();
}
