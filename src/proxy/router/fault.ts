// Fault injection decision for one request (Envoy fault filter, Istio HTTPFaultInjection): the
// delay and the abort are drawn independently; when both hit, the proxy waits, then aborts.

import type { Random } from "../../core/random.ts";
import type { FaultPolicy } from "../../model/proxy-config.ts";
import { percentHit } from "./percentage.ts";

export interface FaultDecision {
  /** 0 = no delay. Response flag DI when > 0. */
  delayMs: number;
  /** Answer with this HTTP status instead of forwarding (response flag FI). */
  abortStatus?: number;
  /** gRPC abort: answer HTTP 200 with this grpc-status (numeric code) instead of forwarding (FI). */
  abortGrpcStatus?: number;
}

const NO_FAULT: Readonly<FaultDecision> = Object.freeze({ delayMs: 0 });

/** gRPC status names Istio accepts in abort.grpcStatus, to their numeric codes. */
export const GRPC_STATUS_CODES: Readonly<Record<string, number>> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

/** `UNAVAILABLE` or `14` → 14; undefined for an unknown name. */
export function grpcStatusCode(status: string): number | undefined {
  const named = GRPC_STATUS_CODES[status.toUpperCase()];
  if (named !== undefined) return named;
  return /^\d+$/.test(status) ? Number(status) : undefined;
}

/** Decide the fault for one request. Percentages are of requests: 0 never, 100 always. */
export function faultDecision(fault: FaultPolicy | undefined, random: Random): FaultDecision {
  if (fault === undefined) return NO_FAULT;
  const delayMs = fault.delay !== undefined && percentHit(fault.delay.percentage, random) ? fault.delay.fixedDelayMs : 0;
  const abort = fault.abort;
  if (abort === undefined || !percentHit(abort.percentage, random)) return delayMs === 0 ? NO_FAULT : { delayMs };
  const out: FaultDecision = { delayMs };
  if (abort.grpcStatus !== undefined) {
    const code = grpcStatusCode(abort.grpcStatus);
    if (code !== undefined) out.abortGrpcStatus = code;
  } else if (abort.httpStatus !== undefined) {
    out.abortStatus = abort.httpStatus;
  }
  return out;
}
