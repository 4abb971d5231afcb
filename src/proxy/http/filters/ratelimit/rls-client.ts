// The `ratelimit` filter's call to the global rate-limit service: one unary gRPC call,
// envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit, sent as Envoy's envoy_grpc does —
// through the proxy's own cluster (`outbound|8081||ratelimit.default.svc.cluster.local`): a host
// from the cluster's balancer, its HTTP/2 session pool (one multiplexed session per endpoint,
// opened once and reused by every call, with the cluster's TLS / ISTIO_MUTUAL and its stats), the
// messages encoded with the protocol the service itself loads (src/ratelimit-service/proto/).
// A @grpc/grpc-js channel would open its own sockets, outside the cluster's endpoints, balancer
// and mesh certificate; the gRPC framing a unary call needs is five bytes and two headers.
import type { ClientHttp2Stream } from "node:http2";
import type { Clock } from "../../../../core/clock.ts";
import { protoOptions, RLS_PROTO } from "../../../../ratelimit-service/protocol.ts";
import { h2PoolFor } from "../../../http2/h2-session-pool.ts";
import type { ClusterState } from "../../../upstream/cluster-manager.ts";
import { NGHTTP2_CANCEL } from "../../../../core/builtins.ts";

export const RLS_PATH = "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit";

export interface RlsDescriptor {
  entries: { key: string; value: string }[];
  limit?: { requests_per_unit: number; unit: string };
}

export interface RlsRequest {
  domain: string;
  descriptors: RlsDescriptor[];
}

export interface RlsStatus {
  code: string;
  current_limit: { name: string; requests_per_unit: number; unit: string } | null;
  limit_remaining: number;
  duration_until_reset: { seconds: number; nanos: number } | null;
}

/** RateLimitResponse, the fields the filter reads (proto field names, enums by name). */
export interface RlsResponse {
  overall_code: string;
  statuses: RlsStatus[];
  response_headers_to_add: { key: string; value: string }[];
  raw_body: Buffer;
}

/** The call did not produce an answer: no host, connection or stream failure, timeout, a gRPC error status. */
export class RlsCallError extends Error {
  readonly code = "RLS_CALL_FAILED";
}

interface Codec {
  serialize(req: RlsRequest): Buffer;
  deserialize(buf: Buffer): RlsResponse;
}

let codec: Codec | null = null;
let loading: Promise<Codec> | null = null;

/**
 * The message codec (@grpc/proto-loader and the .proto files), loaded once per process when a
 * config naming the filter is applied (the filter's check): a sidecar without a global rate limit
 * never loads it, and the files are never read on the request path.
 */
export function loadRlsCodec(): Promise<Codec> {
  return (loading ??= import("@grpc/proto-loader").then((pl) => {
    const def = pl.loadSync(RLS_PROTO, protoOptions())["envoy.service.ratelimit.v3.RateLimitService"] as unknown as Record<string, { requestSerialize(v: unknown): Buffer; responseDeserialize(b: Buffer): unknown }>;
    const m = def.ShouldRateLimit!;
    codec = { serialize: (r) => m.requestSerialize(r), deserialize: (b) => m.responseDeserialize(b) as RlsResponse };
    return codec;
  }));
}

/** One ShouldRateLimit call to a host of `cluster`, abandoned after `timeoutMs` (0: no deadline). */
export function shouldRateLimit(cluster: ClusterState, authority: string, req: RlsRequest, timeoutMs: number, clock: Clock): Promise<RlsResponse> {
  const c = codec;
  // Still loading (it started when the config was applied): call once it is there.
  if (c === null) return loadRlsCodec().then(() => shouldRateLimit(cluster, authority, req, timeoutMs, clock), (e: unknown) => Promise.reject(new RlsCallError(`rate-limit protocol: ${(e as Error).message}`)));
  return new Promise((resolve, reject) => {
    const host = cluster.balancer.pick(undefined);
    if (host === null) return reject(new RlsCallError(`no healthy host in ${cluster.name}`));
    const msg = c.serialize(req);
    const frame = Buffer.allocUnsafe(5 + msg.length);
    frame[0] = 0;
    frame.writeUInt32BE(msg.length, 1);
    msg.copy(frame, 5);
    let st: ClientHttp2Stream;
    try {
      st = h2PoolFor(cluster).session(host).request(
        {
          ":method": "POST",
          ":path": RLS_PATH,
          ":authority": authority,
          ":scheme": cluster.tlsFor(host) !== undefined ? "https" : "http",
          "content-type": "application/grpc",
          te: "trailers",
          ...(timeoutMs > 0 ? { "grpc-timeout": `${timeoutMs}m` } : {}),
        },
        { endStream: false },
      );
    } catch (e) {
      return reject(new RlsCallError(`${cluster.name}: ${(e as Error).message}`));
    }
    let done = false;
    const fail = (why: string): void => {
      if (done) return;
      done = true;
      timer?.cancel();
      if (!st.destroyed) st.close(NGHTTP2_CANCEL);
      reject(new RlsCallError(`${cluster.name} ${host.address}:${host.port}: ${why}`));
    };
    const timer = timeoutMs > 0 ? clock.setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs).unref() : null;
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let grpcStatus: string | undefined;
    st.on("response", (h) => {
      status = String(h[":status"]);
      // A trailers-only answer carries grpc-status in the headers.
      if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]);
    });
    st.on("trailers", (t) => {
      if (t["grpc-status"] !== undefined) grpcStatus = String(t["grpc-status"]);
    });
    st.on("data", (d: Buffer) => chunks.push(d));
    st.on("error", (e: Error) => fail(e.message));
    st.on("close", () => {
      if (done) return;
      if (status !== "200") return fail(status === undefined ? "stream closed without an answer" : `HTTP ${status}`);
      if (grpcStatus !== "0") return fail(grpcStatus === undefined ? "no grpc-status" : `grpc-status ${grpcStatus}`);
      const body = Buffer.concat(chunks);
      if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) return fail("malformed gRPC message");
      let res: RlsResponse;
      try {
        res = c.deserialize(body.subarray(5));
      } catch (e) {
        return fail(`bad RateLimitResponse: ${(e as Error).message}`);
      }
      done = true;
      timer?.cancel();
      resolve(res);
    });
    st.end(frame);
  });
}
