import assert from "node:assert/strict";
import { test } from "node:test";
import { effectiveLbPolicy, effectiveOutlierDetection, effectiveRetryPolicy, ejectionTimeMs, InvalidDurationError, parseDuration } from "./defaults.ts";

test("parseDuration reads protobuf and Go syntaxes in ms", () => {
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1m"), 60_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("100ms"), 100);
  assert.equal(parseDuration("10us"), 0.01);
  assert.equal(parseDuration("1ns"), 0.000001);
  assert.equal(parseDuration("0.100s"), 100);
  assert.throws(() => parseDuration("10"), InvalidDurationError);
  assert.throws(() => parseDuration("fast"), (e: unknown) => e instanceof InvalidDurationError && e.code === "AMIME_INVALID_DURATION");
});

test("mesh default retry policy, and VirtualService retries mapped like Istio", () => {
  const def = effectiveRetryPolicy(undefined);
  assert.equal(def.attempts, 2);
  assert.deepEqual(def.retryOn, ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"]);
  assert.deepEqual(def.retriableStatusCodes, [503]);
  assert.equal(def.backoffBaseMs, 25);
  assert.equal(def.backoffMaxMs, 250);
  const custom = effectiveRetryPolicy({ attempts: 3, retryOn: "5xx,503,429", perTryTimeout: "2s", backoff: "50ms" });
  assert.deepEqual(custom.retryOn, ["5xx", "retriable-status-codes"]);
  assert.deepEqual(custom.retriableStatusCodes, [503, 429]);
  assert.equal(custom.perTryTimeoutMs, 2000);
  assert.equal(custom.backoffMaxMs, 500);
  assert.equal(effectiveRetryPolicy({ attempts: 0 }).attempts, 0);
});

test("outlier detection defaults and ejection time", () => {
  const o = effectiveOutlierDetection({});
  assert.deepEqual(o, { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, splitExternalLocalOriginErrors: false, consecutiveLocalOriginFailures: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 });
  const dep = effectiveOutlierDetection({ consecutiveErrors: 3, baseEjectionTime: "3m", interval: "1s" });
  assert.equal(dep.consecutive5xxErrors, 0);
  assert.equal(dep.consecutiveGatewayErrors, 3);
  assert.equal(dep.baseEjectionTimeMs, 180_000);
  assert.equal(ejectionTimeMs(30_000, 3), 90_000);
  assert.equal(ejectionTimeMs(30_000, 20), 300_000);
});

test("load balancer policy defaults", () => {
  assert.equal(effectiveLbPolicy(undefined), "LEAST_REQUEST");
  assert.equal(effectiveLbPolicy("UNSPECIFIED"), "LEAST_REQUEST");
  assert.equal(effectiveLbPolicy("LEAST_CONN"), "LEAST_REQUEST");
  assert.equal(effectiveLbPolicy("ROUND_ROBIN"), "ROUND_ROBIN");
});
