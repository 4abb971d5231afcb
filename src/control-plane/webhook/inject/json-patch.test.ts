import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addToList, addToMap, pointerToken } from "./json-patch.ts";

describe("JSON Patch additions", () => {
  it("creates a missing or empty list, else inserts first (in order) or appends", () => {
    assert.deepEqual(addToList(undefined, "/spec/initContainers", [{ name: "a" }], "first"), [{ op: "add", path: "/spec/initContainers", value: [{ name: "a" }] }]);
    assert.deepEqual(addToList([], "/spec/volumes", [1, 2], "last"), [{ op: "add", path: "/spec/volumes", value: [1, 2] }]);
    assert.deepEqual(addToList([{ name: "x" }], "/spec/initContainers", ["a", "b"], "first"), [
      { op: "add", path: "/spec/initContainers/0", value: "a" },
      { op: "add", path: "/spec/initContainers/1", value: "b" },
    ]);
    assert.deepEqual(addToList([{ name: "x" }], "/spec/containers", ["a"], "last"), [{ op: "add", path: "/spec/containers/-", value: "a" }]);
    assert.deepEqual(addToList([{ name: "x" }], "/spec/containers", [], "last"), []);
  });

  it("creates a missing map, else adds each key with RFC 6901 escaping", () => {
    assert.deepEqual(addToMap(undefined, "/metadata/labels", { "a/b": "1" }), [{ op: "add", path: "/metadata/labels", value: { "a/b": "1" } }]);
    assert.deepEqual(addToMap({ x: "y" }, "/metadata/annotations", { "sidecar.istio.io/status": "{}", "a~b": "2" }), [
      { op: "add", path: "/metadata/annotations/sidecar.istio.io~1status", value: "{}" },
      { op: "add", path: "/metadata/annotations/a~0b", value: "2" },
    ]);
    assert.equal(pointerToken("~/"), "~0~1");
  });
});
