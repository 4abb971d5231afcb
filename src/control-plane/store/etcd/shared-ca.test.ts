import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { it } from "node:test";
import { seal, SharedCaError, unseal } from "./shared-ca.ts";

it("seals with AES-256-GCM: opens with the same key and name only", () => {
  const key = randomBytes(32);
  const sealed = seal(key, "/amime/ca", "-----BEGIN PRIVATE KEY-----\nabc\n");
  assert.doesNotMatch(sealed, /PRIVATE KEY/);
  assert.equal(unseal(key, "/amime/ca", sealed), "-----BEGIN PRIVATE KEY-----\nabc\n");
  const refused = (e: unknown) => e instanceof SharedCaError && /cannot decrypt the CA root in etcd key/.test(e.message);
  assert.throws(() => unseal(randomBytes(32), "/amime/ca", sealed), refused, "another key");
  assert.throws(() => unseal(key, "/other/ca", sealed), refused, "moved to another key name");
  const tampered = JSON.parse(sealed) as { data: string };
  tampered.data = Buffer.from("x" + Buffer.from(tampered.data, "base64").toString("latin1"), "latin1").toString("base64");
  assert.throws(() => unseal(key, "/amime/ca", JSON.stringify({ ...JSON.parse(sealed), data: tampered.data })), refused, "changed data");
});
