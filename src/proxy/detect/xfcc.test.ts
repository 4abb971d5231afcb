import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { X509Certificate } from "node:crypto";
import { x509 } from "../../core/x509.ts";
import { rfc2253, sans, urlEncodedPem, xfccElement, xfccHeaderValue, xfccValue } from "./xfcc.ts";

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
    assert.equal(rfc2253(""), "");
    // X509Certificate.subject: first RDN first, one per line, values escaped by Node.
    assert.equal(rfc2253("O=Acme\\, Inc\nCN=svc"), "CN=svc,O=Acme\\, Inc");
  });

  it("gateway details (Subject, Cert, URI, DNS) in Envoy's order: Cert before Subject; none enabled leaves By and Hash", () => {
    const facts = { by: ["spiffe://gw"], peerDer: der, subject: "CN=client", uris: ["spiffe://c"], dns: ["c.example"] };
    const e = xfccElement(facts, { subject: true, cert: true, uri: true, dns: true });
    assert.equal(e, `By=spiffe://gw;Hash=${hash};Cert="${urlEncodedPem(der)}";Subject="CN=client";URI=spiffe://c;DNS=c.example`);
    assert.equal(xfccElement(facts, {}), `By=spiffe://gw;Hash=${hash}`);
    assert.equal(xfccElement({ ...facts, subject: "CN=a\r\nx-evil: 1" }, { subject: true }), `By=spiffe://gw;Hash=${hash};Subject="CN=ax-evil: 1"`);
  });

  it("Cert is the PEM OpenSSL writes with Envoy's escapes (%0A, %20, %2B, %2F, %3D), and decodes back to the certificate", async () => {
    const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
    const made = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: "CN=client", notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000), keys, signingAlgorithm: alg });
    const cert = new X509Certificate(made.toString("pem"));
    const enc = urlEncodedPem(cert.raw);
    assert.match(enc, /^-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9%]+%0A-----END%20CERTIFICATE-----%0A$/);
    assert.doesNotMatch(enc, /[\n +/=]/);
    assert.equal(decodeURIComponent(enc), cert.toString());
  });

  it("what each plan puts on the request: set replaces, append joins with a comma, forward keeps the client's value", () => {
    assert.equal(xfccHeaderValue({ mode: "set", element: "By=g" }, "By=forged"), "By=g");
    assert.equal(xfccHeaderValue({ mode: "append", element: "By=g" }, "By=a"), "By=a,By=g");
    assert.equal(xfccHeaderValue({ mode: "append", element: "By=g" }, undefined), "By=g");
    assert.equal(xfccHeaderValue({ mode: "forward", element: "" }, "By=a"), "By=a");
    assert.equal(xfccHeaderValue({ mode: "forward", element: "" }, undefined), undefined);
  });
});
