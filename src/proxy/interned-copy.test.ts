import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { internedCopy, internInPlace } from "./interned-copy.ts";

describe("internedCopy", () => {
  it("copies plain data deeply: equal to the input, sharing no object or array with it", () => {
    const input = { a: [1, "x", { b: null, c: true }], d: { e: "y", f: undefined }, g: 2.5 };
    const out = internedCopy(input);
    assert.deepEqual(out, input);
    assert.notEqual(out, input);
    assert.notEqual(out.a, input.a);
    assert.notEqual(out.a[2], input.a[2]);
    assert.ok("f" in out.d);
    out.d.e = "changed";
    assert.equal(input.d.e, "y");
  });

  it("keeps a parsed '__proto__' key as an own property, never as the prototype", () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "k": 1}') as Record<string, unknown>;
    const out = internedCopy(input);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out), ["__proto__", "k"]);
    assert.equal((out as { polluted?: boolean }).polluted, undefined);
  });

  it("clones what is not plain data as structuredClone does", () => {
    const input = { m: new Map([["k", 1]]), when: new Date(0) };
    const out = internedCopy(input);
    assert.deepEqual(out, input);
    assert.notEqual(out.m, input.m);
  });

  it("makes equal strings one string: a heap snapshot of the copy holds each value once", () => {
    const input = manyModes();
    const out = internedCopy(input);
    // Only the copy stays reachable.
    input.length = 0;
    const copies = stringsInHeap("ISTIO_MUTUAL");
    // The copy's one and this test's literal; structuredClone would leave 200.
    assert.ok(copies >= 1 && copies <= 2, `${copies} strings "ISTIO_MUTUAL" in the heap`);
    assert.equal(out.length, 200);
  });
});

describe("internInPlace", () => {
  it("makes equal strings of the value itself one string, and returns the value", () => {
    const input = manyModes();
    const before = JSON.stringify(input);
    const out = internInPlace(input);
    assert.equal(out, input);
    assert.equal(JSON.stringify(out), before);
    const copies = stringsInHeap("ISTIO_MUTUAL");
    assert.ok(copies >= 1 && copies <= 2, `${copies} strings "ISTIO_MUTUAL" in the heap`);
  });

  it("leaves the shape of the value and its other values as they were", () => {
    const name = (): string => ["c", "1"].join("");
    const input = { a: [name(), 1, null, { b: name(), c: [name()] }], d: true, e: name() };
    internInPlace(input);
    assert.deepEqual(input, { a: ["c1", 1, null, { b: "c1", c: ["c1"] }], d: true, e: "c1" });
  });
});

/** 200 entries whose strings were built at run time, so that no two are the same string. */
function manyModes(): { tls: { mode: string }; name: string }[] {
  const mode = (): string => ["ISTIO", "MUTUAL"].join("_");
  return JSON.parse(JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ tls: { mode: mode() }, name: `c${i % 10}` })))) as { tls: { mode: string }; name: string }[];
}

/** How many string objects equal to `value` a heap snapshot of this process holds. */
function stringsInHeap(value: string): number {
  const dir = mkdtempSync(join(tmpdir(), "amime-intern-"));
  try {
    const file = writeHeapSnapshot(join(dir, "h.heapsnapshot"));
    const snap = JSON.parse(readFileSync(file, "utf8")) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
    const fields = snap.snapshot.meta.node_fields;
    const [typeAt, nameAt] = [fields.indexOf("type"), fields.indexOf("name")];
    const stringType = snap.snapshot.meta.node_types[0].indexOf("string");
    let copies = 0;
    for (let i = 0; i < snap.nodes.length; i += fields.length) if (snap.nodes[i + typeAt] === stringType && snap.strings[snap.nodes[i + nameAt]!] === value) copies++;
    return copies;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
