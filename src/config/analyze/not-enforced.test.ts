import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../resource.ts";
import { destinationRule, findings, peerAuthentication, summary } from "./harness.ts";
import { notEnforcedCheck } from "./not-enforced.ts";

const policy = (kind: string, name: string, spec: JsonObject): JsonObject => ({ apiVersion: "security.istio.io/v1", kind, metadata: { name }, spec });

describe("not-enforced check", () => {
  it("every PeerAuthentication and AuthorizationPolicy gets AMM1014 (it fails open today); RequestAuthentication is enforced, so none", () => {
    const ds = findings([
      peerAuthentication("strict", "STRICT"),
      policy("RequestAuthentication", "jwt", { jwtRules: [{ issuer: "testing@secure.istio.io" }] }),
      policy("AuthorizationPolicy", "deny-all", {}),
      policy("AuthorizationPolicy", "deny-post", { action: "DENY", rules: [{ to: [{ operation: { methods: ["POST"] } }] }] }),
    ], notEnforcedCheck);
    assert.deepEqual(summary(ds), ["AMM1014 warning ", "AMM1014 warning ", "AMM1014 warning "]);
    assert.match(ds[0]?.message ?? "", /^Accepted, not enforced: .*plaintext connections are NOT refused and callers are NOT authenticated, although this policy requires STRICT mTLS/);
    assert.match(ds[1]?.message ?? "", /requests are NOT authorized: .*should deny every request.*yet every request gets through/);
    assert.match(ds[2]?.message ?? "", /DENY policy is not applied, so requests it should deny get through/);
  });

  it("DestinationRule tls.mode ISTIO_MUTUAL gets no warning: the sidecars do mutual TLS (AMM1015 is retired)", () => {
    const ds = findings([destinationRule("r", "reviews", {}, { trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } })], notEnforcedCheck);
    assert.deepEqual(summary(ds), []);
  });
});
