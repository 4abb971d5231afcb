import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CorsPolicy } from "../../model/proxy-config.ts";
import { corsPreflight, corsResponseHeaders, effectiveCorsPolicy, isOriginAllowed } from "./cors.ts";
import { forward, route, vhost } from "./fixtures.ts";
import { requestView } from "./request-view.ts";

function policy(partial: Partial<CorsPolicy> = {}): CorsPolicy {
  return {
    allowOrigins: [{ exact: "https://example.com" }, { regex: "https://.*\\.example\\.org" }],
    allowMethods: ["POST", "GET"],
    allowHeaders: ["X-Foo-Bar"],
    exposeHeaders: ["X-Trace"],
    maxAgeSeconds: 86400,
    allowCredentials: false,
    unmatchedPreflights: "FORWARD",
    ...partial,
  };
}

function preflight(origin: string | undefined, extra: Record<string, string> = {}, method = "OPTIONS") {
  const headers: Record<string, string> = { "access-control-request-method": "POST", ...extra };
  if (origin !== undefined) headers.origin = origin;
  return requestView({ authority: "svc", method, headers });
}

describe("corsPreflight", () => {
  it("answers an allowed preflight", () => {
    assert.deepEqual(corsPreflight(preflight("https://a.example.org"), policy({ allowCredentials: true })), [
      ["access-control-allow-origin", "https://a.example.org"],
      ["access-control-allow-credentials", "true"],
      ["access-control-allow-methods", "POST,GET"],
      ["access-control-allow-headers", "X-Foo-Bar"],
      ["access-control-max-age", "86400"],
      ["vary", "Origin"],
    ]);
  });

  it("leaves non-preflights and policy-less routes to the upstream", () => {
    assert.equal(corsPreflight(preflight("https://example.com"), undefined), null);
    assert.equal(corsPreflight(preflight(undefined), policy()), null);
    assert.equal(corsPreflight(preflight(""), policy()), null);
    assert.equal(corsPreflight(preflight("https://example.com", {}, "GET"), policy()), null);
    const noRequestMethod = requestView({ authority: "svc", method: "OPTIONS", headers: { origin: "https://example.com" } });
    assert.equal(corsPreflight(noRequestMethod, policy()), null);
  });

  it("unmatched origin: FORWARD lets the upstream answer; IGNORE answers 200 without Allow-Origin (Envoy)", () => {
    assert.equal(corsPreflight(preflight("https://evil.com"), policy()), null);
    assert.deepEqual(corsPreflight(preflight("https://evil.com"), policy({ unmatchedPreflights: "IGNORE" })), [
      ["access-control-allow-methods", "POST,GET"],
      ["access-control-allow-headers", "X-Foo-Bar"],
      ["access-control-max-age", "86400"],
    ]);
  });

  it("* methods/headers echo the request; empty lists and no max age are omitted", () => {
    const p = policy({ allowMethods: ["*"], allowHeaders: ["*"], maxAgeSeconds: undefined });
    assert.deepEqual(corsPreflight(preflight("https://example.com", { "access-control-request-headers": "x-a,x-b" }), p), [
      ["access-control-allow-origin", "https://example.com"],
      ["access-control-allow-methods", "POST"],
      ["access-control-allow-headers", "x-a,x-b"],
      ["vary", "Origin"],
    ]);
    const bare = policy({ allowMethods: [], allowHeaders: [], maxAgeSeconds: undefined });
    assert.deepEqual(corsPreflight(preflight("https://example.com"), bare), [["access-control-allow-origin", "https://example.com"], ["vary", "Origin"]]);
  });
});

describe("isOriginAllowed", () => {
  it("exact, regex (full match), and a matcher that accepts * allows all", () => {
    assert.equal(isOriginAllowed(policy(), "https://example.com"), true);
    assert.equal(isOriginAllowed(policy(), "https://example.com.evil"), false);
    assert.equal(isOriginAllowed(policy(), "https://x.example.org"), true);
    assert.equal(isOriginAllowed(policy(), "https://x.example.org.evil"), false);
    assert.equal(isOriginAllowed(policy({ allowOrigins: [{ exact: "*" }] }), "https://any"), true);
    assert.equal(isOriginAllowed(policy({ allowOrigins: [{ prefix: "https://" }] }), "http://x"), false);
    assert.equal(isOriginAllowed(policy({ allowOrigins: [] }), "https://example.com"), false);
  });
});

describe("corsResponseHeaders", () => {
  it("allowed cross-origin request gets origin, credentials, expose headers", () => {
    const req = requestView({ authority: "svc", headers: { origin: "https://example.com" } });
    assert.deepEqual(corsResponseHeaders(req, policy({ allowCredentials: true })), [
      ["access-control-allow-origin", "https://example.com"],
      ["access-control-allow-credentials", "true"],
      ["access-control-expose-headers", "X-Trace"],
    ]);
  });

  it("nothing for same-origin, unmatched origin or no policy", () => {
    assert.deepEqual(corsResponseHeaders(requestView({ authority: "svc" }), policy()), []);
    assert.deepEqual(corsResponseHeaders(requestView({ authority: "svc", headers: { origin: "https://evil.com" } }), policy()), []);
    assert.deepEqual(corsResponseHeaders(requestView({ authority: "svc", headers: { origin: "https://example.com" } }), undefined), []);
  });
});

describe("effectiveCorsPolicy", () => {
  it("route settings first, virtual host settings per missing field; merge is cached", () => {
    const hostPolicy = policy({ allowMethods: ["GET"], maxAgeSeconds: 10, allowCredentials: true });
    const routePolicy = policy({ allowOrigins: [{ exact: "https://r.com" }], allowMethods: [], maxAgeSeconds: undefined, allowCredentials: undefined });
    const r = route("r", {}, forward(["c"], { cors: routePolicy }));
    const vh = { ...vhost("vh", ["*"], [r]), cors: hostPolicy };
    const m = effectiveCorsPolicy(vh, r);
    assert.deepEqual(m?.allowOrigins, [{ exact: "https://r.com" }]);
    assert.deepEqual(m?.allowMethods, ["GET"]);
    assert.equal(m?.maxAgeSeconds, 10);
    assert.equal(m?.allowCredentials, true);
    assert.equal(effectiveCorsPolicy(vh, r), m);
    assert.equal(effectiveCorsPolicy(vhost("x", ["*"], [r]), r), routePolicy);
    const plain = route("p", {});
    assert.equal(effectiveCorsPolicy(vh, plain), hostPolicy);
  });
});
