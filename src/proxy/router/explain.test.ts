import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { explainMatch, formatExplanation } from "./explain.ts";
import { reviewsTestV2, route, routeConfig, vhost } from "./fixtures.ts";
import { requestView } from "./request-view.ts";
import { RouteTable } from "./route-table.ts";

describe("explainMatch", () => {
  it("says which condition failed and which route won", () => {
    const table = new RouteTable(reviewsTestV2());
    const e = explainMatch(table, requestView({ authority: "reviews:9080", headers: { "end-user": "mary" } }));
    assert.equal(e.virtualHost?.domain, "reviews:9080");
    assert.equal(e.virtualHost?.kind, "exact");
    assert.deepEqual(e.routes.map((r) => [r.matched, r.failures]), [
      [false, ['header end-user: expected exact "jason", got "mary"']],
      [true, []],
    ]);
    assert.equal(e.selected?.route.name, "reviews.default");
    assert.match(formatExplanation(e), /#0 reviews\.jason {2}no: header end-user: expected exact "jason", got "mary"\n {2}#1 reviews\.default {2}MATCH/);
  });

  it("agrees with match and marks later matching routes as shadowed", () => {
    const table = new RouteTable(reviewsTestV2());
    const req = requestView({ authority: "reviews", headers: { "end-user": "jason" } });
    const e = explainMatch(table, req);
    const m = table.match(req);
    assert.equal(m.kind === "route" && m.route, e.selected?.route);
    assert.deepEqual(e.routes.map((r) => [r.matched, r.shadowed]), [[true, false], [true, true]]);
  });

  it("lists every failed condition with what the request had", () => {
    const table = new RouteTable(routeConfig([vhost("vh", ["*"], [route("r", {
      uri: { prefix: "/api" },
      method: { exact: "POST" },
      port: 9080,
      headers: [{ name: "x-debug", invert: true }, { name: "end-user", invert: false }],
      queryParams: [{ name: "v", match: { regex: "[0-9]+" } }],
    })])]));
    const e = explainMatch(table, requestView({ authority: "svc:80", path: "/web?v=x", port: 80, headers: { "x-debug": "1" } }));
    assert.equal(e.virtualHost?.kind, "any");
    assert.deepEqual(e.routes[0]?.failures, [
      'uri: expected prefix "/api", got "/web"',
      'method: expected exact "POST", got "GET"',
      "port: expected 9080, got 80",
      'without header x-debug: expected not present, got "1"',
      "header end-user: expected present, got nothing",
      'query v: expected regex "[0-9]+", got "x"',
    ]);
    assert.equal(e.selected, undefined);
    assert.match(formatExplanation(e), /no route matches \(404 NR\)/);
  });

  it("reports no virtual host", () => {
    const table = new RouteTable(reviewsTestV2());
    const e = explainMatch(table, requestView({ authority: "nope" }));
    assert.equal(e.virtualHost, undefined);
    assert.deepEqual(e.routes, []);
    assert.match(formatExplanation(e), /no virtual host matches/);
  });
});
