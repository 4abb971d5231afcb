import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withoutSecure } from "./forwarder.ts";

describe("withoutSecure", () => {
  it("drops the Secure attribute and keeps the others", () => {
    assert.equal(withoutSecure("amime_session=abc; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=60"), "amime_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60");
    assert.equal(withoutSecure("a=b;secure"), "a=b");
    assert.equal(withoutSecure("a=b; SECURE ; HttpOnly"), "a=b; HttpOnly");
  });
  it("leaves a value or another attribute that merely contains the word", () => {
    assert.equal(withoutSecure("secure=1; Path=/secure"), "secure=1; Path=/secure");
    assert.equal(withoutSecure("a=b; HttpOnly"), "a=b; HttpOnly");
  });
});
