import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serviceDomains } from "./fixtures.ts";
import { VirtualHostIndex, stripPort } from "./virtual-host-index.ts";

const index = new VirtualHostIndex([
  { domains: serviceDomains("reviews", "default", 9080), value: "reviews" },
  { domains: ["ratings.default.svc.cluster.local:9080", "ratings:9080"], value: "ratings" },
  { domains: ["Mixed.Example.COM"], value: "mixed" },
  { domains: ["*.example.com"], value: "star-example" },
  { domains: ["*.api.example.com"], value: "star-api-example" },
  { domains: ["*.example.com:8443"], value: "star-example-8443" },
  { domains: ["*-bar.other.org"], value: "dash-bar" },
  { domains: ["internal.*"], value: "internal-prefix" },
  { domains: ["internal.corp.*"], value: "internal-corp-prefix" },
  { domains: ["[::1]", "10.0.0.7:80"], value: "ip" },
  { domains: ["*"], value: "any" },
]);

describe("VirtualHostIndex", () => {
  const cases: [authority: string, expected: string, kind: string][] = [
    ["reviews", "reviews", "exact"],
    ["reviews:9080", "reviews", "exact"],
    ["reviews.default", "reviews", "exact"],
    ["reviews.default:9080", "reviews", "exact"],
    ["reviews.default.svc", "reviews", "exact"],
    ["reviews.default.svc.cluster.local", "reviews", "exact"],
    ["reviews.default.svc.cluster.local:9080", "reviews", "exact"],
    ["REVIEWS.Default.svc.cluster.local:9080", "reviews", "exact"],
    // domains without port match an authority with any port
    ["reviews:1234", "reviews", "exact-without-port"],
    // domains with only a port form do not match other ports or no port
    ["ratings:9080", "ratings", "exact"],
    ["ratings", "any", "any"],
    ["ratings:9081", "any", "any"],
    ["mixed.example.com", "mixed", "exact"],
    ["mixed.example.com:80", "mixed", "exact-without-port"],
    // longest suffix wildcard wins
    ["a.example.com", "star-example", "suffix"],
    ["a.api.example.com", "star-api-example", "suffix"],
    ["x.y.api.example.com", "star-api-example", "suffix"],
    ["a.example.com:8443", "star-example-8443", "suffix"],
    // the authority with its port is tried first, so a port-qualified wildcard beats a longer bare one
    ["a.api.example.com:8443", "star-example-8443", "suffix"],
    ["a.example.com:80", "star-example", "suffix-without-port"],
    // a wildcard stands for at least one character
    [".example.com", "any", "any"],
    ["example.com", "any", "any"],
    ["foo-bar.other.org", "dash-bar", "suffix"],
    ["-bar.other.org", "any", "any"],
    // prefix wildcards, longest first, after suffixes
    ["internal.svc", "internal-prefix", "prefix"],
    ["internal.corp.x", "internal-corp-prefix", "prefix"],
    ["internal.corp.x:99", "internal-corp-prefix", "prefix"],
    ["internal.example.com", "star-example", "suffix"],
    ["[::1]", "ip", "exact"],
    ["[::1]:9080", "ip", "exact-without-port"],
    ["10.0.0.7:80", "ip", "exact"],
    ["10.0.0.7", "any", "any"],
    ["", "any", "any"],
  ];
  for (const [authority, expected, kind] of cases) {
    it(`${JSON.stringify(authority)} → ${expected} (${kind})`, () => {
      assert.equal(index.find(authority), expected);
      // twice: the second answer comes from the cache
      assert.equal(index.find(authority), expected);
      const d = index.findDetailed(authority);
      assert.equal(d?.value, expected);
      assert.equal(d?.kind, kind);
    });
  }

  it("returns undefined without a * virtual host", () => {
    const noAny = new VirtualHostIndex([{ domains: ["reviews"], value: 1 }]);
    assert.equal(noAny.find("ratings"), undefined);
    assert.equal(noAny.find("ratings"), undefined);
    assert.equal(noAny.find("reviews:80"), 1);
  });

  it("rejects a domain listed twice (case-insensitively), as Envoy does", () => {
    assert.throws(
      () => new VirtualHostIndex([
        { domains: ["a.com"], value: 1 },
        { domains: ["A.com"], value: 2 },
      ]),
      { code: "ROUTER_BAD_MATCH" },
    );
  });

  it("keeps working past the cache limit", () => {
    for (let i = 0; i < 3000; i++) assert.equal(index.find(`h${i}.example.com`), "star-example");
    assert.equal(index.find("reviews"), "reviews");
  });
});

describe("stripPort", () => {
  const cases: [string, string][] = [
    ["a:80", "a"],
    ["a", "a"],
    ["a:", "a:"],
    ["a:x", "a:x"],
    ["[::1]:80", "[::1]"],
    ["[::1]", "[::1]"],
    ["::1", "::1"],
    ["1.2.3.4:5", "1.2.3.4"],
  ];
  for (const [input, out] of cases) it(`${input} → ${out}`, () => assert.equal(stripPort(input), out));
});
