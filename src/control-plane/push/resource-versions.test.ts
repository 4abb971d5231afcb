import assert from "node:assert/strict";
import { it } from "node:test";
import { resourceVersion, sameResource } from "./resource-versions.ts";

it("equal content is the same resource whatever the object; fields left undefined do not count", () => {
  assert.equal(sameResource({ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1, d: undefined }), true);
  assert.equal(sameResource({ a: 1 }, { a: 2 }), false);
  assert.equal(sameResource({ a: [1, 2] }, { a: [1, 2, 3] }), false);
  assert.equal(sameResource({ a: {} }, { a: [] }), false);
  assert.equal(sameResource({ a: 1 }, { a: 1, b: null }), false, "null is a value in JSON");
  assert.equal(sameResource("fp", "fp"), true);
  assert.equal(sameResource("fp", "fp2"), false);
});

it("an object found equal shares the other's version (computed once, lazily); a changed one gets a new version", () => {
  const old = { name: "c", timeoutMs: 1 };
  const v = resourceVersion(old);
  assert.equal(v.json, JSON.stringify(old));
  assert.match(v.version, /^[\w-]{16}$/);
  const copy = { name: "c", timeoutMs: 1 };
  assert.equal(sameResource(old, copy), true);
  assert.deepEqual(resourceVersion(copy), v);
  const changed = { name: "c", timeoutMs: 2 };
  assert.equal(sameResource(old, changed), false);
  assert.equal(sameResource(old, changed), false, "asked again (the next proxy of the class): still different");
  assert.notEqual(resourceVersion(changed).version, v.version);
  const later = { name: "c", timeoutMs: 1 };
  assert.equal(sameResource(later, { ...later }), true, "neither side hashed yet: compared by content");
  assert.deepEqual(resourceVersion(later), v, "same content, same version");
});
