import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mayActAs } from "../auth/token.ts";
import { proxyPrincipalOf, reviewed } from "./token-review.ts";

const user = (username: string, extra?: Record<string, string[]>) => ({ username, ...(extra ? { extra } : {}) });

describe("a TokenReview's answer", () => {
  it("names the service account, and the pod of a bound token", () => {
    assert.deepEqual(reviewed({ authenticated: true, audiences: ["istio-ca"], user: user("system:serviceaccount:shop:cart", { "authentication.kubernetes.io/pod-name": ["cart-1"], "authentication.kubernetes.io/pod-uid": ["u-1"] }) }), { namespace: "shop", serviceAccount: "cart", pod: { name: "cart-1", uid: "u-1" } });
    assert.deepEqual(reviewed({ authenticated: true, audiences: ["istio-ca"], user: user("system:serviceaccount:shop:cart") }), { namespace: "shop", serviceAccount: "cart" });
  });

  it("refuses what is not authenticated, another audience and users that are no service account", () => {
    assert.throws(() => reviewed({ authenticated: false, error: "token has expired" }), /refused the token: token has expired/);
    assert.throws(() => reviewed({ authenticated: true, audiences: ["api"], user: user("system:serviceaccount:shop:cart") }), /not for audience istio-ca \(reviewed audiences: api\)/);
    assert.throws(() => reviewed({ authenticated: true, audiences: ["istio-ca"], user: user("alice") }), /belongs to "alice", not a service account/);
  });
});

describe("which nodes a Kubernetes token may act as", () => {
  const accounts: Record<string, string> = { "shop/cart-1": "cart", "shop/db-0": "db" };
  const account = (ns: string, name: string): string | undefined => accounts[`${ns}/${name}`];
  it("a pod-bound token: its pod's node only", () => {
    const p = proxyPrincipalOf({ namespace: "shop", serviceAccount: "cart", pod: { name: "cart-1", uid: "u" } });
    assert.equal(p.node, "sidecar~cart-1.shop");
    assert.equal(mayActAs(p, "sidecar~cart-1.shop", account), null);
    assert.equal(mayActAs(p, "sidecar~cart-2.shop", account), "the token is bound to pod shop/cart-1");
    assert.equal(mayActAs(p, "sidecar~cart-1.other", account), "the token is of namespace shop, the node of other");
  });
  it("an unbound token: a known pod of its namespace running as its service account", () => {
    const p = proxyPrincipalOf({ namespace: "shop", serviceAccount: "cart" });
    assert.equal(mayActAs(p, "sidecar~cart-1.shop", account), null);
    assert.equal(mayActAs(p, "sidecar~db-0.shop", account), "pod shop/db-0 runs as service account db, the token is of cart");
    assert.equal(mayActAs(p, "sidecar~new-0.shop", account), "no pod shop/new-0 is known to run as service account cart");
    assert.equal(mayActAs(p, "cart-1.shop", account), "a Kubernetes token acts only as a node <kind>~<pod>.<namespace>");
  });
  it("our own node-bound credential: exactly its node", () => {
    assert.equal(mayActAs({ kind: "proxy", node: "sidecar~a.default", namespace: "default", serviceAccount: "a" }, "sidecar~b.default", account), "it belongs to sidecar~a.default");
  });
});
