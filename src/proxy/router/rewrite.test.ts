import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RewritePolicy, RouteMatch } from "../../model/proxy-config.ts";
import { match } from "./fixtures.ts";
import { rewritePath, substitution } from "./rewrite.ts";

describe("rewritePath", () => {
  const cases: [label: string, path: string, m: RouteMatch, rewrite: RewritePolicy | undefined, out: string][] = [
    ["no rewrite", "/a?x=1", match(), undefined, "/a?x=1"],
    ["authority-only rewrite keeps path", "/a", match(), { authority: "b" }, "/a"],
    ["prefix replaced, rest and query kept", "/api/v1/users?id=1", match({ uri: { prefix: "/api/v1" } }), { uri: "/v2" }, "/v2/users?id=1"],
    ["prefix to /", "/ratings/0", match({ uri: { prefix: "/ratings" } }), { uri: "/" }, "//0"],
    ["prefix ignoreUriCase replaces the matched length", "/API/x", match({ uri: { prefix: "/api" }, ignoreUriCase: true }), { uri: "/v2" }, "/v2/x"],
    ["exact replaces whole path, keeps query", "/old?q=1", match({ uri: { exact: "/old" } }), { uri: "/new" }, "/new?q=1"],
    ["regex match replaces whole path", "/v12/x?q", match({ uri: { regex: "/v[0-9]+/.*" } }), { uri: "/latest" }, "/latest?q"],
    ["no uri match is prefix /", "/foo", match(), { uri: "/v2/" }, "/v2/foo"],
    ["uriRegex with \\1", "/service/foo/v1/api", match({ uri: { prefix: "/service" } }), { uriRegex: { match: "^/service/([^/]+)(/.*)$", rewrite: "\\2/instance/\\1" } }, "/v1/api/instance/foo"],
    ["uriRegex with $1", "/a/b?q=/a", match(), { uriRegex: { match: "/a/(.*)", rewrite: "/x/$1" } }, "/x/b?q=/a"],
    ["uriRegex replaces every match", "/aaa/bab", match(), { uriRegex: { match: "a", rewrite: "o" } }, "/ooo/bob"],
    ["uriRegex \\0 is the whole match", "/ab", match(), { uriRegex: { match: "b", rewrite: "[\\0]" } }, "/a[b]"],
    ["uriRegex no match leaves path", "/zz?a", match(), { uriRegex: { match: "x", rewrite: "y" } }, "/zz?a"],
    ["uriRegex never touches the query", "/p?x=x", match(), { uriRegex: { match: "x", rewrite: "y" } }, "/p?x=x"],
  ];
  for (const [label, path, m, rw, out] of cases) it(label, () => assert.equal(rewritePath(path, m, rw), out));
});

describe("substitution", () => {
  it("handles literals, \\\\, $ without digit and missing groups", () => {
    const s = substitution("\\\\$x-\\1-$2-\\9");
    assert.equal(s("m", "g1", undefined), "\\$x-g1--");
  });
});
