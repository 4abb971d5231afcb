import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileHeaderNames } from "../http1/index.ts";
import { HeaderEdits, unionNames } from "./header-edits.ts";

const bytes = (s: string): Buffer => Buffer.from(s, "latin1");
const matches = (set: ReturnType<typeof compileHeaderNames>, name: string): boolean => set.matches(bytes(name), 0, name.length);

describe("HeaderEdits drop sets", () => {
  it("drops set and removed names, case-insensitively", () => {
    const e = new HeaderEdits();
    e.remove("Authorization");
    e.put("X-Jwt-Payload", "e30");
    const d = e.dropNames();
    assert.equal(matches(d, "authorization"), true);
    assert.equal(matches(d, "X-JWT-PAYLOAD"), true);
    assert.equal(matches(d, "host"), false);
    assert.equal(d.has("x-jwt-payload"), true);
  });

  it("requests removing the same one name share one compiled set; other edits get their own", () => {
    const a = new HeaderEdits();
    a.remove("authorization");
    const b = new HeaderEdits();
    b.remove("authorization");
    assert.equal(a.dropNames(), b.dropNames());
    const c = new HeaderEdits();
    c.remove("authorization");
    c.put("x-user", "jason");
    assert.notEqual(c.dropNames(), a.dropNames());
    assert.equal(matches(c.dropNames(), "x-user"), true);
    assert.equal(matches(a.dropNames(), "x-user"), false);
  });

  it("a later edit changes the set", () => {
    const e = new HeaderEdits();
    e.remove("authorization");
    const before = e.dropNames();
    e.put("x-user", "jason");
    assert.notEqual(e.dropNames(), before);
    assert.equal(matches(e.dropNames(), "x-user"), true);
  });
});

describe("unionNames", () => {
  const a = compileHeaderNames(["x-forwarded-for"]);
  const b = compileHeaderNames(["authorization"]);
  it("matches a name of either set", () => {
    const u = unionNames(a, b);
    assert.equal(matches(u, "X-Forwarded-For"), true);
    assert.equal(matches(u, "authorization"), true);
    assert.equal(matches(u, "host"), false);
    assert.equal(u.has("authorization"), true);
    assert.equal(u.has("host"), false);
  });
  it("the same pair asked again gets the same object", () => {
    const u = unionNames(a, b);
    assert.equal(unionNames(a, b), u);
    const v = unionNames(b, a);
    assert.notEqual(v, u);
    assert.equal(matches(v, "authorization"), true);
    assert.equal(matches(v, "x-forwarded-for"), true);
  });
});
