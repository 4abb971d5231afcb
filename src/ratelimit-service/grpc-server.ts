// Envoy's rate-limit protocol over gRPC: envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit,
// messages from the vendored .proto files (proto/, Envoy's field numbers). Wire ↔ RateLimiter.
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { BadRequestError, type RateLimitDecision, type RateLimiter, type RateLimitCall } from "./decide.ts";
import { protoOptions, RLS_PROTO } from "./protocol.ts";
import { StoreUnavailableError } from "./store.ts";
import { unitOfNumber } from "./units.ts";

export { protoDir, protoOptions, RLS_PROTO } from "./protocol.ts";

interface WireEntry {
  key: string;
  value: string;
}

interface WireDescriptor {
  entries: WireEntry[];
  limit: { requests_per_unit: number; unit: string | number } | null;
  hits_addend: { value: number } | null;
}

export interface WireRequest {
  domain: string;
  descriptors: WireDescriptor[];
  hits_addend: number;
}

/** The loaded protocol package (envoy.service.ratelimit.v3.RateLimitService and its messages). */
export function loadRlsPackage(): grpc.GrpcObject {
  return grpc.loadPackageDefinition(loadSync(RLS_PROTO, protoOptions()));
}

/** Reads a wire request (proto-loader's object, or protojson-style JSON from the HTTP endpoint). */
export function callFromWire(req: Partial<WireRequest> & Record<string, unknown>): RateLimitCall {
  const descriptors = (req.descriptors ?? []) as (WireDescriptor & Record<string, unknown>)[];
  return {
    domain: typeof req.domain === "string" ? req.domain : "",
    hitsAddend: Number(req.hits_addend ?? req.hitsAddend ?? 0) || 0,
    descriptors: descriptors.map((d) => {
      const limit = (d.limit ?? null) as (Record<string, unknown> & { unit?: string | number }) | null;
      const hits = (d.hits_addend ?? d.hitsAddend ?? null) as { value?: number | string } | number | string | null;
      const rpu = limit === null ? 0 : Number(limit.requests_per_unit ?? limit.requestsPerUnit ?? 0);
      const unit = limit === null || limit.unit === undefined ? undefined : unitOfNumber(limit.unit);
      if (limit !== null && unit === undefined) throw new BadRequestError(`descriptor limit has unknown unit ${JSON.stringify(limit.unit)}`);
      return {
        entries: (d.entries ?? []).map((e) => ({ key: String(e.key ?? ""), value: String(e.value ?? "") })),
        override: limit !== null && unit !== undefined ? { requestsPerUnit: rpu, unit } : undefined,
        hitsAddend: hits === null ? undefined : Number(typeof hits === "object" ? (hits.value ?? 0) : hits),
      };
    }),
  };
}

/** The decision as a RateLimitResponse message (field names of rls.proto, enums by name). */
export function responseToWire(d: RateLimitDecision): Record<string, unknown> {
  return {
    overall_code: d.overallCode,
    statuses: d.statuses.map((s) => ({
      code: s.code,
      current_limit: s.currentLimit === undefined ? null : { name: s.currentLimit.name, requests_per_unit: s.currentLimit.requestsPerUnit, unit: s.currentLimit.unit },
      limit_remaining: s.limitRemaining,
      duration_until_reset: s.durationUntilReset === undefined ? null : { seconds: s.durationUntilReset, nanos: 0 },
    })),
  };
}

export function addRateLimitService(server: grpc.Server, limiter: RateLimiter): void {
  const pkg = loadRlsPackage();
  const service = ((((pkg.envoy as grpc.GrpcObject).service as grpc.GrpcObject).ratelimit as grpc.GrpcObject).v3 as grpc.GrpcObject).RateLimitService as grpc.ServiceClientConstructor;
  server.addService(service.service, {
    ShouldRateLimit: (call: grpc.ServerUnaryCall<WireRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      let parsed: RateLimitCall;
      try {
        parsed = callFromWire(call.request as unknown as WireRequest & Record<string, unknown>);
      } catch (e) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: (e as Error).message });
        return;
      }
      limiter.shouldRateLimit(parsed).then(
        (d) => callback(null, responseToWire(d)),
        (e: unknown) => {
          const code = e instanceof BadRequestError ? grpc.status.INVALID_ARGUMENT : e instanceof StoreUnavailableError ? grpc.status.UNAVAILABLE : grpc.status.INTERNAL;
          callback({ code, details: (e as Error).message });
        },
      );
    },
  });
}
