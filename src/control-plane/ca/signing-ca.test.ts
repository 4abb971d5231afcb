import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { x509 } from "../../core/x509.ts";
import { SigningCA, type CaError } from "./signing-ca.ts";

const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const T0 = Date.UTC(2026, 0, 1);
const who = { namespace: "default", serviceAccount: "bookinfo-reviews" };

async function csr(extensions: x509.Extension[] = [], name?: string): Promise<string> {
  const keys = (await crypto.subtle.generateKey(EC, false, ["sign", "verify"])) as CryptoKeyPair;
  return (await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: EC, extensions, ...(name ? { name } : {}) })).toString("pem");
}

test("self-signed: persisted on first start (key 0600), reused after; leaves carry Istio's fields", async () => {
  const dir = await mkdtemp(join(tmpdir(), "amime-ca-"));
  try {
    const ca = await SigningCA.selfSigned(dir, "cluster.local", () => T0);
    assert.equal((await stat(join(dir, "ca-key.pem"))).mode & 0o777, 0o600);
    const again = await SigningCA.selfSigned(dir, "cluster.local", () => T0);
    assert.equal(again.caCert, ca.caCert, "the same root on the second start");
    const root = new x509.X509Certificate(ca.caCert);
    assert.equal(root.subject, "O=cluster.local");

    const issued = await ca.sign(await csr(), who, 3600);
    assert.equal(issued.identity, "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
    assert.equal(issued.certChain.length, 2);
    assert.equal(issued.certChain[1], issued.trustBundle[0]);
    const leaf = new x509.X509Certificate(issued.certChain[0] as string);
    assert.ok(await leaf.verify({ publicKey: root.publicKey, date: new Date(T0) }), "signed by the root");
    assert.equal(leaf.subject, "");
    assert.equal(leaf.serialNumber, issued.serial);
    assert.equal(leaf.serialNumber.length, 32, "128-bit serial");
    assert.equal(leaf.notBefore.getTime(), T0 - 120_000, "backdated by Istio's 2 min clock skew grace");
    assert.equal(leaf.notAfter.getTime(), T0 + 3600_000);
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension);
    assert.ok(san?.critical);
    assert.deepEqual(san?.names.items.map((n) => [n.type, n.value]), [["url", "spiffe://cluster.local/ns/default/sa/bookinfo-reviews"]]);
    assert.deepEqual([...(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])].map(String), ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], "serverAuth and clientAuth");
    assert.equal(leaf.getExtension(x509.BasicConstraintsExtension)?.ca, false);

    const dflt = new x509.X509Certificate((await ca.sign(await csr(), who)).certChain[0] as string);
    assert.equal(dflt.notAfter.getTime(), T0 + 24 * 3600_000, "Istio's default 24 h");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a request for another identity, a bad signature or too long a TTL is refused", async () => {
  const ca = await SigningCA.selfSigned(null, "example.org", () => T0);
  const other = new x509.SubjectAlternativeNameExtension([{ type: "url", value: "spiffe://example.org/ns/default/sa/admin" }]);
  await assert.rejects(ca.sign(await csr([other]), who), (e: CaError) => e.code === "CA_IDENTITY_MISMATCH" && e.status === 403 && /asks for spiffe:\/\/example\.org\/ns\/default\/sa\/admin, but the caller is spiffe:\/\/example\.org\/ns\/default\/sa\/bookinfo-reviews/.test(e.message));
  await assert.rejects(ca.sign(await csr([], "CN=istiod"), who), (e: CaError) => e.code === "CA_IDENTITY_MISMATCH");
  const own = new x509.SubjectAlternativeNameExtension([{ type: "url", value: "spiffe://example.org/ns/default/sa/bookinfo-reviews" }]);
  assert.equal((await ca.sign(await csr([own]), who)).identity, "spiffe://example.org/ns/default/sa/bookinfo-reviews");
  await assert.rejects(ca.sign("not a csr", who), (e: CaError) => e.code === "CA_BAD_CSR");
  await assert.rejects(ca.sign(await csr(), who, 91 * 24 * 3600), /requested TTL 7862400s is greater than the max allowed TTL 7776000s/);
});

test("plug-in cacerts: all four files required, and the key must be the certificate's", async () => {
  const dir = await mkdtemp(join(tmpdir(), "amime-cacerts-"));
  try {
    await assert.rejects(SigningCA.fromCacerts(dir, "cluster.local"), /incomplete signing CA bundle .*missing ca-cert\.pem, ca-key\.pem, root-cert\.pem, cert-chain\.pem/);
    const a = await SigningCA.selfSigned(join(dir, "a"), "cluster.local");
    const b = await SigningCA.selfSigned(join(dir, "b"), "cluster.local");
    const plug = join(dir, "plug");
    await SigningCA.selfSigned(plug, "cluster.local");
    await writeFile(join(plug, "cert-chain.pem"), a.caCert);
    await writeFile(join(plug, "ca-cert.pem"), b.caCert);
    await writeFile(join(plug, "root-cert.pem"), b.caCert);
    await assert.rejects(SigningCA.fromCacerts(plug, "cluster.local"), /ca-key\.pem is not the key of the signing certificate/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
