import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouteAction } from "../../../../model/proxy-config.ts";
import { STOP } from "../../../request/context.ts";
import { forward, route } from "../../../router/fixtures.ts";
import { RF_NC } from "../../../request/response-flags.ts";
import { FakeRequest } from "../../../../testing/fake-request.ts";
import { routerFilter } from "./router-filter.ts";

function routed(action: RouteAction, clusters: string[] = []): FakeRequest {
  const x = new FakeRequest({ clusters, path: "/old/x?q=1" });
  x.route = route("r", { uri: { prefix: "/old" } }, action);
  return x;
}

describe("router filter", () => {
  it("answers a direct response", () => {
    const x = routed({ kind: "direct", status: 418, body: "teapot" });
    assert.equal(routerFilter.onRequest(x, undefined), STOP);
    assert.equal(x.replies[0]?.status, 418);
    assert.equal(x.replies[0]?.body, "teapot");
  });

  it("answers a redirect with its status and Location", () => {
    const x = routed({ kind: "redirect", uri: "/new", code: 301 });
    routerFilter.onRequest(x, undefined);
    assert.equal(x.replies[0]?.status, 301);
    assert.deepEqual(x.replies[0]?.headers, [["location", "http://reviews:9080/new?q=1"]], "the query string is kept");
  });

  it("hands a forwarding route to the upstream driver with the picked cluster and a request id", () => {
    const x = routed(forward(["reviews-v1"]), ["reviews-v1"]);
    assert.equal(routerFilter.onRequest(x, undefined), STOP);
    assert.equal(x.replies.length, 0);
    assert.equal(x.forwarded[0]?.cluster, "reviews-v1");
    assert.equal(x.cluster, "reviews-v1");
    assert.match(x.requestId, /^[0-9a-f-]{36}$/);
  });

  it("answers 503 NC when the route's cluster is unknown", () => {
    const x = routed(forward(["gone"]));
    routerFilter.onRequest(x, undefined);
    assert.equal(x.replies[0]?.status, 503);
    assert.equal(x.replies[0]?.flags, RF_NC);
    assert.equal(x.forwarded.length, 0);
  });
});
