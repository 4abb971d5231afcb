// Workload certificates from a real mesh CA (SigningCA, in memory) for keys made as the sidecar
// makes them, and the MeshCredentials a sidecar holds them in.
import type { SigningCA } from "../../src/control-plane/ca/signing-ca.ts";
import { x509 } from "../../src/core/x509.ts";
import { MeshCredentials } from "../../src/proxy/identity/mesh-credentials.ts";
import type { ActiveCertificate } from "../../src/proxy/identity/workload-certificate.ts";

const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

export async function issue(ca: SigningCA, namespace: string, serviceAccount: string): Promise<ActiveCertificate> {
  const keys = (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: KEY_ALGORITHM });
  const issued = await ca.sign(csr.toString("pem"), { namespace, serviceAccount });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`;
  return { ...issued, keyPem, receivedAt: Date.now() };
}

export function credentials(cert: ActiveCertificate): MeshCredentials {
  const m = new MeshCredentials();
  m.set(cert);
  return m;
}
