import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AdmissionReviewError, readReview, reviewOf } from "./admission-review.ts";
import { validateAdmission } from "./validate-admission.ts";

function review(object: unknown, over: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group: "networking.istio.io", version: "v1", kind: "VirtualService" },
      resource: { group: "networking.istio.io", version: "v1", resource: "virtualservices" },
      namespace: "bookinfo",
      operation: "CREATE",
      object,
      ...over,
    },
  };
}

const vs = (weight: number) => ({
  apiVersion: "networking.istio.io/v1",
  kind: "VirtualService",
  metadata: { name: "reviews" },
  spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews" }, weight }] }] },
});

describe("validating admission webhook", () => {
  it("allows a valid VirtualService and echoes the request's uid", () => {
    const r = validateAdmission(readReview(review(vs(100))));
    assert.deepEqual(r, { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true });
  });

  it("denies an invalid one with the validator's field path and message", () => {
    const r = validateAdmission(readReview(review(vs(-5))));
    assert.equal(r.allowed, false);
    assert.equal(r.status?.message, "configuration is invalid: spec.http[0].route[0].weight: weight -5 < 0 [AMM0012]");
  });

  it("returns warnings without denying", () => {
    const dr = {
      apiVersion: "networking.istio.io/v1beta1",
      kind: "DestinationRule",
      metadata: { name: "reviews" },
      spec: { host: "reviews", subsets: [{ name: "v1" }] },
    };
    const r = validateAdmission(readReview(review(dr, { kind: { group: "networking.istio.io", version: "v1beta1", kind: "DestinationRule" } })));
    assert.equal(r.allowed, true);
    assert.ok((r.warnings ?? []).length > 0, JSON.stringify(r));
  });

  it("allows deletes and kinds outside Istio's groups untouched", () => {
    assert.equal(validateAdmission(readReview(review(null, { operation: "DELETE" }))).allowed, true);
    const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { ports: "not a list" } };
    assert.equal(validateAdmission(readReview(review(svc, { kind: { group: "", version: "v1", kind: "Service" } }))).allowed, true);
  });

  it("denies an unknown kind of an Istio group, as istiod does", () => {
    const r = validateAdmission(readReview(review({ apiVersion: "networking.istio.io/v1", kind: "VirtualServce", metadata: { name: "x" } }, { kind: { group: "networking.istio.io", version: "v1", kind: "VirtualServce" } })));
    assert.equal(r.allowed, false);
    assert.match(r.status?.message ?? "", /unknown kind VirtualServce/);
  });

  it("refuses a body that is not an AdmissionReview v1, saying what is wrong", () => {
    assert.throws(() => readReview({ apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview" }), AdmissionReviewError);
    assert.throws(() => readReview([]), /not a JSON object/);
    assert.throws(() => readReview({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u", kind: { kind: "X", version: "v1" }, operation: "PATCH" } }), /request.operation/);
    assert.throws(() => readReview({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { kind: {} } }), /request.uid/);
  });

  it("wraps the response in an AdmissionReview v1", () => {
    assert.deepEqual(reviewOf({ uid: "u", allowed: true }), { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "u", allowed: true } });
  });
});
