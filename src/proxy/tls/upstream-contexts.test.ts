import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { x509 } from "../../core/x509.ts";
import type { UpstreamTlsConfig } from "../../model/proxy-config.ts";
import { CredentialError } from "./secrets/watched-credential.ts";
import { UpstreamTlsContexts } from "./upstream-contexts.ts";
import { CA_BUNDLE_ENV, defaultTrustContext, DefaultTrustError, resetDefaultTrust } from "./default-trust.ts";

describe("UpstreamTlsContexts: one watched context per distinct cluster TLS setting", () => {
  const dir = mkdtempSync(join(tmpdir(), "amime-upstream-ctx-"));
  const ca = join(dir, "ca.pem");
  const lines: string[] = [];
  const contexts = new UpstreamTlsContexts({ namespace: "default", log: (l) => lines.push(l) });
  const simple = (caCertificates?: string, extra: Partial<UpstreamTlsConfig> = {}): UpstreamTlsConfig => ({ mode: "SIMPLE", subjectAltNames: [], insecureSkipVerify: false, ...(caCertificates !== undefined ? { caCertificates } : {}), ...extra });

  before(async () => {
    const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: "CN=test ca", notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000), keys, signingAlgorithm: alg, extensions: [new x509.BasicConstraintsExtension(true, undefined, true)] });
    writeFileSync(ca, cert.toString("pem"));
  });
  after(() => {
    contexts.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("nothing to load: the default trust's one context (the system CA bundle); none when nothing is verified; ISTIO_MUTUAL is not its business", () => {
    process.env[CA_BUNDLE_ENV] = ca;
    resetDefaultTrust();
    try {
      const shared = contexts.contextFor(simple());
      assert.ok(shared);
      assert.equal(shared, defaultTrustContext());
      assert.equal(contexts.contextFor(simple(undefined, { mode: "MUTUAL" })), shared);
      assert.equal(contexts.contextFor(simple(undefined, { insecureSkipVerify: true })), undefined);
      assert.equal(contexts.contextFor({ mode: "ISTIO_MUTUAL", subjectAltNames: [], insecureSkipVerify: false }), undefined);
      process.env[CA_BUNDLE_ENV] = join(dir, "missing.pem");
      resetDefaultTrust();
      assert.throws(() => contexts.contextFor(simple()), (e: unknown) => e instanceof DefaultTrustError && e.message.includes("missing.pem"));
    } finally {
      delete process.env[CA_BUNDLE_ENV];
      resetDefaultTrust();
    }
  });

  it("the same files share one context, across config objects (pushes); another file gets its own", () => {
    const a = contexts.contextFor(simple(ca));
    assert.ok(a);
    assert.equal(contexts.contextFor(simple(ca)), a);
    assert.equal(contexts.contextFor(simple(ca, { sni: "other.example" })), a, "SNI and SANs do not change the material");
    const copy = join(dir, "ca-copy.pem");
    writeFileSync(copy, readFileSync(ca));
    const b = contexts.contextFor(simple(copy));
    assert.ok(b);
    assert.notEqual(b, a);
  });

  it("a file that cannot be read throws with its path; retain() forgets what no cluster uses", () => {
    assert.throws(() => contexts.contextFor(simple(join(dir, "missing.pem"))), (e: unknown) => e instanceof CredentialError && /cannot read ca .*missing\.pem/.test(e.message));
    const cfg = simple(ca);
    const before = contexts.contextFor(cfg);
    contexts.retain([]);
    const after = contexts.contextFor(cfg);
    assert.ok(after);
    assert.notEqual(after, before, "a forgotten setting is loaded anew when used again");
  });

  it("credentialName without a secret store: no context, and the error says why", () => {
    const cfg = simple(undefined, { credentialName: "egress-cred" });
    assert.equal(contexts.contextFor(cfg), null);
    assert.match(contexts.errorFor(cfg) ?? "", /credentialName "egress-cred": this proxy has no secret store/);
  });
});
