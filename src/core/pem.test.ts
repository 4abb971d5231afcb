import assert from "node:assert/strict";
import { test } from "node:test";
import { pem, pemBlocks, withCertificates } from "./pem.ts";

const a = pem("CERTIFICATE", new Uint8Array([1, 2, 3]));
const b = pem("CERTIFICATE", new Uint8Array([4, 5, 6]));
const key = pem("PRIVATE KEY", new Uint8Array([7]));

test("pemBlocks: the blocks of one kind, in order", () => {
  assert.deepEqual(pemBlocks(`${b}${key}${a}`), [b, a]);
  assert.deepEqual(pemBlocks(`${b}${key}${a}`, "PRIVATE KEY"), [key]);
  assert.deepEqual(pemBlocks("no pem here"), []);
});

test("withCertificates: the same roots keep the same string", () => {
  const file = `${a}`;
  assert.equal(withCertificates(file, a), file);
  assert.equal(withCertificates(`${a}${b}`, `${b}${a}`), `${a}${b}`);
});

test("withCertificates: roots not held are added after the first ones, once", () => {
  assert.equal(withCertificates(a, `${a}${b}`), `${a}${b}`);
  assert.equal(withCertificates(a, `${b}${b}`), `${a}${b}`);
  // A file whose last line has no newline still yields one block per certificate.
  const merged = withCertificates(a.trimEnd(), b);
  assert.deepEqual(pemBlocks(merged), [a, b]);
});
