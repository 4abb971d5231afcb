import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileFullMatch, compileGlobal } from "./regex.ts";
import { compileStringMatch, describeStringMatch, startsWithIgnoreCase } from "./string-matcher.ts";

describe("compileStringMatch", () => {
  const cases: [string, Parameters<typeof compileStringMatch>[0], boolean, string, boolean][] = [
    ["exact", { exact: "abc" }, false, "abc", true],
    ["exact miss", { exact: "abc" }, false, "abcd", false],
    ["exact ignore case", { exact: "aBc" }, true, "ABC", true],
    ["exact ignore case length", { exact: "abc" }, true, "ab", false],
    ["prefix", { prefix: "/a" }, false, "/ab", true],
    ["prefix ignore case", { prefix: "/A" }, true, "/ab", true],
    ["prefix ignore case miss", { prefix: "/A" }, true, "/b", false],
    ["ignore case is ASCII only", { exact: "é" }, true, "É", false],
    ["regex full", { regex: "a+" }, false, "aaa", true],
    ["regex not partial", { regex: "a+" }, false, "aab", false],
    ["regex unicode mode", { regex: "\\u{1F600}" }, false, "😀", true],
    ["regex RE2 named group", { regex: "(?P<v>v[0-9])" }, false, "v1", true],
    ["regex RE2 (?i)", { regex: "(?i)abc" }, false, "AbC", true],
    ["regex RE2 escape JS rejects in u mode", { regex: "a\\-b" }, false, "a-b", true],
    ["regex ignores ignoreCase", { regex: "abc" }, true, "ABC", false],
  ];
  for (const [label, m, ic, v, expected] of cases) {
    it(label, () => assert.equal(compileStringMatch(m, ic)(v), expected));
  }

  it("describes matches for explain", () => {
    assert.equal(describeStringMatch({ exact: "a" }), 'exact "a"');
    assert.equal(describeStringMatch({ prefix: "/A" }, true), 'prefix "/A" (ignoring case)');
    assert.equal(describeStringMatch({ regex: "x" }, true), 'regex "x"');
  });

  it("startsWithIgnoreCase", () => {
    assert.equal(startsWithIgnoreCase("HeLLo", "hel"), true);
    assert.equal(startsWithIgnoreCase("He", "hel"), false);
    assert.equal(startsWithIgnoreCase("[ello", "{ello"), false);
  });
});

describe("regex compilation", () => {
  it("rejects invalid patterns with a stable code", () => {
    assert.throws(() => compileFullMatch("a("), { code: "ROUTER_BAD_REGEX" });
    assert.throws(() => compileGlobal("[z-a]"), { code: "ROUTER_BAD_REGEX" });
  });
  it("anchors alternations as one group", () => {
    const re = compileFullMatch("a|b");
    assert.equal(re.test("a"), true);
    assert.equal(re.test("ab"), false);
  });
  it("global regexes find every occurrence", () => {
    assert.equal("/a/a/a".replace(compileGlobal("a"), "b"), "/b/b/b");
  });
});
