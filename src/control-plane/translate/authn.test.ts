import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { translate } from "./index.ts";
import { jwtAuthnConfig, rbacConfig } from "./authn.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

const ra = (ns: string, name: string, spec: unknown): string => JSON.stringify({ apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name, namespace: ns }, spec }) + "\n---\n";
const rule = (issuer: string, extra: object = {}): object => ({ issuer, jwksUri: `https://${issuer}/jwks`, ...extra });

describe("RequestAuthentication translation", () => {
  it("no policy: no jwt_authn in any chain (nothing per request)", () => {
    const cfg = translate(snapshotFrom(k8sService("httpbin"), [inst("httpbin", "v1", "10.0.0.1")]), sidecarProxy({ app: "httpbin", version: "v1" }));
    assert.ok(cfg.listeners.every((l) => !l.httpFilters?.some((f) => f.name === "jwt_authn")));
  });

  it("the inbound listeners get jwt_authn → cors → fault → router; the outbound listener never does", () => {
    const s = snapshotFrom(k8sService("httpbin") + ra("default", "jwt", { selector: { matchLabels: { app: "httpbin" } }, jwtRules: [rule("b.example"), rule("a.example", { timeout: "2s" })] }), [inst("httpbin", "v1", "10.0.0.1")]);
    const cfg = translate(s, sidecarProxy({ app: "httpbin", version: "v1" }));
    const inbound = cfg.listeners.find((l) => l.direction === "inbound");
    assert.deepEqual(inbound?.httpFilters?.map((f) => f.name), ["jwt_authn", "cors", "fault", "router"]);
    const providers = (inbound?.httpFilters?.[0]?.config as { providers: { issuer: string; timeoutMs: number }[] }).providers;
    assert.deepEqual(providers.map((p) => [p.issuer, p.timeoutMs]), [["a.example", 2000], ["b.example", 5000]]);
    assert.ok(!cfg.listeners.find((l) => l.direction === "outbound")?.httpFilters?.some((f) => f.name === "jwt_authn"));
  });

  it("scope: root namespace mesh-wide, namespace-wide, selector, targetRef Service; other namespaces not", () => {
    const s = snapshotFrom(
      k8sService("httpbin", "foo") +
        ra("istio-system", "mesh", { jwtRules: [rule("mesh")] }) +
        ra("foo", "ns", { jwtRules: [rule("ns")] }) +
        ra("foo", "sel", { selector: { matchLabels: { app: "httpbin" } }, jwtRules: [rule("sel")] }) +
        ra("foo", "other", { selector: { matchLabels: { app: "other" } }, jwtRules: [rule("other")] }) +
        ra("foo", "ref", { targetRef: { kind: "Service", group: "", name: "httpbin" }, jwtRules: [rule("ref")] }) +
        ra("bar", "elsewhere", { jwtRules: [rule("bar")] }),
    );
    const issuers = jwtAuthnConfig(s, sidecarProxy({ app: "httpbin" }, "foo"))?.providers.map((p) => p.issuer);
    assert.deepEqual(issuers, ["mesh", "ns", "ref", "sel"]);
    assert.deepEqual(jwtAuthnConfig(s, sidecarProxy({ app: "curl" }, "baz"))?.providers.map((p) => p.issuer), ["mesh"]);
  });

  it("a rule without keys: OpenID discovery at a URL issuer, an empty key set otherwise (fails closed)", () => {
    const s = snapshotFrom(ra("default", "x", { jwtRules: [{ issuer: "https://idp.example/" }, { issuer: "testing@secure.istio.io" }] }));
    const p = jwtAuthnConfig(s, sidecarProxy({ app: "a" }))?.providers;
    assert.equal(p?.[0]?.jwksUri, "https://idp.example/.well-known/openid-configuration");
    assert.equal(p?.[1]?.jwks, `{"keys":[]}`);
  });

  it("AuthorizationPolicy: ALLOW/DENY/AUDIT selected as Istio, named ns[..]-policy[..], sorted; CUSTOM left out; dry-run and gateway XFF hops", () => {
    const ap = (ns: string, name: string, spec: unknown, annotations?: Record<string, string>): string => JSON.stringify({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) }, spec }) + "\n---\n";
    const s = snapshotFrom(
      ap("istio-system", "mesh-deny", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin/*"] } }] }] }) +
        ap("default", "allow-nothing", {}) +
        ap("default", "custom", { action: "CUSTOM", provider: { name: "ext" }, rules: [{}] }) +
        ap("default", "dry", { selector: { matchLabels: { app: "httpbin" } }, action: "DENY", rules: [{}] }, { "istio.io/dry-run": "true" }) +
        ap("default", "other", { selector: { matchLabels: { app: "other" } }, rules: [{}] }),
      [],
      { mesh: { config: { defaultConfig: { gatewayTopology: { numTrustedProxies: 2 } } } } },
    );
    const c = rbacConfig(s, sidecarProxy({ app: "httpbin" }));
    assert.deepEqual(c?.policies.map((p) => [p.name, p.action, p.dryRun, p.rules.length]), [
      ["ns[default]-policy[allow-nothing]", "ALLOW", false, 0],
      ["ns[default]-policy[dry]", "DENY", true, 1],
      ["ns[istio-system]-policy[mesh-deny]", "DENY", false, 1],
    ]);
    assert.deepEqual([c?.useRemoteAddress, c?.trustedHops], [false, 0]);
    const gw = rbacConfig(s, { ...sidecarProxy({ app: "ingress" }), kind: "gateway" });
    assert.deepEqual([gw?.useRemoteAddress, gw?.trustedHops], [true, 2]);
    const cfg = translate(s, sidecarProxy({ app: "httpbin", version: "v1" }));
    assert.equal(rbacConfig(snapshotFrom(""), sidecarProxy({ app: "a" })), undefined);
    assert.ok(cfg.listeners.every((l) => l.direction === "outbound" ? !l.httpFilters?.some((f) => f.name === "rbac") : true));
  });
});
