import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RedirectAction, RouteMatch } from "../../model/proxy-config.ts";
import { match } from "./fixtures.ts";
import { redirectLocation, redirectStatus } from "./redirect.ts";
import { requestView } from "./request-view.ts";

type Req = Parameters<typeof requestView>[0];

function redirect(partial: Partial<RedirectAction>): RedirectAction {
  return { kind: "redirect", code: 301, ...partial };
}

describe("redirectLocation", () => {
  const cases: [label: string, req: Req, m: RouteMatch, r: RedirectAction, location: string][] = [
    ["uri replaces the whole path, keeps query", { authority: "svc:8080", path: "/v1/getProductRatings?x=1" }, match({ uri: { prefix: "/v1" } }), redirect({ uri: "/v1/bookRatings" }), "http://svc:8080/v1/bookRatings?x=1"],
    ["uri with its own query overrides", { authority: "svc", path: "/a?x=1" }, match(), redirect({ uri: "/b?y=2" }), "http://svc/b?y=2"],
    ["authority replaces host and port", { authority: "svc:8080", path: "/a" }, match(), redirect({ authority: "new.example.com" }), "http://new.example.com/a"],
    ["authority and uri", { authority: "ratings", path: "/v1/x" }, match({ uri: { exact: "/v1/x" } }), redirect({ uri: "/v1/bookRatings", authority: "newratings.default.svc.cluster.local" }), "http://newratings.default.svc.cluster.local/v1/bookRatings"],
    ["prefixRewrite replaces the matched prefix", { authority: "svc", path: "/old/a/b?q" }, match({ uri: { prefix: "/old" } }), redirect({ prefixRewrite: "/new" }), "http://svc/new/a/b?q"],
    ["prefixRewrite without uri match swaps the leading /", { authority: "svc", path: "/a" }, match(), redirect({ prefixRewrite: "/b/" }), "http://svc/b/a"],
    ["scheme https, default port dropped", { authority: "svc:80", path: "/a" }, match(), redirect({ scheme: "https" }), "https://svc/a"],
    ["scheme change keeps a non-default port", { authority: "svc:8080", path: "/a" }, match(), redirect({ scheme: "https" }), "https://svc:8080/a"],
    ["same scheme keeps :80", { authority: "svc:80", path: "/a" }, match(), redirect({ uri: "/b" }), "http://svc:80/b"],
    ["port replaces the request port", { authority: "svc:8080", path: "/a" }, match(), redirect({ port: 9090 }), "http://svc:9090/a"],
    ["port added when absent", { authority: "svc", path: "/a" }, match(), redirect({ scheme: "https", port: 8443 }), "https://svc:8443/a"],
    ["port with authority", { authority: "svc", path: "/a" }, match(), redirect({ authority: "x", port: 81 }), "http://x:81/a"],
    ["derivePort FROM_REQUEST_PORT", { authority: "svc", port: 9080, path: "/a" }, match(), redirect({ scheme: "https", derivePort: "FROM_REQUEST_PORT" }), "https://svc:9080/a"],
    ["derivePort FROM_PROTOCOL_DEFAULT drops the port", { authority: "svc:8080", path: "/a" }, match(), redirect({ scheme: "https", derivePort: "FROM_PROTOCOL_DEFAULT" }), "https://svc/a"],
    ["IPv6 authority keeps brackets", { authority: "[::1]:8080", path: "/a" }, match(), redirect({ port: 81 }), "http://[::1]:81/a"],
    ["scheme uppercase normalised", { authority: "svc", path: "/a", scheme: "http" }, match(), redirect({ scheme: "HTTPS" }), "https://svc/a"],
  ];
  for (const [label, req, m, r, location] of cases) {
    it(label, () => assert.equal(redirectLocation(requestView(req), m, r), location));
  }

  it("status defaults to 301", () => {
    assert.equal(redirectStatus(redirect({ code: 0 })), 301);
    assert.equal(redirectStatus(redirect({ code: 308 })), 308);
  });
});
