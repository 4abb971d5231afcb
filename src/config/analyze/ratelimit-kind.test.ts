import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findings, service, summary, workload } from "./harness.ts";
import { rateLimitKindCheck } from "./ratelimit-kind.ts";
import type { JsonObject } from "../../model/resource.ts";

const kind = (spec: JsonObject, name = "rl", namespace = "default"): JsonObject => ({ apiVersion: "amime.dev/v1alpha1", kind: "RateLimit", metadata: { name, namespace }, spec });
const limit = { requests: 5, per: "minute" };
const byClaim: JsonObject = { rules: [{ limit }, { name: "per-user", limit, key: { claim: "sub" } }] };
const authn = (selector?: Record<string, string>, namespace = "default"): JsonObject => ({
  apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "jwt", namespace },
  spec: { ...(selector ? { selector: { matchLabels: selector } } : {}), jwtRules: [{ issuer: "https://issuer.example", jwksUri: "https://issuer.example/jwks" }] },
});
const productpage = [service("productpage"), workload("productpage-v1", { app: "productpage" })];

describe("ratelimit-kind check (AMM1021, IST0127, AMM1022)", () => {
  it("AMM1021: spec.service names a host no Service or ServiceEntry defines", () => {
    const ds = findings([...productpage, kind({ service: "ratings.default.svc.cluster.local", rules: [{ limit }] })], rateLimitKindCheck);
    assert.deepEqual(summary(ds), ["AMM1021 warning spec.service"]);
    assert.match(ds[0]?.message ?? "", /No Service or ServiceEntry defines ratings\.default\.svc\.cluster\.local: this RateLimit applies to no workload/);
    assert.equal(ds[0]?.source.file, "case.yaml");
    assert.ok((ds[0]?.source.line ?? 0) > 1, "the line of spec.service");
  });

  it("AMM1021 does not fire for a defined Service, with or without workloads in the input", () => {
    const rl = kind({ service: "productpage.default.svc.cluster.local", rules: [{ limit }] });
    assert.deepEqual(summary(findings([...productpage, rl], rateLimitKindCheck)), []);
    assert.deepEqual(summary(findings([service("productpage"), rl], rateLimitKindCheck)), []);
  });

  it("IST0127: spec.selector matching no workload; nothing when one matches or the input has no workloads", () => {
    const rl = kind({ selector: { matchLabels: { app: "ratings" } }, rules: [{ limit }] });
    const ds = findings([...productpage, rl], rateLimitKindCheck);
    assert.deepEqual(summary(ds), ["IST0127 warning spec.selector"]);
    assert.match(ds[0]?.message ?? "", /No matching workloads for this resource with the following labels: app=ratings/);
    assert.deepEqual(summary(findings([...productpage, kind({ selector: { matchLabels: { app: "productpage" } }, rules: [{ limit }] })], rateLimitKindCheck)), []);
    assert.deepEqual(summary(findings([rl], rateLimitKindCheck)), []);
  });

  it("AMM1022: a claim key on workloads no RequestAuthentication covers", () => {
    const rl = kind({ selector: { matchLabels: { app: "productpage" } }, ...byClaim });
    const ds = findings([...productpage, rl], rateLimitKindCheck);
    assert.deepEqual(summary(ds), ["AMM1022 warning spec.rules[1].key.claim"]);
    assert.match(ds[0]?.message ?? "", /keyed by the JWT claim sub, but no RequestAuthentication with jwtRules covers the workloads it applies to \(productpage-v1\)/);
    // One selecting other workloads, or in another namespace, does not cover them either.
    assert.deepEqual(summary(findings([...productpage, rl, authn({ app: "reviews" }), authn(undefined, "other")], rateLimitKindCheck)), ["AMM1022 warning spec.rules[1].key.claim"]);
    // Through spec.service too.
    assert.deepEqual(summary(findings([...productpage, kind({ service: "productpage.default.svc.cluster.local", ...byClaim })], rateLimitKindCheck)), ["AMM1022 warning spec.rules[1].key.claim"]);
  });

  it("AMM1022 does not fire when a RequestAuthentication covers the workloads (selector, namespace-wide, root namespace)", () => {
    const rl = kind({ selector: { matchLabels: { app: "productpage" } }, ...byClaim });
    for (const ra of [authn({ app: "productpage" }), authn(), authn(undefined, "istio-system")]) {
      assert.deepEqual(summary(findings([...productpage, rl, ra], rateLimitKindCheck)), []);
    }
    assert.deepEqual(summary(findings([...productpage, kind({ rules: [{ limit, key: { header: "x-user" } }] })], rateLimitKindCheck)), []);
  });

  it("AMM1022 without workloads in the input: judged by the namespace's and the root namespace's RequestAuthentications", () => {
    const rl = kind({ ...byClaim });
    assert.deepEqual(summary(findings([rl], rateLimitKindCheck)), ["AMM1022 warning spec.rules[1].key.claim"]);
    assert.match(findings([rl], rateLimitKindCheck)[0]?.message ?? "", /covers namespace default/);
    assert.deepEqual(summary(findings([rl, authn({ app: "productpage" })], rateLimitKindCheck)), []);
  });
});
