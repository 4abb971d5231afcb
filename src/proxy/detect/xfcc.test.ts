import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { rfc2253, sans, xfccElement, xfccValue } from "./xfcc.ts";

const der = Buffer.from("not really a certificate");
const hash = createHash("sha256").update(der).digest("hex");

describe("x-forwarded-client-cert", () => {
  it("builds Envoy's element in its order: By, Hash, Subject (quoted, even empty), URI", () => {
    const e = xfccElement({ by: ["spiffe://cluster.local/ns/foo/sa/httpbin"], peerDer: der, subject: "", uris: ["spiffe://cluster.local/ns/foo/sa/sleep"], dns: [] });
    assert.equal(e, `By=spiffe://cluster.local/ns/foo/sa/httpbin;Hash=${hash};Subject="";URI=spiffe://cluster.local/ns/foo/sa/sleep`);
  });

  it("one By per local URI SAN, URI= when the peer has none, DNS per DNS SAN, quotes escaped in Subject", () => {
    const e = xfccElement({ by: ["spiffe://a", "spiffe://b"], peerDer: der, subject: 'CN=x\\"y', uris: [], dns: ["a.example", "b.example"] });
    assert.equal(e, `By=spiffe://a;By=spiffe://b;Hash=${hash};Subject="CN=x\\\\"y";URI=;DNS=a.example;DNS=b.example`);
  });

  it("APPEND_FORWARD: appended to what the mTLS client sent, else alone", () => {
    assert.equal(xfccValue(undefined, "By=x"), "By=x");
    assert.equal(xfccValue("", "By=x"), "By=x");
    assert.equal(xfccValue("By=a;URI=b", "By=x"), "By=a;URI=b,By=x");
  });

  it("reads SANs and subjects as Node gives them", () => {
    assert.deepEqual(sans("URI:spiffe://cluster.local/ns/a/sa/b, DNS:x.example", "URI"), ["spiffe://cluster.local/ns/a/sa/b"]);
    assert.deepEqual(sans("URI:spiffe://u, DNS:x.example, DNS:y", "DNS"), ["x.example", "y"]);
    assert.deepEqual(sans(undefined, "URI"), []);
    assert.equal(rfc2253(undefined), "");
    assert.equal(rfc2253({ O: "Acme, Inc", CN: "svc" } as never), "CN=svc,O=Acme\\, Inc");
  });
});
