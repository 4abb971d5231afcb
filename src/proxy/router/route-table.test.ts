import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouteMatch } from "../../model/proxy-config.ts";
import { forward, ratingsTestAbort, reviewsTestV2, route, routeConfig, subsetCluster, vhost } from "./fixtures.ts";
import { requestView } from "./request-view.ts";
import type { RouteMatchResult } from "./route-table.ts";
import { RouteTable } from "./route-table.ts";

type Req = Parameters<typeof requestView>[0];

function matches(m: Partial<RouteMatch>, req: Partial<Req>): boolean {
  const table = new RouteTable(routeConfig([vhost("vh", ["*"], [route("r", m)])]));
  return table.match(requestView({ authority: "svc", ...req })).kind === "route";
}

function routeName(r: RouteMatchResult): string {
  return r.kind === "route" ? r.route.name : r.kind;
}

describe("RouteTable match fields", () => {
  const cases: [label: string, m: Partial<RouteMatch>, req: Partial<Req>, expected: boolean][] = [
    ["no conditions match everything", {}, { path: "/anything?x=1" }, true],
    // uri (query excluded)
    ["uri exact", { uri: { exact: "/productpage" } }, { path: "/productpage" }, true],
    ["uri exact ignores query", { uri: { exact: "/productpage" } }, { path: "/productpage?u=1" }, true],
    ["uri exact differs", { uri: { exact: "/productpage" } }, { path: "/productpage/" }, false],
    ["uri exact is case-sensitive", { uri: { exact: "/productpage" } }, { path: "/ProductPage" }, false],
    ["uri exact ignoreUriCase", { uri: { exact: "/productpage" }, ignoreUriCase: true }, { path: "/ProductPage" }, true],
    ["uri exact ignoreUriCase still exact", { uri: { exact: "/productpage" }, ignoreUriCase: true }, { path: "/ProductPages" }, false],
    ["uri prefix", { uri: { prefix: "/api/v1" } }, { path: "/api/v1/users" }, true],
    ["uri prefix is a string prefix", { uri: { prefix: "/api/v1" } }, { path: "/api/v10" }, true],
    ["uri prefix miss", { uri: { prefix: "/api/v1" } }, { path: "/api/v2" }, false],
    ["uri prefix not in query", { uri: { prefix: "/a?b" } }, { path: "/a?b" }, false],
    ["uri prefix case", { uri: { prefix: "/API" } }, { path: "/api/x" }, false],
    ["uri prefix ignoreUriCase", { uri: { prefix: "/API" }, ignoreUriCase: true }, { path: "/api/x" }, true],
    ["uri empty prefix", { uri: { prefix: "" } }, { path: "/x" }, true],
    ["uri regex full match", { uri: { regex: "/v[0-9]+/.*" } }, { path: "/v12/x" }, true],
    ["uri regex must match whole path", { uri: { regex: "/v[0-9]+" } }, { path: "/v12/x" }, false],
    ["uri regex not anchored by user still full", { uri: { regex: "v1" } }, { path: "/v1" }, false],
    ["uri regex ignores query", { uri: { regex: "/a" } }, { path: "/a?x=y" }, true],
    ["uri regex ignores ignoreUriCase", { uri: { regex: "/a" }, ignoreUriCase: true }, { path: "/A" }, false],
    ["uri regex alternation anchored as a group", { uri: { regex: "/a|/b" } }, { path: "/b" }, true],
    ["uri regex alternation no partial", { uri: { regex: "/a|/b" } }, { path: "/bc" }, false],
    ["uri regex RE2 (?i)", { uri: { regex: "(?i)/abc" } }, { path: "/ABC" }, true],
    // scheme / method / authority
    ["scheme exact", { scheme: { exact: "https" } }, { scheme: "https" }, true],
    ["scheme miss", { scheme: { exact: "https" } }, { scheme: "http" }, false],
    ["method exact", { method: { exact: "GET" } }, { method: "GET" }, true],
    ["method is case-sensitive", { method: { exact: "GET" } }, { method: "get" }, false],
    ["method regex", { method: { regex: "GET|HEAD" } }, { method: "HEAD" }, true],
    ["method regex miss", { method: { regex: "GET|HEAD" } }, { method: "POST" }, false],
    ["authority exact", { authority: { exact: "svc:8080" } }, { authority: "svc:8080" }, true],
    ["authority prefix", { authority: { prefix: "svc" } }, { authority: "svc:8080" }, true],
    ["authority miss", { authority: { exact: "svc" } }, { authority: "svc:8080" }, false],
    // port
    ["port", { port: 9080 }, { port: 9080 }, true],
    ["port miss", { port: 9080 }, { port: 9081 }, false],
    // headers
    ["header exact", { headers: [{ name: "end-user", match: { exact: "jason" }, invert: false }] }, { headers: { "end-user": "jason" } }, true],
    ["header exact miss", { headers: [{ name: "end-user", match: { exact: "jason" }, invert: false }] }, { headers: { "end-user": "mary" } }, false],
    ["header absent", { headers: [{ name: "end-user", match: { exact: "jason" }, invert: false }] }, {}, false],
    ["header value case-sensitive", { headers: [{ name: "end-user", match: { exact: "jason" }, invert: false }] }, { headers: { "end-user": "Jason" } }, false],
    ["header name case-insensitive", { headers: [{ name: "End-User", match: { exact: "jason" }, invert: false }] }, { headers: { "END-USER": "jason" } }, true],
    ["header prefix", { headers: [{ name: "ua", match: { prefix: "Mozilla" }, invert: false }] }, { headers: { ua: "Mozilla/5.0" } }, true],
    ["header regex full", { headers: [{ name: "ua", match: { regex: ".*Chrome.*" }, invert: false }] }, { headers: { ua: "X Chrome Y" } }, true],
    ["header regex partial is no match", { headers: [{ name: "ua", match: { regex: "Chrome" }, invert: false }] }, { headers: { ua: "X Chrome Y" } }, false],
    ["header present", { headers: [{ name: "x-debug", invert: false }] }, { headers: { "x-debug": "" } }, true],
    ["header present miss", { headers: [{ name: "x-debug", invert: false }] }, {}, false],
    ["header repeated joined", { headers: [{ name: "x", match: { exact: "a,b" }, invert: false }] }, { headers: { x: ["a", "b"] } }, true],
    ["all headers must match", { headers: [{ name: "a", invert: false }, { name: "b", invert: false }] }, { headers: { a: "1" } }, false],
    // withoutHeaders (invert)
    ["withoutHeaders value differs", { headers: [{ name: "end-user", match: { exact: "jason" }, invert: true }] }, { headers: { "end-user": "mary" } }, true],
    ["withoutHeaders value equal", { headers: [{ name: "end-user", match: { exact: "jason" }, invert: true }] }, { headers: { "end-user": "jason" } }, false],
    ["withoutHeaders missing header matches (Envoy)", { headers: [{ name: "end-user", match: { exact: "jason" }, invert: true }] }, {}, true],
    ["withoutHeaders presence: absent", { headers: [{ name: "x-debug", invert: true }] }, {}, true],
    ["withoutHeaders presence: present", { headers: [{ name: "x-debug", invert: true }] }, { headers: { "x-debug": "1" } }, false],
    // pseudo-headers
    [":authority", { headers: [{ name: ":authority", match: { exact: "svc" }, invert: false }] }, { authority: "svc" }, true],
    [":authority miss", { headers: [{ name: ":authority", match: { exact: "svc" }, invert: false }] }, { authority: "other" }, false],
    [":method", { headers: [{ name: ":method", match: { exact: "POST" }, invert: false }] }, { method: "POST" }, true],
    [":path includes query", { headers: [{ name: ":path", match: { exact: "/a?b=1" }, invert: false }] }, { path: "/a?b=1" }, true],
    [":scheme", { headers: [{ name: ":scheme", match: { exact: "https" }, invert: false }] }, { scheme: "https" }, true],
    [":scheme miss", { headers: [{ name: ":scheme", match: { exact: "https" }, invert: false }] }, { scheme: "http" }, false],
    // query parameters
    ["query exact", { queryParams: [{ name: "v", match: { exact: "2" } }] }, { path: "/p?a=1&v=2" }, true],
    ["query exact miss", { queryParams: [{ name: "v", match: { exact: "2" } }] }, { path: "/p?v=3" }, false],
    ["query absent", { queryParams: [{ name: "v", match: { exact: "2" } }] }, { path: "/p" }, false],
    ["query first value wins", { queryParams: [{ name: "v", match: { exact: "2" } }] }, { path: "/p?v=1&v=2" }, false],
    ["query exact empty matches bare key", { queryParams: [{ name: "debug", match: { exact: "" } }] }, { path: "/p?debug" }, true],
    ["query exact empty matches key=", { queryParams: [{ name: "debug", match: { exact: "" } }] }, { path: "/p?debug=" }, true],
    ["query exact empty rejects a value", { queryParams: [{ name: "debug", match: { exact: "" } }] }, { path: "/p?debug=1" }, false],
    ["query regex full", { queryParams: [{ name: "id", match: { regex: "[0-9]+" } }] }, { path: "/p?id=123" }, true],
    ["query regex partial is no match", { queryParams: [{ name: "id", match: { regex: "[0-9]+" } }] }, { path: "/p?id=12a" }, false],
    ["query present", { queryParams: [{ name: "id" }] }, { path: "/p?x&id=" }, true],
    ["query present miss", { queryParams: [{ name: "id" }] }, { path: "/p?idx=1" }, false],
    ["query not decoded (Envoy)", { queryParams: [{ name: "q", match: { exact: "a b" } }] }, { path: "/p?q=a%20b" }, false],
    ["query name is not a uri condition", { uri: { exact: "/p" }, queryParams: [{ name: "a" }] }, { path: "/p?a" }, true],
    // JWT claims (gateways' @request.auth.claims.*): strings, lists (any element), nested, absent
    ["claim exact", { headers: [{ name: "@request.auth.claims.groups", claim: ["groups"], match: { exact: "group1" }, invert: false }] }, { jwtPayload: { groups: "group1" } }, true],
    ["claim list contains", { headers: [{ name: "@request.auth.claims.groups", claim: ["groups"], match: { exact: "group1" }, invert: false }] }, { jwtPayload: { groups: ["group1", "group2"] } }, true],
    ["claim list lacks", { headers: [{ name: "@request.auth.claims.groups", claim: ["groups"], match: { exact: "group3" }, invert: false }] }, { jwtPayload: { groups: ["group1", "group2"] } }, false],
    ["claim nested", { headers: [{ name: "@request.auth.claims.name.givenName", claim: ["name", "givenName"], match: { prefix: "Al" }, invert: false }] }, { jwtPayload: { name: { givenName: "Alice" } } }, true],
    ["claim absent", { headers: [{ name: "@request.auth.claims.groups", claim: ["groups"], match: { exact: "group1" }, invert: false }] }, { jwtPayload: { foo: "bar" } }, false],
    ["claim without a token", { headers: [{ name: "@request.auth.claims.groups", claim: ["groups"], match: { exact: "group1" }, invert: false }] }, {}, false],
    ["claim is not a header", { headers: [{ name: "@request.auth.claims.groups", claim: ["groups"], match: { exact: "group1" }, invert: false }] }, { headers: { "@request.auth.claims.groups": "group1" } }, false],
    ["without claim, absent", { headers: [{ name: "@request.auth.claims.groups", claim: ["groups"], match: { exact: "group1" }, invert: true }] }, {}, true],
    ["without claim, present", { headers: [{ name: "@request.auth.claims.groups", claim: ["groups"], match: { exact: "group1" }, invert: true }] }, { jwtPayload: { groups: ["group1"] } }, false],
    // combinations
    ["all fields together", {
      uri: { prefix: "/api" }, method: { exact: "GET" }, scheme: { exact: "http" }, authority: { prefix: "svc" }, port: 80,
      headers: [{ name: "x", match: { exact: "1" }, invert: false }], queryParams: [{ name: "q" }],
    }, { path: "/api/x?q", headers: { x: "1" } }, true],
    ["all fields but one", {
      uri: { prefix: "/api" }, method: { exact: "GET" }, scheme: { exact: "http" }, authority: { prefix: "svc" }, port: 80,
      headers: [{ name: "x", match: { exact: "1" }, invert: false }], queryParams: [{ name: "q" }],
    }, { path: "/api/x?r", headers: { x: "1" } }, false],
  ];
  for (const [label, m, req, expected] of cases) {
    it(`${label} → ${expected ? "match" : "no match"}`, () => assert.equal(matches(m, req), expected));
  }
});

describe("RouteTable", () => {
  it("first match wins", () => {
    const table = new RouteTable(routeConfig([vhost("vh", ["*"], [
      route("a", { uri: { prefix: "/a/b" } }),
      route("b", { uri: { prefix: "/a" } }),
      route("c", {}),
      route("d", { uri: { prefix: "/a/b/c" } }),
    ])]));
    const name = (path: string): string => routeName(table.match(requestView({ authority: "x", path })));
    assert.equal(name("/a/b/c"), "a");
    assert.equal(name("/a/x"), "b");
    assert.equal(name("/z"), "c");
  });

  it("reports noVirtualHost and noRoute", () => {
    const table = new RouteTable(routeConfig([vhost("vh", ["svc"], [route("only", { uri: { exact: "/" } })])]));
    const nvh = table.match(requestView({ authority: "other" }));
    assert.equal(nvh.kind, "noVirtualHost");
    const nr = table.match(requestView({ authority: "svc", path: "/x" }));
    assert.equal(nr.kind, "noRoute");
    assert.equal(nr.kind === "noRoute" && nr.virtualHost.name, "vh");
  });

  it("returns the same preallocated result object every time", () => {
    const table = new RouteTable(reviewsTestV2());
    const a = table.match(requestView({ authority: "reviews:9080", headers: { "end-user": "jason" } }));
    const b = table.match(requestView({ authority: "reviews:9080", headers: { "end-user": "jason" } }));
    assert.equal(a, b);
    assert.equal(a.kind === "route" && a.routeIndex, 0);
  });

  it("does not leak the query parse of one request into the next", () => {
    const table = new RouteTable(routeConfig([vhost("vh", ["*"], [route("q", { queryParams: [{ name: "v" }] }), route("rest", {})])]));
    assert.equal(routeName(table.match(requestView({ authority: "x", path: "/?v=1" }))), "q");
    assert.equal(routeName(table.match(requestView({ authority: "x", path: "/" }))), "rest");
  });

  it("bookinfo reviews-test-v2: jason → v2, others → v1, under every service name", () => {
    const table = new RouteTable(reviewsTestV2());
    for (const authority of ["reviews", "reviews:9080", "reviews.default", "reviews.default.svc.cluster.local:9080"]) {
      const jason = table.match(requestView({ authority, path: "/reviews/0", headers: { "end-user": "jason" } }));
      assert.equal(jason.kind === "route" && jason.route.action.kind === "forward" && jason.route.action.clusters[0]?.cluster, subsetCluster("reviews", "v2"));
      const other = table.match(requestView({ authority, path: "/reviews/0", headers: { "end-user": "mary" } }));
      assert.equal(other.kind === "route" && other.route.action.kind === "forward" && other.route.action.clusters[0]?.cluster, subsetCluster("reviews", "v1"));
      const anon = table.match(requestView({ authority, path: "/reviews/0" }));
      assert.equal(routeName(anon), "reviews.default");
    }
    assert.equal(table.match(requestView({ authority: "ratings:9080" })).kind, "noVirtualHost");
  });

  it("bookinfo ratings-test-abort: jason's route carries the 100% abort", () => {
    const table = new RouteTable(ratingsTestAbort());
    const r = table.match(requestView({ authority: "ratings:9080", path: "/ratings/0", headers: { "end-user": "jason" } }));
    assert.equal(r.kind === "route" && r.route.action.kind === "forward" && r.route.action.fault?.abort?.httpStatus, 500);
    const other = table.match(requestView({ authority: "ratings:9080", path: "/ratings/0" }));
    assert.equal(other.kind === "route" && other.route.action.kind === "forward" && other.route.action.fault, undefined);
  });

  it("rejects an invalid regex at compile time", () => {
    assert.throws(() => new RouteTable(routeConfig([vhost("vh", ["*"], [route("bad", { uri: { regex: "(" } })])])), { code: "ROUTER_BAD_REGEX" });
  });

  it("keeps a virtual host compiled from its first request on, the same results after", () => {
    const table = new RouteTable(routeConfig([
      vhost("a", ["a"], [route("a1", { uri: { prefix: "/x" } }), route("a2", {})]),
      vhost("b", ["b"], [route("b1", {})]),
      vhost("c", ["c"], [route("c1", {})]),
    ]));
    assert.equal(table.compiledHosts, 0, "none before a request");
    const first = table.match(requestView({ authority: "a", path: "/x" }));
    assert.equal(first.kind === "route" && first.route.name, "a1");
    assert.equal(table.compiledHosts, 1);
    assert.equal(table.match(requestView({ authority: "a", path: "/x" })), first, "the preallocated result, again");
    const other = table.match(requestView({ authority: "a", path: "/y" }));
    assert.equal(other.kind === "route" && other.route.name, "a2");
    assert.equal(table.compiledHosts, 1);
    assert.equal(table.findVirtualHostDetailed("b")?.value.virtualHost.name, "b");
    assert.equal(table.compiledHosts, 2, "explain compiles the host it shows");
    assert.equal(table.match(requestView({ authority: "nope" })).kind, "noVirtualHost");
    assert.equal(table.compiledHosts, 2);
  });

  it("rejects an invalid regex of a host no request has reached", () => {
    assert.throws(() => new RouteTable(routeConfig([vhost("ok", ["ok"], [route("r", {})]), vhost("vh", ["other"], [route("bad", { uri: { regex: "(" } })])])), { code: "ROUTER_BAD_REGEX" });
  });

  it("virtualHostFor", () => {
    const table = new RouteTable(reviewsTestV2());
    assert.equal(table.virtualHostFor("reviews")?.name, "reviews.default.svc.cluster.local:9080");
    assert.equal(table.virtualHostFor("nope"), undefined);
  });

  it("routes to the action kinds unchanged", () => {
    const table = new RouteTable(routeConfig([vhost("vh", ["*"], [
      route("redir", { uri: { exact: "/old" } }, { kind: "redirect", uri: "/new", code: 301 }),
      route("direct", { uri: { exact: "/health" } }, { kind: "direct", status: 200, body: "ok" }),
      route("fwd", {}, forward(["c"])),
    ])]));
    const kind = (path: string): string => {
      const r = table.match(requestView({ authority: "x", path }));
      return r.kind === "route" ? r.route.action.kind : r.kind;
    };
    assert.deepEqual([kind("/old"), kind("/health"), kind("/x")], ["redirect", "direct", "forward"]);
  });
});
