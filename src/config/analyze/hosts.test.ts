import assert from "node:assert/strict";
import { test } from "node:test";
import { expandNamespaced, hostMatches, resolveHost, splitServiceHost, visibleFrom } from "./hosts.ts";

test("resolveHost: short names are relative to the namespace, the rest stands as written", () => {
  const cases: [string, string, string][] = [
    ["reviews", "default", "reviews.default.svc.cluster.local"],
    ["Reviews", "shop", "reviews.shop.svc.cluster.local"],
    ["reviews.default", "x", "reviews.default"],
    ["reviews.default.svc.cluster.local", "x", "reviews.default.svc.cluster.local"],
    ["*.foo.com", "x", "*.foo.com"],
    ["*", "x", "*"],
    ["10.0.0.1", "x", "10.0.0.1"],
  ];
  for (const [host, ns, want] of cases) assert.equal(resolveHost(host, ns), want, host);
  assert.equal(resolveHost("a", "b", "mesh.internal"), "a.b.svc.mesh.internal");
});

test("expandNamespaced: name.namespace only", () => {
  assert.equal(expandNamespaced("reviews.default"), "reviews.default.svc.cluster.local");
  assert.equal(expandNamespaced("reviews"), undefined);
  assert.equal(expandNamespaced("a.b.c"), undefined);
  assert.equal(expandNamespaced("*.foo"), undefined);
});

test("hostMatches: wildcards cover names under them, not the bare domain", () => {
  const cases: [string, string, boolean][] = [
    ["*.foo.com", "a.foo.com", true],
    ["*.foo.com", "a.b.foo.com", true],
    ["*.foo.com", "foo.com", false],
    ["*.foo.com", "afoo.com", false],
    ["*.foo.com", "*.bar.foo.com", true],
    ["*.bar.foo.com", "*.foo.com", false],
    ["*", "anything.at.all", true],
    ["a.foo.com", "a.foo.com", true],
    ["a.foo.com", "b.foo.com", false],
  ];
  for (const [p, h, want] of cases) assert.equal(hostMatches(p, h), want, `${p} ${h}`);
});

test("splitServiceHost and visibleFrom", () => {
  assert.deepEqual(splitServiceHost("reviews.default.svc.cluster.local"), { name: "reviews", namespace: "default" });
  assert.equal(splitServiceHost("www.example.com"), undefined);
  assert.equal(visibleFrom([], "a", "b"), true);
  assert.equal(visibleFrom(["."], "a", "a"), true);
  assert.equal(visibleFrom(["."], "a", "b"), false);
  assert.equal(visibleFrom(["b"], "a", "b"), true);
  assert.equal(visibleFrom(["~"], "a", "a"), false);
  assert.equal(visibleFrom(["*"], "a", "z"), true);
});
