import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { authzPoliciesCheck } from "./authz-policies.ts";
import { findings, peerAuthentication, service, summary, workload } from "./harness.ts";

const sec = (kind: string, name: string, spec: JsonObject, namespace?: string): JsonObject => ({ apiVersion: "security.istio.io/v1", kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec });
const allow = (name: string, app: string, rules: JsonObject[]): JsonObject => sec("AuthorizationPolicy", name, { selector: { matchLabels: { app } }, rules });
// tcp-echo (Istio's TCP task): ports 9000, 9001 (tcp-*); httpbin: 8000 → 8080 (http).
const MESH = [
  service("tcp-echo", { ports: [{ name: "tcp", port: 9000 }, { name: "tcp-other", port: 9001 }] }), workload("tcp-echo", { app: "tcp-echo" }),
  service("httpbin", { ports: [{ name: "http", port: 8000, targetPort: 8080 }] }), workload("httpbin", { app: "httpbin" }),
];

describe("authz-policies check", () => {
  it("IST0127: a selector that matches no workload (Istio's NoMatchingWorkloadsFound)", () => {
    const ds = findings([...MESH, allow("nopods", "bogus-label", [{}])], authzPoliciesCheck);
    assert.deepEqual(summary(ds), ["IST0127 warning spec.selector"]);
    assert.equal(ds[0]?.message, "No matching workloads for this resource with the following labels: app=bogus-label");
  });

  it("AMM1019: to.ports none of the workloads has (target ports count, not service ports)", () => {
    const ds = findings([...MESH, allow("p", "httpbin", [{ to: [{ operation: { ports: ["8000"] } }, { operation: { ports: ["8080"] } }] }])], authzPoliciesCheck);
    assert.deepEqual(summary(ds), ["AMM1019 warning spec.rules[0].to[0].operation.ports"]);
    assert.match(ds[0]?.message ?? "", /Port 8000 is not a port of the selected workloads \(8080/);
  });

  it("AMM1019: HTTP-only fields in an ALLOW rule that reaches only TCP ports (Istio's TCP task: methods + port 9000); a DENY rule, an HTTP port, no finding", () => {
    const ds = findings([...MESH,
      allow("tcp-policy", "tcp-echo", [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }]),
      allow("all-tcp", "tcp-echo", [{ from: [{ source: { requestPrincipals: ["*"] } }] }]),
      sec("AuthorizationPolicy", "deny", { selector: { matchLabels: { app: "tcp-echo" } }, action: "DENY", rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }] }),
      allow("http", "httpbin", [{ to: [{ operation: { methods: ["GET"] } }] }]),
    ], authzPoliciesCheck);
    assert.deepEqual(summary(ds), ["AMM1019 warning spec.rules[0]", "AMM1019 warning spec.rules[0]"]);
    assert.match(ds[0]?.message ?? "", /HTTP-only fields \(methods\) but applies only to TCP port 9000: .* never matches and the connections are denied/);
    assert.match(ds[1]?.message ?? "", /\(requestPrincipals\) but applies only to TCP ports 9000, 9001/);
  });

  it("AMM1019: peer identity fields while PeerAuthentication DISABLE turns mTLS off", () => {
    const ds = findings([...MESH, peerAuthentication("off", "DISABLE"), allow("viewer", "httpbin", [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/curl"] } }] }])], authzPoliciesCheck);
    assert.deepEqual(summary(ds), ["AMM1019 warning spec.rules[0]"]);
    assert.match(ds[0]?.message ?? "", /peer identity \(principals\), but PeerAuthentication mode DISABLE .* never matches/);
    assert.deepEqual(findings([...MESH, peerAuthentication("on", "STRICT"), allow("viewer", "httpbin", [{ from: [{ source: { principals: ["x"] } }] }])], authzPoliciesCheck), []);
  });

  it("AMM1020: a RequestAuthentication without an ALLOW on requestPrincipals for its workloads: tokens are optional", () => {
    const ra = sec("RequestAuthentication", "jwt", { selector: { matchLabels: { app: "httpbin" } }, jwtRules: [{ issuer: "testing@secure.istio.io" }] });
    const ds = findings([...MESH, ra], authzPoliciesCheck);
    assert.deepEqual(summary(ds), ["AMM1020 warning spec.jwtRules"]);
    assert.match(ds[0]?.message ?? "", /Tokens are optional/);
    const required = allow("require-jwt", "httpbin", [{ from: [{ source: { requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"] } }] }]);
    assert.deepEqual(findings([...MESH, ra, required], authzPoliciesCheck), []);
  });

  it("IST0149: claim routes on a gateway that no RequestAuthentication selects (Istio's JWT claim based routing task)", () => {
    const gw = { apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "httpbin-gateway", namespace: "foo" }, spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }] } };
    const vs = { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "httpbin", namespace: "foo" }, spec: { hosts: ["*"], gateways: ["httpbin-gateway"], http: [{ match: [{ uri: { prefix: "/headers" }, headers: { "@request.auth.claims.groups": { exact: "group1" } } }], route: [{ destination: { host: "httpbin", port: { number: 8000 } } }] }] } };
    const ds = findings([...MESH, gw, vs], authzPoliciesCheck);
    assert.deepEqual(summary(ds), ["IST0149 warning spec.gateways"]);
    assert.match(ds[0]?.message ?? "", /JWT claim based routing \(key: groups\) but found no request authentication for the gateway \(foo\/httpbin-gateway\)/);
    const ra = sec("RequestAuthentication", "ingress-jwt", { selector: { matchLabels: { istio: "ingressgateway" } }, jwtRules: [{ issuer: "testing@secure.istio.io" }] }, "istio-system");
    assert.deepEqual(findings([...MESH, gw, vs, ra], authzPoliciesCheck).filter((d) => d.code === "IST0149"), []);
  });
});
