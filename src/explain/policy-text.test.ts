import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_CONNECTION_POOL, DEFAULT_RETRY_POLICY, UNLIMITED, type ForwardAction } from "../model/proxy-config.ts";
import { forward } from "../proxy/router/fixtures.ts";
import { describeConnectionPool, describeFault, describeLb, describeRetry, formatMs, formatOrigin } from "./policy-text.ts";

test("formatMs", () => {
  assert.deepEqual([0, 250, 1500, 30_000, 120_000, 3_600_000].map(formatMs), ["0s", "250ms", "1.5s", "30s", "2m", "1h"]);
});

test("policies say what is configured and what is Istio's default", () => {
  const a: ForwardAction = forward(["c"], {
    retry: { ...DEFAULT_RETRY_POLICY, attempts: 3, perTryTimeoutMs: 2000, retryOn: ["gateway-error", "connect-failure"], retriableStatusCodes: [] },
    fault: { delay: { fixedDelayMs: 7000, percentage: 100 }, abort: { httpStatus: 500, percentage: 12.5 } },
  });
  assert.equal(describeRetry(a), "3 attempts, per try timeout 2s, retryOn gateway-error,connect-failure, backoff 25ms..250ms");
  assert.match(describeRetry(forward(["c"])), /^2 attempts \(Istio's default policy\)/);
  assert.equal(describeFault(a), "delay 7s for 100% of requests; abort with HTTP 500 for 12.5% of requests");
  assert.equal(describeConnectionPool(DEFAULT_CONNECTION_POOL), "Istio defaults (unlimited)");
  assert.equal(describeConnectionPool({ ...DEFAULT_CONNECTION_POOL, maxConnections: 1, maxPendingRequests: 1, maxRetries: UNLIMITED, connectTimeoutMs: 250 }), "maxConnections 1, connectTimeout 250ms, maxPendingRequests 1");
  assert.equal(describeLb({ policy: "RING_HASH", hashKey: { header: "x-user" } }), "RING_HASH by header x-user, minimum ring size 1024");
  assert.equal(formatOrigin({ resource: "VirtualService shop/a", ruleIndex: 2, matchIndex: 1, file: "a.yaml", line: 7 }), "VirtualService shop/a http[2].match[1] (a.yaml:7)");
  assert.equal(formatOrigin({ resource: "default", ruleIndex: -1, matchIndex: -1 }), "generated default route (no VirtualService)");
});
