import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { JsonObject } from "../../model/resource.ts";
import { covers, isCatchAll } from "./match-cover.ts";

const cases: { a: JsonObject; b: JsonObject; covers: boolean }[] = [
  { a: { uri: { prefix: "/" } }, b: { uri: { exact: "/x" }, method: { exact: "GET" } }, covers: true },
  { a: { uri: { prefix: "/api" } }, b: { uri: { prefix: "/api/v1" } }, covers: true },
  { a: { uri: { prefix: "/api" } }, b: { uri: { exact: "/api" } }, covers: true },
  { a: { uri: { prefix: "/api/v1" } }, b: { uri: { prefix: "/api" } }, covers: false },
  { a: { uri: { exact: "/a" } }, b: { uri: { exact: "/a" } }, covers: true },
  { a: { uri: { exact: "/a" } }, b: { uri: { prefix: "/a" } }, covers: false },
  { a: { uri: { regex: "/a.*" } }, b: { uri: { prefix: "/a" } }, covers: false },
  { a: { uri: { regex: "/a.*" } }, b: { uri: { regex: "/a.*" } }, covers: true },
  { a: { uri: { prefix: "/a" } }, b: { uri: { prefix: "/a" }, ignoreUriCase: true }, covers: false },
  { a: { uri: { prefix: "/A" }, ignoreUriCase: true }, b: { uri: { prefix: "/a/b" } }, covers: true },
  { a: { headers: { "end-user": { exact: "jason" } } }, b: { headers: { "end-user": { exact: "jason" } }, uri: { prefix: "/" } }, covers: true },
  { a: { headers: { "end-user": { exact: "jason" } } }, b: { headers: { "end-user": { exact: "bob" } } }, covers: false },
  { a: { headers: { "end-user": {} } }, b: { headers: { "end-user": { exact: "bob" } } }, covers: true },
  { a: { headers: { "end-user": { exact: "jason" } } }, b: { uri: { prefix: "/" } }, covers: false },
  { a: { sourceLabels: { app: "x" } }, b: { sourceLabels: { app: "x", version: "v1" } }, covers: true },
  { a: { sourceLabels: { app: "x", version: "v1" } }, b: { sourceLabels: { app: "x" } }, covers: false },
  { a: { port: 80 }, b: { port: 80, uri: { prefix: "/x" } }, covers: true },
  { a: { port: 80 }, b: { port: 81 }, covers: false },
  { a: { withoutHeaders: { x: { exact: "1" } } }, b: { uri: { prefix: "/" } }, covers: false },
  { a: { name: "first", uri: { prefix: "/x" } }, b: { name: "second", uri: { prefix: "/x" } }, covers: true },
  { a: {}, b: { uri: { prefix: "/x" } }, covers: true },
];

for (const c of cases) {
  test(`covers(${JSON.stringify(c.a)}, ${JSON.stringify(c.b)}) = ${c.covers}`, () => {
    assert.equal(covers(c.a, c.b), c.covers);
  });
}

test("catch-all matches", () => {
  assert.equal(isCatchAll({ uri: { prefix: "/" } }), true);
  assert.equal(isCatchAll({ uri: { regex: ".*" }, name: "all" }), true);
  assert.equal(isCatchAll({}), true);
  assert.equal(isCatchAll({ uri: { prefix: "/api" } }), false);
  assert.equal(isCatchAll({ uri: { prefix: "/" }, method: { exact: "GET" } }), false);
});

const stringMatch = fc.oneof(
  fc.record({ exact: fc.stringMatching(/^\/[a-c/]{0,4}$/) }),
  fc.record({ prefix: fc.stringMatching(/^\/[a-c/]{0,4}$/) }),
);
const match = fc.record({ uri: stringMatch, port: fc.constantFrom(80, 81) }, { requiredKeys: [] });

test("property: every match covers itself, and a catch-all covers every match", () => {
  fc.assert(fc.property(match, (m) => covers(m as JsonObject, m as JsonObject) && covers({ uri: { prefix: "/" } }, m as JsonObject)));
});

test("property: a match that adds a condition never covers the one without it", () => {
  fc.assert(fc.property(match, (m) => covers({ ...m, method: { exact: "GET" } } as JsonObject, m as JsonObject) === false));
});

test("property: covering is transitive", () => {
  fc.assert(fc.property(match, match, match, (a, b, c) => {
    const [x, y, z] = [a, b, c] as JsonObject[] as [JsonObject, JsonObject, JsonObject];
    return !(covers(x, y) && covers(y, z)) || covers(x, z);
  }));
});
