import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CorsPolicy } from "../../../../model/proxy-config.ts";
import { CONTINUE, STOP } from "../../../request/context.ts";
import { forward, route, routeConfig, vhost } from "../../../router/fixtures.ts";
import { FakeRequest } from "../../../../testing/fake-request.ts";
import { corsFilter } from "./cors-filter.ts";

const policy: CorsPolicy = {
  allowOrigins: [{ exact: "https://example.com" }],
  allowMethods: ["POST", "GET"],
  allowHeaders: ["X-Foo-Bar"],
  exposeHeaders: [],
  maxAgeSeconds: 86400,
  unmatchedPreflights: "FORWARD",
};

function routed(method: string, headers: Record<string, string>): FakeRequest {
  const r = route("r", {}, forward(["c"], { cors: policy }));
  const vh = vhost("v", ["*"], [r]);
  const x = new FakeRequest({ method, headers, routes: routeConfig([vh]) });
  x.route = r;
  x.virtualHost = vh;
  return x;
}

describe("cors filter", () => {
  it("answers an allowed preflight with 200 and the Access-Control-Allow-* headers", () => {
    const x = routed("OPTIONS", { origin: "https://example.com", "access-control-request-method": "POST" });
    assert.equal(corsFilter.onRequest(x, undefined), STOP);
    assert.equal(x.replies[0]?.status, 200);
    const h = new Map(x.replies[0]?.headers);
    assert.equal(h.get("access-control-allow-origin"), "https://example.com");
    assert.equal(h.get("access-control-allow-methods"), "POST,GET");
    assert.equal(h.get("access-control-max-age"), "86400");
  });

  it("keeps the policy for the response of a simple request and lets it through", () => {
    const x = routed("GET", { origin: "https://example.com" });
    assert.equal(corsFilter.onRequest(x, undefined), CONTINUE);
    assert.equal(x.cors, policy);
    assert.equal(x.replies.length, 0);
  });

  it("passes a preflight from an origin the policy does not allow to the upstream (unmatchedPreflights FORWARD)", () => {
    const x = routed("OPTIONS", { origin: "https://evil.test", "access-control-request-method": "POST" });
    assert.equal(corsFilter.onRequest(x, undefined), CONTINUE);
    assert.equal(x.replies.length, 0);
  });
});
