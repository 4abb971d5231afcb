import { test } from "node:test";
import assert from "node:assert/strict";
import { requestHead } from "./request-headers.ts";

const PSEUDO = [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a"];

test("the header object inherits nothing: fields named like Object.prototype's are fields, others absent", () => {
  const h = requestHead([...PSEUDO, "constructor", "c", "__proto__", "p", "x-a", "1"], false) as Record<string, unknown>;
  assert.ok(h !== null);
  assert.deepEqual(Object.keys(h), [":method", ":scheme", ":path", ":authority", "constructor", "__proto__", "x-a"]);
  assert.equal(h["constructor"], "c");
  assert.equal(h["__proto__"], "p");
  for (const inherited of ["toString", "hasOwnProperty", "valueOf"]) {
    assert.equal(h[inherited], undefined);
    assert.equal(inherited in h, false);
  }
  assert.equal(JSON.stringify(h), '{":method":"GET",":scheme":"http",":path":"/",":authority":"a","constructor":"c","__proto__":"p","x-a":"1"}');
});

test("repeated fields as node:http2 keeps them: cookie crumbs joined, single-value fields once, others as arrays", () => {
  const h = requestHead([...PSEUDO, "cookie", "a=1", "cookie", "b=2", "user-agent", "u1", "user-agent", "u2", "x-m", "1", "x-m", "2"], false);
  assert.ok(h !== null);
  assert.equal(h["cookie"], "a=1; b=2");
  assert.equal(h["user-agent"], "u1");
  assert.deepEqual(h["x-m"], ["1", "2"]);
});

test("a block with many fields is still a header object (V8 turns it into a hash table)", () => {
  const list = [...PSEUDO];
  for (let i = 0; i < 300; i++) list.push(`x-${i}`, String(i));
  const h = requestHead(list, false);
  assert.ok(h !== null);
  assert.equal(Object.keys(h).length, 304);
  assert.equal(h["x-299"], "299");
});
