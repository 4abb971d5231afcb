// Sampling: an upstream decision (sampled flag or B3 debug) is honoured; otherwise the request is
// sampled with probability percentage/100, decided from a hash of x-request-id so every proxy on
// the path (and the access log) makes the same call for the same request, as Envoy does.
import type { Random } from "../../../core/random.ts";
import type { TraceContext } from "./trace-context.ts";

/** Istio's default (meshConfig.defaultConfig.tracing.sampling). */
export const DEFAULT_SAMPLING_PERCENTAGE = 1;

/** FNV-1a over the request id, reduced to 0..9999 (hundredths of a percent). */
export function requestIdBucket(requestId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    h ^= requestId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 10000;
}

export function decideSampling(ctx: TraceContext | null, requestId: string, percentage: number, random: Random): boolean {
  if (ctx !== null && ctx.debug) return true;
  if (ctx !== null && ctx.sampled !== undefined) return ctx.sampled;
  if (percentage <= 0) return false;
  if (percentage >= 100) return true;
  const bucket = requestId !== "" ? requestIdBucket(requestId) : random.int(10000);
  return bucket < Math.round(percentage * 100);
}
