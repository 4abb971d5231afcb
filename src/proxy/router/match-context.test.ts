import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseQueryInto, pathWithoutQuery } from "./match-context.ts";

function parse(path: string): Record<string, string> {
  const m = new Map<string, string>();
  parseQueryInto(path, m);
  return Object.fromEntries(m);
}

describe("query parsing", () => {
  const cases: [string, Record<string, string>][] = [
    ["/p", {}],
    ["/p?", {}],
    ["/p?a=1", { a: "1" }],
    ["/p?a=1&b=2", { a: "1", b: "2" }],
    ["/p?a", { a: "" }],
    ["/p?a=", { a: "" }],
    ["/p?a=1&a=2", { a: "1" }],
    ["/p?&&a=1&", { a: "1" }],
    ["/p?a=x=y", { a: "x=y" }],
    ["/p?q=a%20b+c", { q: "a%20b+c" }],
    ["/p?a=1#frag&b=2", { a: "1" }],
    ["/p?=v&k", { "": "v", k: "" }],
  ];
  for (const [path, expected] of cases) it(path, () => assert.deepEqual(parse(path), expected));

  it("pathWithoutQuery", () => {
    assert.equal(pathWithoutQuery("/a?b?c"), "/a");
    assert.equal(pathWithoutQuery("/a"), "/a");
  });
});
