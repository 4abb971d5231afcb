import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { canonicalRevision, canonicalService, decodePeer, encodePeer, identityOf } from "./peer.ts";

describe("peer metadata header", () => {
  it("round-trips an identity, including odd characters", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (w, ns, v) => {
        const id = identityOf({ id: "x", kind: "sidecar", workload: w, namespace: ns, labels: { app: "a;b=c", version: v }, serviceAccount: "sa", trustDomain: "td", ip: "1.2.3.4" });
        const text = encodePeer(id);
        assert.match(text, /^[\x21-\x7e]+$/);
        assert.deepEqual(decodePeer(text), id);
      }),
    );
  });

  it("ignores junk and never throws", () => {
    assert.equal(decodePeer(undefined), null);
    assert.equal(decodePeer(""), null);
    assert.equal(decodePeer("garbage"), null);
    assert.equal(decodePeer("x".repeat(2000)), null);
    assert.equal(decodePeer("workload=%E0%A4%A;ns=ok")?.namespace, "ok");
    fc.assert(fc.property(fc.string(), (s) => void decodePeer(s)));
  });

  it("derives canonical service and revision as Istio does", () => {
    assert.equal(canonicalService({ "service.istio.io/canonical-name": "c", app: "a" }, "w"), "c");
    assert.equal(canonicalService({ "app.kubernetes.io/name": "k", app: "a" }, "w"), "k");
    assert.equal(canonicalService({ app: "a" }, "w"), "a");
    assert.equal(canonicalService({}, "w"), "w");
    assert.equal(canonicalRevision({ "service.istio.io/canonical-revision": "r", version: "v" }), "r");
    assert.equal(canonicalRevision({ version: "v1" }), "v1");
    assert.equal(canonicalRevision({}), "latest");
  });
});
