import assert from "node:assert/strict";
import { test } from "node:test";
import { jsonDiff } from "./json-diff.ts";

test("changes are field paths; named array items are matched by name", () => {
  const before = { listeners: [{ name: "a", port: 1 }, { name: "b", port: 2 }], clusters: [{ name: "c1", lb: "RR" }], weights: [90, 10] };
  const after = { listeners: [{ name: "x", port: 9 }, { name: "a", port: 1 }, { name: "b", port: 3 }], clusters: [], weights: [50, 50], extra: true };
  assert.deepEqual(jsonDiff(before, after), [
    { path: "clusters[0]", op: "removed", before: { name: "c1", lb: "RR" } },
    { path: "extra", op: "added", after: true },
    { path: 'listeners["x"]', op: "added", after: { name: "x", port: 9 } },
    { path: 'listeners["b"].port', op: "changed", before: 2, after: 3 },
    { path: "weights[0]", op: "changed", before: 90, after: 50 },
    { path: "weights[1]", op: "changed", before: 10, after: 50 },
  ]);
  assert.deepEqual(jsonDiff({ a: [1, { b: null }] }, { a: [1, { b: null }] }), []);
  assert.deepEqual(jsonDiff(null, { a: 1 }), [{ path: "", op: "changed", before: null, after: { a: 1 } }]);
});
