import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HashKey } from "../../model/proxy-config.ts";
import { xxhash32 } from "./balance/xxhash32.ts";
import { cookieValue, formatSetCookie, generatedCookieValue, hashKeyOf, queryParamValue, type HashRequestView } from "./hash-key.ts";

const req = (headers: Record<string, string>, path = "/"): HashRequestView => ({ header: (n) => headers[n], path });
const conn = { sourceIp: "10.0.0.7", remoteAddress: "10.0.0.7:51234", localAddress: "10.0.0.1:15001" };

describe("hashKeyOf", () => {
  it("no hash policy: undefined", () => {
    assert.equal(hashKeyOf(undefined, req({}), conn), undefined);
  });

  // [key, request, expected hashed value or undefined]
  const cases: [string, HashKey, HashRequestView, string | undefined][] = [
    ["header present", { header: "x-user" }, req({ "x-user": "alice" }), "alice"],
    ["header empty still hashes", { header: "x-user" }, req({ "x-user": "" }), ""],
    ["header absent", { header: "x-user" }, req({}), undefined],
    ["cookie", { cookie: { name: "sid" } }, req({ cookie: "a=1; sid=abc; b=2" }), "abc"],
    ["cookie absent, no ttl", { cookie: { name: "sid" } }, req({ cookie: "a=1" }), undefined],
    ["cookie header absent, no ttl", { cookie: { name: "sid" } }, req({}), undefined],
    ["source ip", { sourceIp: true }, req({}), "10.0.0.7"],
    ["query parameter", { queryParameter: "u" }, req({}, "/p?x=1&u=bob&u=eve"), "bob"],
    ["query parameter absent", { queryParameter: "u" }, req({}, "/p?x=1"), undefined],
  ];
  for (const [name, key, r, value] of cases) {
    it(name, () => {
      assert.equal(hashKeyOf(key, r, conn), value === undefined ? undefined : xxhash32(value));
    });
  }

  it("same key value, same hash, in any process (stable function of the value)", () => {
    const k: HashKey = { header: "x-user" };
    assert.equal(hashKeyOf(k, req({ "x-user": "alice" }), conn), hashKeyOf(k, req({ "x-user": "alice" }), { ...conn, sourceIp: "1.1.1.1" }));
  });

  describe("cookie with ttl, cookie absent: generate one", () => {
    const key: HashKey = { cookie: { name: "sid", path: "/app", ttlMs: 3_600_000 } };

    it("asks for Set-Cookie and hashes the generated value", () => {
      const set: string[] = [];
      const h = hashKeyOf(key, req({ cookie: "other=1" }), conn, (v) => set.push(v));
      const value = generatedCookieValue(conn.remoteAddress, conn.localAddress);
      assert.match(value, /^[0-9a-f]{16}$/);
      assert.equal(h, xxhash32(value));
      assert.deepEqual(set, [`sid="${value}"; Max-Age=3600; Path=/app; HttpOnly`]);
    });

    it("the same connection gets the same cookie; another connection another one", () => {
      const a = hashKeyOf(key, req({}), conn);
      assert.equal(hashKeyOf(key, req({}), conn), a);
      assert.notEqual(hashKeyOf(key, req({}), { ...conn, remoteAddress: "10.0.0.7:51235" }), a);
    });

    it("cookie present: no Set-Cookie, hash of its value", () => {
      const set: string[] = [];
      assert.equal(hashKeyOf(key, req({ cookie: 'sid="v1"' }), conn, (v) => set.push(v)), xxhash32("v1"));
      assert.deepEqual(set, []);
    });
  });
});

describe("cookieValue", () => {
  const cases: [string | undefined, string, string | undefined][] = [
    ["sid=abc", "sid", "abc"],
    ["a=1;sid=abc", "sid", "abc"],
    ["a=1;  sid = abc ; b=2", "sid", "abc"],
    ['sid="quoted"', "sid", "quoted"],
    ['sid="', "sid", '"'],
    ["xsid=1; sidx=2", "sid", undefined],
    ["sid=", "sid", ""],
    ["novalue; sid=z", "sid", "z"],
    ["a=b=c; sid=d=e", "sid", "d=e"],
    [undefined, "sid", undefined],
    ["", "sid", undefined],
  ];
  for (const [header, name, want] of cases) {
    it(`${JSON.stringify(header)} → ${JSON.stringify(want)}`, () => {
      assert.equal(cookieValue(header, name), want);
    });
  }
});

describe("queryParamValue", () => {
  const cases: [string, string, string | undefined][] = [
    ["/p?u=1", "u", "1"],
    ["/p?a=1&u=2&u=3", "u", "2"],
    ["/p?u", "u", ""],
    ["/p?u=&x=1", "u", ""],
    ["/p?uu=1&xu=2", "u", undefined],
    ["/p", "u", undefined],
    ["/p?x=1#u=2", "u", undefined],
    ["/p?u=a%20b", "u", "a%20b"],
  ];
  for (const [path, name, want] of cases) {
    it(`${path} ${name} → ${JSON.stringify(want)}`, () => {
      assert.equal(queryParamValue(path, name), want);
    });
  }
});

describe("formatSetCookie", () => {
  it("formats like Envoy's makeSetCookieValue", () => {
    assert.equal(formatSetCookie("s", "v", 10_000, "/"), 's="v"; Max-Age=10; Path=/; HttpOnly');
    assert.equal(formatSetCookie("s", "v", 0), 's="v"; HttpOnly');
    assert.equal(formatSetCookie("s", "v", 1500), 's="v"; Max-Age=1; HttpOnly');
  });
});
