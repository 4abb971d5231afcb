import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { compileRe2, re2Error, regexFieldError, translateRe2 } from "./regex.ts";

test("RE2 constructs JS has but RE2 lacks are rejected", () => {
  for (const bad of ["(a)\\1", "a(?=b)", "a(?!b)", "(?<=a)b", "(?<!a)b", "(?>ab)", "a*+", "a++", "a?+", "a{2}+", "\\Z", "(?P=n)", "\\k<n>", "a**"]) {
    assert.notEqual(re2Error(bad), null, bad);
  }
});

test("RE2 syntax that JS lacks is translated", () => {
  const cases: [string, string, boolean][] = [
    ["(?i)abc", "ABC", true],
    ["(?P<v>v[0-9]+)", "v12", true],
    ["[[:digit:]]+", "123", true],
    ["[[:digit:]]+", "12a", false],
    ["\\Qa.b\\E", "a.b", true],
    ["\\Qa.b\\E", "axb", false],
    ["a\\:b", "a:b", true],
    ["a{", "a{", true],
    ["\\pL+", "héllo", true],
    ["\\x{41}", "A", true],
    ["\\Aab\\z", "ab", true],
    ["/api/v[12]/.*", "/api/v1/x", true],
    ["(?i:a)b", "Ab", true],
    ["(?i:a)b", "AB", false],
  ];
  for (const [re, input, want] of cases) assert.equal(compileRe2(re).test(input), want, `${re} on ${input}`);
});

test("whole-value match and error texts", () => {
  assert.equal(compileRe2("ab").test("xaby"), false);
  assert.equal(compileRe2("ab", { wholeValue: false }).test("xaby"), true);
  assert.match(regexFieldError("[", "uri") ?? "", /^"uri": error parsing regexp: .*; Istio uses RE2 style regex-based match/);
  assert.equal(regexFieldError("a".repeat(1025), "uri"), '"uri": regex is too large, max length allowed is 1024');
  assert.equal(regexFieldError("^/v[0-9]+$", "uri"), null);
  assert.deepEqual(translateRe2("(?is)x"), { source: "x", flags: "is" });
});

test("translation never throws anything but Re2SyntaxError, and never crashes on arbitrary text", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), (s) => {
      const err = re2Error(s);
      if (err === null) compileRe2(s); // must compile when declared valid
      return true;
    }),
    { numRuns: 2000 },
  );
});
