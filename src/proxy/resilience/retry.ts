// Retry decisions: which attempt outcomes a route's retry policy retries, following Envoy's
// RetryStateImpl (source/common/router/retry_state_impl.cc: wouldRetryFromHeaders,
// wouldRetryFromReset, shouldRetry) for every retry_on / retry_grpc_on token Istio accepts.
// The engine owns the attempt loop; RetryState keeps the per-request budget and backoff.
import type { Random } from "../../core/random.ts";
import type { RetryPolicy } from "../../model/proxy-config.ts";
import { Backoff } from "./backoff.ts";
import type { RetryCounter } from "../upstream/retry-counter.ts";

/** How one attempt ended, as the engine saw it. */
export type AttemptOutcome =
  | {
      kind: "response";
      status: number;
      /** grpc-status from the response headers, when the engine already parsed it. */
      grpcStatus?: number;
      /** Response header getter (lowercase names). */
      header?: (name: string) => string | undefined;
    }
  /** TCP connect failed or timed out (Envoy reset reason ConnectionFailure / ConnectionTimeout). */
  | { kind: "connect-failure" }
  /** Stream/connection reset; beforeRequest: nothing of the request had been sent upstream. */
  | { kind: "reset"; beforeRequest: boolean }
  /** The per-try timeout fired (the route timeout is not retried: the engine answers 504). */
  | { kind: "timeout" }
  /** HTTP/2 REFUSED_STREAM from upstream. */
  | { kind: "refused-stream" }
  /** Local circuit breaker overflow: Envoy never retries it. */
  | { kind: "overflow" };

const F_5XX = 1 << 0;
const F_GATEWAY = 1 << 1;
const F_RESET = 1 << 2;
const F_RESET_BEFORE_REQUEST = 1 << 3;
const F_CONNECT_FAILURE = 1 << 4;
const F_RETRIABLE_4XX = 1 << 5;
const F_REFUSED_STREAM = 1 << 6;
const F_STATUS_CODES = 1 << 7;
const F_HEADERS = 1 << 8;
const F_RATE_LIMITED = 1 << 9;
const F_HTTP3_POST_CONNECT = 1 << 10;
const G_CANCELLED = 1 << 11;
const G_DEADLINE = 1 << 12;
const G_INTERNAL = 1 << 13;
const G_RESOURCE = 1 << 14;
const G_UNAVAILABLE = 1 << 15;
const G_ANY = G_CANCELLED | G_DEADLINE | G_INTERNAL | G_RESOURCE | G_UNAVAILABLE;

const TOKENS: Record<string, number> = {
  "5xx": F_5XX,
  "gateway-error": F_GATEWAY,
  reset: F_RESET,
  "reset-before-request": F_RESET_BEFORE_REQUEST,
  "connect-failure": F_CONNECT_FAILURE,
  "retriable-4xx": F_RETRIABLE_4XX,
  "refused-stream": F_REFUSED_STREAM,
  "retriable-status-codes": F_STATUS_CODES,
  "retriable-headers": F_HEADERS,
  "envoy-ratelimited": F_RATE_LIMITED,
  "http3-post-connect-failure": F_HTTP3_POST_CONNECT,
  cancelled: G_CANCELLED,
  "deadline-exceeded": G_DEADLINE,
  internal: G_INTERNAL,
  "resource-exhausted": G_RESOURCE,
  unavailable: G_UNAVAILABLE,
};

/** gRPC status codes (grpc/status.h). */
const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_INTERNAL = 13;
const GRPC_UNAVAILABLE = 14;

interface Compiled {
  flags: number;
  codes: readonly number[];
}

const compiledCache = new WeakMap<RetryPolicy, Compiled>();

function compile(policy: RetryPolicy): Compiled {
  let c = compiledCache.get(policy);
  if (c) return c;
  let flags = 0;
  const codes = [...policy.retriableStatusCodes];
  for (const raw of policy.retryOn) {
    const t = raw.trim();
    const f = TOKENS[t];
    if (f !== undefined) flags |= f;
    else if (/^\d{3}$/.test(t)) codes.push(Number(t));
    // Unknown tokens are rejected by validation; ignoring here matches Envoy's parser.
  }
  // Istio turns numeric retryOn entries into retriable_status_codes and adds the token itself.
  if (codes.length > 0) flags |= F_STATUS_CODES;
  c = { flags, codes };
  compiledCache.set(policy, c);
  return c;
}

/** True when the policy's retryOn asks for this outcome to be retried (attempt budget aside). */
export function shouldRetry(policy: RetryPolicy, outcome: AttemptOutcome): boolean {
  const { flags, codes } = compile(policy);
  if (flags === 0) return false;
  switch (outcome.kind) {
    case "response": {
      const get = outcome.header;
      return retriableResponse(flags, codes, outcome.status, outcome.grpcStatus, get === undefined ? undefined : { get });
    }
    case "overflow":
      return false;
    case "connect-failure":
      // A connect failure is a reset that happened before anything was sent.
      return (flags & (F_RESET | F_5XX | F_GATEWAY | F_CONNECT_FAILURE | F_RESET_BEFORE_REQUEST)) !== 0;
    case "refused-stream":
      return (flags & (F_RESET | F_5XX | F_GATEWAY | F_REFUSED_STREAM)) !== 0;
    case "reset":
      if ((flags & (F_RESET | F_5XX | F_GATEWAY)) !== 0) return true;
      return outcome.beforeRequest && (flags & F_RESET_BEFORE_REQUEST) !== 0;
    case "timeout":
      // Envoy resets the attempt (LocalReset) and asks wouldRetryFromReset: only reset, 5xx and
      // gateway-error match (the request had started, so not reset-before-request).
      return (flags & (F_RESET | F_5XX | F_GATEWAY)) !== 0;
  }
}

/** Response headers by lower-case name (a parsed ResponseHead is one). */
export interface HeaderLookup {
  get(name: string): string | undefined;
}

/**
 * shouldRetry for a response, without building an AttemptOutcome: the forwarder asks this on
 * every response, and only a response the policy would retry needs a RetryState.
 */
export function wouldRetryResponse(policy: RetryPolicy, status: number, headers: HeaderLookup): boolean {
  const { flags, codes } = compile(policy);
  return flags !== 0 && retriableResponse(flags, codes, status, undefined, headers);
}

function retriableResponse(flags: number, codes: readonly number[], s: number, grpcStatus: number | undefined, headers: HeaderLookup | undefined): boolean {
  // A response carrying x-envoy-ratelimited comes from an upstream Envoy's rate limiter: it is
  // retried only under envoy-ratelimited, whatever else the policy says.
  if (headers?.get("x-envoy-ratelimited") !== undefined) return (flags & F_RATE_LIMITED) !== 0;
  if ((flags & F_5XX) !== 0 && s >= 500 && s < 600) return true;
  if ((flags & F_GATEWAY) !== 0 && (s === 502 || s === 503 || s === 504)) return true;
  if ((flags & F_RETRIABLE_4XX) !== 0 && s === 409) return true;
  if ((flags & F_STATUS_CODES) !== 0 && codes.includes(s)) return true;
  // retriable-headers: Istio exposes no retriable_headers list and the request header
  // x-envoy-retriable-header-names is not supported, so the token never matches.
  if ((flags & G_ANY) !== 0) {
    // Envoy looks at grpc-status in the response headers only (trailers-only responses carry
    // it there); trailers arrive after the response has started and cannot be retried.
    const g = grpcStatus ?? parseGrpcStatus(headers?.get("grpc-status"));
    if (g === GRPC_CANCELLED) return (flags & G_CANCELLED) !== 0;
    if (g === GRPC_DEADLINE_EXCEEDED) return (flags & G_DEADLINE) !== 0;
    if (g === GRPC_RESOURCE_EXHAUSTED) return (flags & G_RESOURCE) !== 0;
    if (g === GRPC_INTERNAL) return (flags & G_INTERNAL) !== 0;
    if (g === GRPC_UNAVAILABLE) return (flags & G_UNAVAILABLE) !== 0;
  }
  return false;
}

function parseGrpcStatus(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Envoy's RetryStatus. */
export type RetryDecision = "retry" | "no" | "limit-exceeded" | "overflow";

/**
 * One request's retry bookkeeping (Envoy's RetryStateImpl::shouldRetry): retries remaining,
 * the cluster's concurrent-retry limit (slot held from a scheduled retry until the next decision
 * or done()), and the backoff before the retry.
 */
export class RetryState {
  private readonly policy: RetryPolicy;
  private readonly counter: RetryCounter | undefined;
  private readonly backoff: Backoff;
  private remaining: number;
  private holding = false;
  /** Delay the engine must wait before the retry, set when decide() returns "retry". */
  delayMs = 0;
  /** Retries scheduled so far (x-envoy-attempt-count = retries + 1). */
  retries = 0;

  constructor(policy: RetryPolicy, random: Random, counter?: RetryCounter) {
    this.policy = policy;
    this.counter = counter;
    this.backoff = new Backoff(random, policy.backoffBaseMs, policy.backoffMaxMs);
    this.remaining = Math.max(0, policy.attempts);
  }

  /** Decide after an attempt ended with `outcome`. */
  decide(outcome: AttemptOutcome): RetryDecision {
    const would = shouldRetry(this.policy, outcome);
    if (this.holding && !would) this.counter?.recordSuccessAfterRetry();
    this.release();
    if (!would) return "no";
    if (this.remaining === 0) {
      this.counter?.recordLimitExceeded();
      return "limit-exceeded";
    }
    this.remaining--;
    if (this.counter && !this.counter.tryAcquire()) return "overflow";
    this.holding = this.counter !== undefined;
    this.retries++;
    this.delayMs = this.backoff.nextDelayMs();
    return "retry";
  }

  /** The request finished (or was abandoned): give back the retry slot. */
  done(): void {
    this.release();
  }

  private release(): void {
    if (this.holding) {
      this.holding = false;
      this.counter?.release();
    }
  }
}
