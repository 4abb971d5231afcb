// gRPC over the proxy: what it needs to know beyond HTTP/2 (grpc.io PROTOCOL-HTTP2.md). A request
// is gRPC when its content-type is application/grpc (+proto, +json, …). Errors the proxy produces
// itself reach such clients as a trailers-only response (HTTP 200, grpc-status in the headers),
// mapped from the response flags as Envoy's grpc http1 bridge / local replies do.
import { Buffer } from "../../core/builtins.ts";
import { RF_NC, RF_NR, RF_UC, RF_UF, RF_UH, RF_UO, RF_UT } from "../request/response-flags.ts";

export const GRPC_OK = 0;
export const GRPC_CANCELLED = 1;
export const GRPC_UNKNOWN = 2;
export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_PERMISSION_DENIED = 7;
export const GRPC_RESOURCE_EXHAUSTED = 8;
export const GRPC_UNIMPLEMENTED = 12;
export const GRPC_INTERNAL = 13;
export const GRPC_UNAVAILABLE = 14;
export const GRPC_UNAUTHENTICATED = 16;

/** `application/grpc`, `application/grpc+proto`, `application/grpc-web…` (not grpc-web: it is HTTP/1-friendly). */
export function isGrpcContentType(ct: string | undefined): boolean {
  if (ct === undefined) return false;
  const v = ct.toLowerCase();
  return v.startsWith("application/grpc") && !v.startsWith("application/grpc-web");
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** `grpc-timeout` (1–8 digits + unit H M S m u n) in ms, rounded up; undefined when absent or malformed. */
export function parseGrpcTimeout(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(v.trim());
  if (m === null) return undefined;
  const ms = Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return Math.max(1, Math.ceil(ms));
}

/** The grpc-status a proxy-made error carries (Envoy: Grpc::Utility::httpToGrpcStatus and the flag). */
export function grpcStatusForLocalReply(httpStatus: number, flags: number): number {
  if ((flags & RF_UT) !== 0) return GRPC_DEADLINE_EXCEEDED;
  if ((flags & RF_NR) !== 0) return GRPC_UNIMPLEMENTED;
  if ((flags & (RF_UH | RF_UF | RF_UC | RF_UO | RF_NC)) !== 0) return GRPC_UNAVAILABLE;
  return grpcStatusForHttp(httpStatus);
}

/** HTTP status → gRPC status (grpc.io http-grpc-status-mapping.md). */
export function grpcStatusForHttp(status: number): number {
  switch (status) {
    case 400:
      return GRPC_INTERNAL;
    case 401:
      return GRPC_UNAUTHENTICATED;
    case 403:
      return GRPC_PERMISSION_DENIED;
    case 404:
      return GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_UNAVAILABLE;
    default:
      return status >= 200 && status < 300 ? GRPC_OK : GRPC_UNKNOWN;
  }
}

/** grpc-message is percent-encoded (printable ASCII except `%` kept). */
export function encodeGrpcMessage(msg: string): string {
  let out = "";
  for (const b of Buffer.from(msg, "utf8")) out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}
