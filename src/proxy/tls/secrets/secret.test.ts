import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveCredential, type TlsSecret } from "./resolve-credential.ts";
import { parseSecrets, SecretParseError } from "./secret.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("parseSecrets: Kubernetes Secrets as Istio reads them for credentialName", () => {
  it("kubernetes.io/tls (tls.crt, tls.key, ca.crt, ca.crl), base64 in data", () => {
    const [s] = parseSecrets(`apiVersion: v1
kind: Secret
metadata: {name: httpbin-credential, namespace: istio-system}
type: kubernetes.io/tls
data:
  tls.crt: ${b64("CERT")}
  tls.key: ${b64("KEY")}
  ca.crt: ${b64("CA")}
  ca.crl: ${b64("CRL")}
`, "s.yaml");
    assert.deepEqual(s, { name: "httpbin-credential", namespace: "istio-system", source: "s.yaml", cert: "CERT", key: "KEY", ca: "CA", crl: "CRL" });
  });

  it("Istio's generic form (cert, key, cacert, crl) wins over tls.* keys; stringData wins over data", () => {
    const [s] = parseSecrets(JSON.stringify({
      kind: "Secret",
      metadata: { name: "g" },
      data: { cert: b64("C1"), key: b64("K1"), "tls.crt": b64("C2"), "tls.key": b64("K2"), cacert: b64("CA1") },
      stringData: { key: "K3", crl: "CRL" },
    }), "g.json");
    assert.deepEqual(s, { name: "g", source: "g.json", cert: "C1", key: "K3", ca: "CA1", crl: "CRL" });
  });

  it("several documents: other kinds are skipped; a CA-only secret has no cert", () => {
    const out = parseSecrets(`kind: ConfigMap
metadata: {name: x}
---
kind: Secret
metadata: {name: a-cacert, namespace: ns}
stringData: {cacert: CA}
`, "m.yaml");
    assert.deepEqual(out, [{ name: "a-cacert", namespace: "ns", source: "m.yaml (document 2)", ca: "CA" }]);
  });

  it("bad input: a clear error with the file and field, never a crash", () => {
    const table: [string, RegExp][] = [
      ["kind: Secret\nmetadata: {}\n", /^bad\.yaml: metadata\.name: a Secret needs a name$/],
      ["kind: Secret\nmetadata: {name: a}\ndata: {tls.crt: 'not base64!'}\n", /^bad\.yaml: data\.tls\.crt: must be base64 text$/],
      ["kind: Secret\nmetadata: {name: a}\ndata: [1]\n", /data: must be a map/],
      ["kind: Secret\nmetadata: {name: a}\nstringData: {cert: 3}\n", /stringData\.cert: must be a string/],
      ["kind: Secret\nmetadata: {name: a\n", /^bad\.yaml: /],
    ];
    for (const [text, want] of table) {
      assert.throws(() => parseSecrets(text, "bad.yaml"), (e: unknown) => e instanceof SecretParseError && want.test(e.message), text);
    }
  });
});

describe("resolveCredential: Istio's lookup order", () => {
  const store = (...secrets: TlsSecret[]) => (name: string) => secrets.find((s) => s.name === name);
  const tls = { name: "gw", source: "f", cert: "C", key: "K" };

  it("cert and key from the secret; the CA from <name>-cacert when it has one (with that secret's CRL), else from the same secret", () => {
    const both = { cert: true, ca: true };
    assert.deepEqual(resolveCredential(store(tls), "gw", { cert: true, ca: false }), { cert: "C", key: "K" });
    assert.deepEqual(resolveCredential(store({ ...tls, ca: "CA", crl: "L" }), "gw", both), { cert: "C", key: "K", ca: "CA", crl: "L" });
    assert.deepEqual(resolveCredential(store({ ...tls, ca: "CA", crl: "L" }, { name: "gw-cacert", source: "f", ca: "CA2", crl: "L2" }), "gw", both), { cert: "C", key: "K", ca: "CA2", crl: "L2" });
    // A client that only verifies (DestinationRule SIMPLE): the CA alone, from either secret.
    assert.deepEqual(resolveCredential(store({ name: "gw-cacert", source: "f", ca: "CA2" }), "gw", { cert: false, ca: false }), { ca: "CA2" });
    assert.deepEqual(resolveCredential(store({ name: "gw", source: "f", ca: "CA" }), "gw", { cert: false, ca: false }), { ca: "CA" });
  });

  it("what is missing is said", () => {
    assert.equal(resolveCredential(store(), "gw", { cert: true, ca: false }), 'secret "gw" not found');
    assert.equal(resolveCredential(store(), "gw", { cert: false, ca: false }), 'secret "gw" not found (nor "gw-cacert")');
    assert.match(resolveCredential(store({ name: "gw", source: "f.yaml", ca: "CA" }), "gw", { cert: true, ca: false }) as string, /has neither cert and key nor tls\.crt and tls\.key/);
    assert.match(resolveCredential(store(tls), "gw", { cert: true, ca: true }) as string, /no CA certificate .* no secret "gw-cacert"/);
  });
});
