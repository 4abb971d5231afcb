import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { test } from "node:test";
import { SigningCA } from "../../control-plane/ca/signing-ca.ts";
import { x509 } from "../../core/x509.ts";
import { newKeyAndRequest } from "./csr.ts";

/** `openssl req -verify` on `pem`: its stdout, and its verdict (OpenSSL 3.0 exits 0 either way and says it on stderr). */
function opensslReq(pem: string, ...args: string[]): { out: string; verified: boolean } {
  const r = spawnSync("openssl", ["req", "-noout", "-verify", ...args], { input: pem, encoding: "utf8" });
  assert.equal(r.error, undefined);
  return { out: r.stdout, verified: r.status === 0 && /verify OK/.test(r.stderr) && !/failure/.test(r.stderr) };
}

test("the request is a PKCS#10 CSR openssl verifies, for the returned P-256 key, with no subject or attributes", async () => {
  const { keyPem, csrPem } = await newKeyAndRequest();
  assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE REQUEST-----\n$/);
  const key = createPrivateKey(keyPem);
  assert.equal(key.asymmetricKeyType, "ec");
  assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
  const { out: text, verified } = opensslReq(csrPem, "-text", "-pubkey");
  assert.ok(verified, "openssl verifies its signature");
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /Subject: *\n/);
  const pub = text.slice(text.indexOf("-----BEGIN PUBLIC KEY-----"));
  assert.ok(createPublicKey(pub).equals(createPublicKey(key)), "the CSR carries the returned key's public half");
});

test("the mesh CA (@peculiar/x509) verifies it and issues the caller's SVID for its key", async () => {
  const { keyPem, csrPem } = await newKeyAndRequest();
  const parsed = new x509.Pkcs10CertificateRequest(csrPem);
  assert.equal(await parsed.verify(), true);
  assert.equal(parsed.subject, "");
  const ca = await SigningCA.selfSigned(null, "cluster.local", () => Date.now());
  const issued = await ca.sign(csrPem, { namespace: "default", serviceAccount: "reviews" }, 3600);
  const leaf = new X509Certificate(issued.certChain[0]!);
  assert.equal(leaf.subjectAltName, "URI:spiffe://cluster.local/ns/default/sa/reviews");
  assert.ok(leaf.checkPrivateKey(createPrivateKey(keyPem)), "the certificate is for the returned key");
});

test("a request whose signature is broken is refused by openssl and by the CA", async () => {
  const { csrPem } = await newKeyAndRequest();
  const body = csrPem.split("\n").filter((l) => l !== "" && !l.startsWith("-----")).join("");
  const der = Buffer.from(body, "base64");
  der[der.length - 5] = der[der.length - 5]! ^ 0x01; // a byte of the signature's s value
  const broken = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END CERTIFICATE REQUEST-----\n`;
  assert.equal(opensslReq(broken).verified, false);
  const ca = await SigningCA.selfSigned(null, "cluster.local", () => Date.now());
  await assert.rejects(ca.sign(broken, { namespace: "default", serviceAccount: "reviews" }), /does not verify/);
});
