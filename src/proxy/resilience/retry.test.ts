import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom, type Random } from "../../core/random.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../../model/proxy-config.ts";
import { RetryCounter } from "../upstream/retry-counter.ts";
import { RetryState, shouldRetry, type AttemptOutcome } from "./retry.ts";

const policy = (retryOn: string, codes: number[] = []): RetryPolicy => ({
  ...DEFAULT_RETRY_POLICY,
  attempts: 3,
  retryOn: retryOn.split(",").filter(Boolean),
  retriableStatusCodes: codes,
});

const resp = (status: number, headers: Record<string, string> = {}): AttemptOutcome => ({ kind: "response", status, header: (n) => headers[n] });
const grpc = (code: number): AttemptOutcome => resp(200, { "grpc-status": String(code) });

const CONNECT: AttemptOutcome = { kind: "connect-failure" };
const RESET_BEFORE: AttemptOutcome = { kind: "reset", beforeRequest: true };
const RESET_AFTER: AttemptOutcome = { kind: "reset", beforeRequest: false };
const TIMEOUT: AttemptOutcome = { kind: "timeout" };
const REFUSED: AttemptOutcome = { kind: "refused-stream" };
const OVERFLOW: AttemptOutcome = { kind: "overflow" };

describe("shouldRetry", () => {
  // [retryOn, outcome, name, expected]
  const table: [string, AttemptOutcome, string, boolean][] = [
    // 5xx: any 5xx response and every reset-like outcome, incl. per-try timeout.
    ["5xx", resp(500), "500", true],
    ["5xx", resp(503), "503", true],
    ["5xx", resp(599), "599", true],
    ["5xx", resp(404), "404", false],
    ["5xx", resp(200), "200", false],
    ["5xx", CONNECT, "connect failure", true],
    ["5xx", RESET_AFTER, "reset", true],
    ["5xx", REFUSED, "refused stream", true],
    ["5xx", TIMEOUT, "per-try timeout", true],
    ["5xx", OVERFLOW, "overflow never", false],
    // gateway-error: 502/503/504 and resets.
    ["gateway-error", resp(502), "502", true],
    ["gateway-error", resp(503), "503", true],
    ["gateway-error", resp(504), "504", true],
    ["gateway-error", resp(500), "500", false],
    ["gateway-error", CONNECT, "connect failure", true],
    ["gateway-error", TIMEOUT, "per-try timeout", true],
    // reset: every reset, connect failure, refused stream, timeout; no responses.
    ["reset", RESET_AFTER, "reset after request", true],
    ["reset", CONNECT, "connect failure", true],
    ["reset", TIMEOUT, "per-try timeout", true],
    ["reset", REFUSED, "refused stream", true],
    ["reset", resp(503), "503", false],
    // reset-before-request: only before anything was sent.
    ["reset-before-request", RESET_BEFORE, "reset before", true],
    ["reset-before-request", RESET_AFTER, "reset after", false],
    ["reset-before-request", CONNECT, "connect failure", true],
    ["reset-before-request", TIMEOUT, "per-try timeout", false],
    // connect-failure
    ["connect-failure", CONNECT, "connect failure", true],
    ["connect-failure", RESET_BEFORE, "reset", false],
    ["connect-failure", TIMEOUT, "per-try timeout", false],
    ["connect-failure", resp(503), "503", false],
    // refused-stream
    ["refused-stream", REFUSED, "refused", true],
    ["refused-stream", RESET_AFTER, "reset", false],
    ["refused-stream", CONNECT, "connect failure", false],
    // retriable-4xx: 409 only
    ["retriable-4xx", resp(409), "409", true],
    ["retriable-4xx", resp(429), "429", false],
    ["retriable-4xx", resp(400), "400", false],
    // retriable-status-codes needs codes
    ["retriable-status-codes", resp(503), "503 without codes", false],
    // retriable-headers: no configured headers, never
    ["retriable-headers", resp(503, { "x-retry": "1" }), "any", false],
    // envoy-ratelimited
    ["envoy-ratelimited", resp(429, { "x-envoy-ratelimited": "true" }), "ratelimited 429", true],
    ["envoy-ratelimited", resp(429), "plain 429", false],
    ["5xx", resp(503, { "x-envoy-ratelimited": "true" }), "ratelimited response under 5xx only: not retried", false],
    // http3-post-connect-failure: we never speak HTTP/3 upstream
    ["http3-post-connect-failure", RESET_AFTER, "reset", false],
    ["http3-post-connect-failure", CONNECT, "connect failure", false],
    // gRPC tokens, from grpc-status in the response headers
    ["cancelled", grpc(1), "grpc 1", true],
    ["deadline-exceeded", grpc(4), "grpc 4", true],
    ["resource-exhausted", grpc(8), "grpc 8", true],
    ["internal", grpc(13), "grpc 13", true],
    ["unavailable", grpc(14), "grpc 14", true],
    ["unavailable", grpc(13), "grpc 13 under unavailable", false],
    ["cancelled", grpc(0), "grpc OK", false],
    ["unavailable", resp(200), "no grpc-status", false],
    ["unavailable", { kind: "response", status: 200, grpcStatus: 14 }, "grpcStatus field", true],
    ["unavailable", resp(200, { "grpc-status": "x" }), "garbage grpc-status", false],
    ["unavailable", TIMEOUT, "grpc tokens ignore timeouts", false],
    // combinations / empty
    ["", resp(503), "empty policy", false],
    ["connect-failure,refused-stream,unavailable,cancelled", grpc(14), "Istio default tokens: unavailable", true],
  ];
  for (const [retryOn, outcome, name, want] of table) {
    it(`${retryOn || "(none)"}: ${name} → ${want}`, () => {
      assert.equal(shouldRetry(policy(retryOn), outcome), want);
    });
  }

  it("retriable status codes: listed codes only (token implied by codes, as Istio)", () => {
    const p = policy("", [503, 429]);
    assert.equal(shouldRetry(p, resp(503)), true);
    assert.equal(shouldRetry(p, resp(429)), true);
    assert.equal(shouldRetry(p, resp(500)), false);
    assert.equal(shouldRetry(p, CONNECT), false);
  });

  it("numeric tokens in retryOn count as retriable status codes", () => {
    assert.equal(shouldRetry(policy("connect-failure,429"), resp(429)), true);
    assert.equal(shouldRetry(policy("connect-failure,429"), resp(503)), false);
  });

  it("Istio's default policy: connect failures, refused streams, 503, gRPC unavailable/cancelled", () => {
    const p = DEFAULT_RETRY_POLICY;
    assert.equal(shouldRetry(p, CONNECT), true);
    assert.equal(shouldRetry(p, REFUSED), true);
    assert.equal(shouldRetry(p, resp(503)), true);
    assert.equal(shouldRetry(p, grpc(1)), true);
    assert.equal(shouldRetry(p, resp(500)), false);
    assert.equal(shouldRetry(p, resp(502)), false);
    assert.equal(shouldRetry(p, TIMEOUT), false);
    assert.equal(shouldRetry(p, RESET_AFTER), false);
  });
});

describe("RetryState", () => {
  it("retries up to attempts, then limit-exceeded", () => {
    const counter = new RetryCounter(100);
    const s = new RetryState({ ...policy("5xx"), attempts: 2 }, seededRandom(1), counter);
    assert.equal(s.decide(resp(503)), "retry");
    assert.equal(s.decide(resp(503)), "retry");
    assert.equal(s.decide(resp(503)), "limit-exceeded");
    assert.equal(s.retries, 2);
    assert.equal(counter.stats.limitExceeded, 1);
    assert.equal(counter.active, 0, "slot released at the next decision");
  });

  it("non-retriable outcome: no (and a success after a retry is counted)", () => {
    const counter = new RetryCounter(100);
    const s = new RetryState(policy("5xx"), seededRandom(1), counter);
    assert.equal(s.decide(resp(503)), "retry");
    assert.equal(counter.active, 1);
    assert.equal(s.decide(resp(200)), "no");
    assert.equal(counter.active, 0);
    assert.equal(counter.stats.success, 1);
  });

  it("attempts 0: never retries", () => {
    const s = new RetryState({ ...policy("5xx"), attempts: 0 }, seededRandom(1));
    assert.equal(s.decide(resp(503)), "limit-exceeded");
  });

  it("overflow when the cluster's concurrent retries are used up", () => {
    const counter = new RetryCounter(1);
    const a = new RetryState(policy("5xx"), seededRandom(1), counter);
    const b = new RetryState(policy("5xx"), seededRandom(2), counter);
    assert.equal(a.decide(resp(503)), "retry");
    assert.equal(b.decide(resp(503)), "overflow");
    assert.equal(counter.stats.overflow, 1);
    a.done();
    assert.equal(counter.active, 0);
    const c = new RetryState(policy("5xx"), seededRandom(3), counter);
    assert.equal(c.decide(resp(503)), "retry");
  });

  it("backoff delays grow in Envoy's windows: [0,25), [0,50), [0,100)", () => {
    const max: Random = { next: () => 0.999999, int: (n) => n - 1 };
    const s = new RetryState({ ...policy("5xx"), attempts: 5, backoffBaseMs: 25, backoffMaxMs: 250 }, max);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      assert.equal(s.decide(resp(503)), "retry");
      delays.push(s.delayMs);
    }
    assert.deepEqual(delays, [24, 49, 99, 199, 249]);
  });
});
