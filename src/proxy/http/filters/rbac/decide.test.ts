import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { AuthzRule, RbacPolicy } from "../../../../model/proxy-config.ts";
import { compileRbac, decide, decideShadow, audited, auditedLike } from "./decide.ts";
import { compileRule, ipMatcher, ruleMatches, type AuthzAttributes } from "./matcher.ts";
import { remoteIp } from "./rbac-filter.ts";

const base: AuthzAttributes = {
  method: "GET",
  path: "/api/v1/items",
  authority: "Bookinfo.Example:8000",
  header: (n) => ({ "x-user": "jason", "x-tags": "a,b" } as Record<string, string>)[n],
  sourceIp: "10.1.2.3",
  remoteIp: "203.0.113.9",
  destinationIp: "10.0.0.5",
  destinationPort: 9080,
  principal: "cluster.local/ns/default/sa/productpage",
  sni: "",
  jwts: [{ principal: "testing@secure.istio.io/testing@secure.istio.io", payload: { aud: ["bookinfo"], azp: "web", groups: ["group1", "group2"], nested: { key: { deep: "v" } }, scope: "read" } }],
};
const plain: AuthzAttributes = { ...base, principal: "", jwts: null };

const match = (rule: AuthzRule, a: AuthzAttributes = base, ns = "default", action = "ALLOW"): boolean => ruleMatches(compileRule(rule, ns, action), a);
const src = (source: object): AuthzRule => ({ from: [{ source }] });
const op = (operation: object): AuthzRule => ({ to: [{ operation }] });
const when = (key: string, values?: string[], notValues?: string[]): AuthzRule => ({ when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }] });

describe("rbac matcher: every field (table)", () => {
  const rows: [string, AuthzRule, boolean, AuthzAttributes?][] = [
    ["empty rule matches all", {}, true],
    ["principals exact", src({ principals: ["cluster.local/ns/default/sa/productpage"] }), true],
    ["principals prefix", src({ principals: ["cluster.local/ns/default/*"] }), true],
    ["principals suffix", src({ principals: ["*/sa/productpage"] }), true],
    ["principals *", src({ principals: ["*"] }), true],
    ["principals * without mTLS", src({ principals: ["*"] }), false, plain],
    ["notPrincipals", src({ notPrincipals: ["*/sa/productpage"] }), false],
    ["requestPrincipals exact", src({ requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"] }), true],
    ["requestPrincipals *", src({ requestPrincipals: ["*"] }), true],
    ["requestPrincipals * without a token", src({ requestPrincipals: ["*"] }), false, plain],
    ["requestPrincipals prefix", src({ requestPrincipals: ["testing@secure.istio.io/*"] }), true],
    ["requestPrincipals suffix miss", src({ requestPrincipals: ["*/someone"] }), false],
    ["notRequestPrincipals * without a token", src({ notRequestPrincipals: ["*"] }), true, plain],
    ["namespaces", src({ namespaces: ["default"] }), true],
    ["namespaces miss", src({ namespaces: ["foo"] }), false],
    ["notNamespaces", src({ notNamespaces: ["default"] }), false],
    ["serviceAccounts short", src({ serviceAccounts: ["productpage"] }), true],
    ["serviceAccounts ns/sa other ns", src({ serviceAccounts: ["foo/productpage"] }), false],
    ["trustDomains", src({ trustDomains: ["cluster.local"] }), true],
    ["ipBlocks CIDR", src({ ipBlocks: ["10.1.0.0/16"] }), true],
    ["ipBlocks single miss", src({ ipBlocks: ["10.1.2.4"] }), false],
    ["notIpBlocks", src({ notIpBlocks: ["10.0.0.0/8"] }), false],
    ["remoteIpBlocks", src({ remoteIpBlocks: ["203.0.113.0/24"] }), true],
    ["notRemoteIpBlocks", src({ notRemoteIpBlocks: ["203.0.113.9"] }), false],
    ["fields within a source AND", src({ namespaces: ["default"], ipBlocks: ["192.168.0.0/16"] }), false],
    ["sources OR", { from: [{ source: { namespaces: ["foo"] } }, { source: { ipBlocks: ["10.1.2.3"] } }] }, true],
    ["hosts case-insensitive exact", op({ hosts: ["bookinfo.example:8000"] }), true],
    ["hosts without the port do not match host:port (Istio)", op({ hosts: ["bookinfo.example"] }), false],
    ["hosts prefix", op({ hosts: ["bookinfo.*"] }), true],
    ["notHosts", op({ notHosts: ["*.example:8000"] }), false],
    ["ports", op({ ports: ["9080"] }), true],
    ["notPorts", op({ notPorts: ["9080"] }), false],
    ["methods", op({ methods: ["GET", "HEAD"] }), true],
    ["methods miss", op({ methods: ["POST"] }), false],
    ["notMethods", op({ notMethods: ["POST"] }), true],
    ["paths exact", op({ paths: ["/api/v1/items"] }), true],
    ["paths prefix /a/*", op({ paths: ["/api/*"] }), true],
    ["paths suffix */b", op({ paths: ["*/items"] }), true],
    ["paths presence *", op({ paths: ["*"] }), true],
    ["paths {*} template", op({ paths: ["/api/{*}/items"] }), true],
    ["paths {**} template", op({ paths: ["/{**}/items"] }), true],
    ["notPaths", op({ notPaths: ["/api/*"] }), false],
    ["operations OR", { to: [{ operation: { methods: ["POST"] } }, { operation: { paths: ["/api/*"] } }] }, true],
    ["from AND to", { from: [{ source: { namespaces: ["default"] } }], to: [{ operation: { methods: ["POST"] } }] }, false],
    ["when request.headers", when("request.headers[x-user]", ["jason"]), true],
    ["when request.headers notValues", when("request.headers[x-user]", undefined, ["jason"]), false],
    ["when request.headers absent", when("request.headers[x-none]", ["*"]), false],
    ["when source.ip", when("source.ip", ["10.1.2.0/24"]), true],
    ["when remote.ip", when("remote.ip", ["203.0.113.9"]), true],
    ["when source.namespace", when("source.namespace", ["default"]), true],
    ["when source.principal", when("source.principal", ["cluster.local/ns/default/sa/productpage"]), true],
    ["when source.serviceAccount", when("source.serviceAccount", ["default/productpage"]), true],
    ["when request.auth.principal", when("request.auth.principal", ["testing@secure.istio.io/*"]), true],
    ["when request.auth.audiences", when("request.auth.audiences", ["bookinfo"]), true],
    ["when request.auth.presenter", when("request.auth.presenter", ["web"]), true],
    ["when request.auth.claims[groups] (list)", when("request.auth.claims[groups]", ["group2"]), true],
    ["when request.auth.claims[nested][key][deep]", when("request.auth.claims[nested][key][deep]", ["v"]), true],
    ["when claims without a token", when("request.auth.claims[groups]", ["group1"]), false, plain],
    ["when destination.ip", when("destination.ip", ["10.0.0.5"]), true],
    ["when destination.port", when("destination.port", ["9080"]), true],
    ["when connection.sni (plaintext)", when("connection.sni", ["*"]), false],
    ["when values AND notValues", { when: [{ key: "request.headers[x-user]", values: ["*"], notValues: ["jason"] }] }, false],
    ["when conditions AND", { when: [{ key: "source.ip", values: ["10.1.2.3"] }, { key: "destination.port", values: ["1"] }] }, false],
  ];
  for (const [name, rule, want, attrs] of rows) it(name, () => assert.equal(match(rule, attrs ?? base), want));

  it("an unsupported when key never matches in ALLOW, always in DENY (fail closed)", () => {
    const r = when("experimental.envoy.filters.network.mysql_proxy[db.table]", ["[x]"]);
    assert.equal(match(r, base, "default", "ALLOW"), false);
    assert.equal(match(r, base, "default", "DENY"), true);
  });
  it("a bad CIDR is an error naming the value", () => {
    assert.throws(() => compileRule(src({ ipBlocks: ["10.0.0.0/99"] })), /bad IP or CIDR "10\.0\.0\.0\/99"/);
  });
  it("ipMatcher answers alternating and repeated addresses alike (it remembers the last one)", () => {
    const m = ipMatcher(["10.1.0.0/16", "fd00::/8"]);
    const seq: [string, boolean][] = [["10.1.2.3", true], ["10.1.2.3", true], ["10.2.0.1", false], ["10.1.9.9", true], ["::ffff:10.1.0.1", true], ["fd00::1", true], ["fe80::1", false], ["fe80::1", false], ["", false], ["not-an-ip", false], ["10.1.0.0", true]];
    for (const [ip, want] of seq) assert.equal(m(ip), want, ip);
  });
});

const policy = (name: string, action: RbacPolicy["action"], rules: AuthzRule[], dryRun = false): RbacPolicy => ({ name, namespace: "default", action, rules, dryRun });
const decideWith = (policies: RbacPolicy[], a: AuthzAttributes = base): ReturnType<typeof decide> => decide(compileRbac({ policies, useRemoteAddress: false, trustedHops: 0 }), a);

describe("rbac decision order (Istio)", () => {
  const allowGet: AuthzRule = op({ methods: ["GET"] });
  const denyApi: AuthzRule = op({ paths: ["/api/*"] });
  it("no ALLOW policy: allow", () => assert.equal(decideWith([]).allowed, true));
  it("spec: {} (ALLOW without rules) denies all", () => assert.deepEqual(decideWith([policy("p", "ALLOW", [])]), { allowed: false, policy: "none", rule: -1 }));
  it("ALLOW with an empty rule allows all", () => assert.equal(decideWith([policy("p", "ALLOW", [{}])]).allowed, true));
  it("ALLOW policies and none matching: deny", () => assert.equal(decideWith([policy("p", "ALLOW", [op({ methods: ["POST"] })])]).allowed, false));
  it("DENY beats ALLOW and names the policy and rule", () => {
    assert.deepEqual(decideWith([policy("a", "ALLOW", [allowGet]), policy("d", "DENY", [op({ methods: ["POST"] }), denyApi])]), { allowed: false, policy: "d", rule: 1 });
  });
  it("a matching ALLOW names itself", () => assert.deepEqual(decideWith([policy("a", "ALLOW", [op({ methods: ["PUT"] }), allowGet])]), { allowed: true, policy: "a", rule: 1 }));
  it("AUDIT never changes the decision; it is reported", () => {
    const c = compileRbac({ policies: [policy("audit", "AUDIT", [{}]), policy("a", "ALLOW", [op({ methods: ["POST"] })])], useRemoteAddress: false, trustedHops: 0 });
    assert.equal(decide(c, base).allowed, false);
    assert.deepEqual(audited(c, base), ["audit"]);
  });
  it("auditedLike: the earlier list when the same AUDIT policies match, a new one when they differ", () => {
    const c = compileRbac({ policies: [policy("get", "AUDIT", [op({ methods: ["GET"] })]), policy("api", "AUDIT", [op({ paths: ["/api/*"] })]), policy("post", "AUDIT", [op({ methods: ["POST"] })])], useRemoteAddress: false, trustedHops: 0 });
    const first = auditedLike(c, base, undefined);
    assert.deepEqual(first, ["get", "api"]);
    assert.equal(auditedLike(c, base, first), first);
    const post = { ...base, method: "POST" };
    assert.deepEqual(auditedLike(c, post, first), ["api", "post"]);
    assert.deepEqual(auditedLike(c, { ...base, path: "/other" }, first), ["get"]);
    assert.deepEqual(auditedLike(c, { ...post, path: "/other" }, first), ["post"]);
    const none = auditedLike(c, { ...base, method: "PUT", path: "/x" }, first);
    assert.deepEqual(none, []);
    assert.equal(auditedLike(c, { ...base, method: "PUT", path: "/x" }, undefined), none);
    assert.deepEqual(audited(c, base), ["get", "api"]);
  });
  it("dry-run policies are evaluated into the shadow result only", () => {
    const c = compileRbac({ policies: [policy("deny-all", "DENY", [{}], true)], useRemoteAddress: false, trustedHops: 0 });
    assert.equal(decide(c, base).allowed, true);
    assert.deepEqual(decideShadow(c, base), { allowed: false, policy: "deny-all", rule: 0 });
  });
});

describe("remote.ip from X-Forwarded-For", () => {
  it("sidecar: the last entry, or the (N+1)th from the right; none: the peer", () => {
    assert.equal(remoteIp("10.0.0.1", undefined, false, 0), "10.0.0.1");
    assert.equal(remoteIp("10.0.0.1", "1.1.1.1, 2.2.2.2", false, 0), "2.2.2.2");
    assert.equal(remoteIp("10.0.0.1", "1.1.1.1, 2.2.2.2", false, 1), "1.1.1.1");
  });
  it("gateway: the peer with no trusted hops, else the Nth from the right", () => {
    assert.equal(remoteIp("10.0.0.1", "1.1.1.1, 2.2.2.2", true, 0), "10.0.0.1");
    assert.equal(remoteIp("10.0.0.1", "1.1.1.1, 2.2.2.2", true, 1), "2.2.2.2");
    assert.equal(remoteIp("10.0.0.1", "1.1.1.1", true, 3), "10.0.0.1");
  });
});

describe("rbac fuzz", () => {
  const str = fc.oneof(fc.constantFrom("*", "", "/a/*", "*/b", "GET", "10.0.0.0/8", "::1/128", "x*", "{*}", "/{**}"), fc.string({ maxLength: 8 }));
  const list = fc.option(fc.array(str, { maxLength: 3 }), { nil: undefined });
  const source = fc.record({ principals: list, notPrincipals: list, requestPrincipals: list, namespaces: list, ipBlocks: list, remoteIpBlocks: list, serviceAccounts: list, trustDomains: list }, { requiredKeys: [] });
  const operation = fc.record({ hosts: list, ports: list, methods: list, paths: list, notPaths: list }, { requiredKeys: [] });
  const cond = fc.record({ key: fc.oneof(fc.constantFrom("source.ip", "request.headers[x-user]", "request.auth.claims[a][b]", "connection.sni", "destination.port", "remote.ip", "experimental.x"), fc.string({ maxLength: 10 })), values: list, notValues: list }, { requiredKeys: ["key"] });
  const rule = fc.record({ from: fc.option(fc.array(fc.record({ source }), { maxLength: 2 }), { nil: undefined }), to: fc.option(fc.array(fc.record({ operation }), { maxLength: 2 }), { nil: undefined }), when: fc.option(fc.array(cond, { maxLength: 2 }), { nil: undefined }) }, { requiredKeys: [] });
  it("random policies never throw anything but a clear compile error, and decisions never throw", () => {
    fc.assert(fc.property(fc.array(fc.record({ action: fc.constantFrom("ALLOW", "DENY", "AUDIT"), rules: fc.array(rule, { maxLength: 3 }), dryRun: fc.boolean() }), { maxLength: 4 }), (ps) => {
      let c;
      try {
        c = compileRbac({ policies: ps.map((p, i) => ({ name: `p${i}`, namespace: "default", ...p }) as RbacPolicy), useRemoteAddress: false, trustedHops: 0 });
      } catch (e) {
        assert.match((e as Error).message, /^rbac: policy p\d+ rule \d+: bad IP or CIDR/);
        return;
      }
      for (const a of [base, plain]) {
        decide(c, a);
        decideShadow(c, a);
        audited(c, a);
      }
    }), { numRuns: 300, seed: 13 });
  });
});
