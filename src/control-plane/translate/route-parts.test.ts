import assert from "node:assert/strict";
import { test } from "node:test";
import type { HTTPFaultInjection, HTTPRetry } from "../../model/specs/networking.ts";
import type { FaultPolicy, RetryPolicy } from "../../model/proxy-config.ts";
import { corsPolicy, directResponseAction, faultPolicy, headerOperations, isCatchAll, mirrorPercent, redirectAction, retryPolicy, rewritePolicy, routeMatch } from "./route-parts.ts";

/**
 * Istio's default retry policy for a route with no `retries`, written out (istio/istio
 * pilot/pkg/networking/core/route/retry/retry.go): 2 retries on connect-failure, refused-stream,
 * unavailable, cancelled and retriable-status-codes [503]; previous_hosts predicate; Envoy's
 * backoff (25 ms base, 10 × base max).
 */
const ISTIO_DEFAULT_RETRY: RetryPolicy = {
  attempts: 2,
  perTryTimeoutMs: 0,
  retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"],
  retriableStatusCodes: [503],
  backoffBaseMs: 25,
  backoffMaxMs: 250,
  retryIgnorePreviousHosts: true,
};

const OFF: RetryPolicy = { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: false };

test("retries: mesh default, disabled, overrides, status codes", () => {
  const cases: [string, HTTPRetry | undefined, boolean, RetryPolicy][] = [
    ["absent → mesh default", undefined, false, { ...ISTIO_DEFAULT_RETRY }],
    ["absent on a consistent-hash route keeps the host", undefined, true, { ...ISTIO_DEFAULT_RETRY, retryIgnorePreviousHosts: false }],
    ["attempts 0 disables", { attempts: 0 }, false, OFF],
    ["no attempts disables (Istio: attempts ≤ 0)", { perTryTimeout: "1s" }, false, OFF],
    ["attempts only: default conditions", { attempts: 5 }, false, { ...ISTIO_DEFAULT_RETRY, attempts: 5 }],
    ["retryOn with codes", { attempts: 3, retryOn: "5xx,gateway-error,429,reset", perTryTimeout: "2s" }, false,
      { ...ISTIO_DEFAULT_RETRY, attempts: 3, perTryTimeoutMs: 2000, retryOn: ["5xx", "gateway-error", "reset", "retriable-status-codes"], retriableStatusCodes: [429] }],
    ["retryOn without codes", { attempts: 1, retryOn: "connect-failure" }, false, { ...ISTIO_DEFAULT_RETRY, attempts: 1, retryOn: ["connect-failure"], retriableStatusCodes: [] }],
    ["backoff and previous hosts", { attempts: 2, backoff: "100ms", retryIgnorePreviousHosts: false }, false,
      { ...ISTIO_DEFAULT_RETRY, backoffBaseMs: 100, backoffMaxMs: 1000, retryIgnorePreviousHosts: false }],
    ["empty retryOn keeps the default", { attempts: 2, retryOn: "" }, false, { ...ISTIO_DEFAULT_RETRY }],
  ];
  for (const [name, input, hash, want] of cases) assert.deepEqual(retryPolicy(input, hash), want, name);
});

test("faults: percentages, deprecated percent, unsupported kinds dropped", () => {
  const cases: [string, HTTPFaultInjection | undefined, FaultPolicy | undefined][] = [
    ["none", undefined, undefined],
    ["delay 7s at 100", { delay: { fixedDelay: "7s", percentage: { value: 100 } } }, { delay: { fixedDelayMs: 7000, percentage: 100 } }],
    ["unset percentage injects nothing", { delay: { fixedDelay: "1s" } }, { delay: { fixedDelayMs: 1000, percentage: 0 } }],
    ["deprecated percent", { delay: { fixedDelay: "2s", percent: 30 }, abort: { httpStatus: 503 } }, { delay: { fixedDelayMs: 2000, percentage: 30 }, abort: { httpStatus: 503, percentage: 0 } }],
    ["grpc abort", { abort: { grpcStatus: "UNAVAILABLE", percentage: { value: 0.5 } } }, { abort: { grpcStatus: "UNAVAILABLE", percentage: 0.5 } }],
    ["exponential delay and http2 error are unsupported", { delay: { exponentialDelay: "1s" }, abort: { http2Error: "x" } }, undefined],
  ];
  for (const [name, input, want] of cases) assert.deepEqual(faultPolicy(input), want, name);
});

test("matches: headers sorted and lowercased, withoutHeaders inverted, presence, query params", () => {
  const m = routeMatch({
    uri: { prefix: "/api" }, method: { exact: "GET" }, ignoreUriCase: true,
    headers: { "X-B": { exact: "1" }, "x-a": {} }, withoutHeaders: { "x-debug": { regex: ".*" } }, queryParams: { q: { exact: "" } },
  });
  assert.deepEqual(m, {
    uri: { prefix: "/api" }, method: { exact: "GET" }, ignoreUriCase: true,
    headers: [{ name: "x-a", invert: false }, { name: "x-b", match: { exact: "1" }, invert: false }, { name: "x-debug", match: { regex: ".*" }, invert: true }],
    queryParams: [{ name: "q", match: { exact: "" } }],
  });
  assert.equal(isCatchAll(m), false);
  assert.equal(isCatchAll(routeMatch({ uri: { prefix: "/" } })), true);
  assert.equal(isCatchAll(routeMatch(undefined)), true);
});

test("rewrite, redirect, direct response, headers, CORS, mirror percentages", () => {
  assert.deepEqual(rewritePolicy({ uri: "/v2", authority: "b", uriRegexRewrite: { match: "^/a", rewrite: "/b" } }), { uri: "/v2", authority: "b", uriRegex: { match: "^/a", rewrite: "/b" } });
  assert.equal(rewritePolicy({}), undefined);
  assert.deepEqual(redirectAction({ uri: "/x", authority: "h", derivePort: "FROM_REQUEST_PORT", scheme: "https" }), { kind: "redirect", code: 301, uri: "/x", authority: "h", derivePort: "FROM_REQUEST_PORT", scheme: "https" });
  assert.deepEqual(redirectAction({ prefixRewrite: "/n", redirectCode: 308, port: 8443 }), { kind: "redirect", code: 308, prefixRewrite: "/n", port: 8443 });
  assert.deepEqual(directResponseAction({ status: 503, body: { string: "down" } }), { kind: "direct", status: 503, body: "down" });
  assert.deepEqual(directResponseAction({ status: 200, body: { bytes: btoa("héllo".replace(/é/, "\u00c3\u00a9")) } }), { kind: "direct", status: 200, body: "héllo" });
  assert.deepEqual(headerOperations({ request: { set: { "X-A": "1" }, remove: ["X-B"] } }), { request: { set: { "x-a": "1" }, add: {}, remove: ["x-b"] } });
  assert.equal(headerOperations({}), undefined);
  assert.deepEqual(corsPolicy({ allowOrigins: [{ exact: "https://a" }], allowOrigin: ["*"], allowMethods: ["GET"], maxAge: "24h", allowCredentials: true }), {
    allowOrigins: [{ exact: "https://a" }, { regex: ".*" }], allowMethods: ["GET"], allowHeaders: [], exposeHeaders: [], maxAgeSeconds: 86400, allowCredentials: true, unmatchedPreflights: "FORWARD",
  });
  assert.equal(mirrorPercent(undefined), 100);
  assert.equal(mirrorPercent({ value: 12.5 }, 50), 12.5);
  assert.equal(mirrorPercent(undefined, 50), 50);
});

test("@request.auth.claims.* header matches: JWT claim matchers at gateways (dotted and bracketed paths), plain (never present) headers on sidecars", () => {
  const m = { uri: { prefix: "/headers" }, headers: { "@request.auth.claims.groups": { exact: "group1" }, "@request.auth.claims[name][givenName]": { prefix: "Al" } }, withoutHeaders: { "@request.auth.claims.admin": {} } };
  assert.deepEqual(routeMatch(m, true).headers, [
    { name: "@request.auth.claims.groups", match: { exact: "group1" }, invert: false, claim: ["groups"] },
    { name: "@request.auth.claims[name][givenName]", match: { prefix: "Al" }, invert: false, claim: ["name", "givenName"] },
    { name: "@request.auth.claims.admin", invert: true, claim: ["admin"] },
  ]);
  assert.ok(routeMatch(m, false).headers.every((h) => h.claim === undefined));
});
