import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONTINUE, STOP } from "../../../request/context.ts";
import { forward, route, routeConfig, vhost } from "../../../router/fixtures.ts";
import { RF_NR } from "../../../request/response-flags.ts";
import { FakeRequest } from "../../../../testing/fake-request.ts";
import { routeFilter } from "./route-filter.ts";

const routes = routeConfig([vhost("reviews", ["reviews", "reviews:9080"], [route("v1", { uri: { prefix: "/reviews" } }, forward(["reviews-v1"]))])]);

describe("route filter", () => {
  it("keeps the matching route and its virtual host", () => {
    const x = new FakeRequest({ routes, path: "/reviews/1" });
    assert.equal(routeFilter.onRequest(x, undefined), CONTINUE);
    assert.equal(x.route?.name, "v1");
    assert.equal(x.virtualHost?.name, "reviews");
    assert.equal(x.routeName, "v1");
  });

  it("answers 404 with flag NR when no route matches", () => {
    const x = new FakeRequest({ routes, path: "/ratings" });
    assert.equal(routeFilter.onRequest(x, undefined), STOP);
    assert.equal(x.replies[0]?.status, 404);
    assert.equal(x.replies[0]?.flags, RF_NR);
  });

  it("answers 404 when the listener's route configuration is missing", () => {
    const x = new FakeRequest({ path: "/reviews" });
    assert.equal(routeFilter.onRequest(x, undefined), STOP);
    assert.equal(x.replies[0]?.status, 404);
  });
});
