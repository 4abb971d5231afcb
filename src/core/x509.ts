// The one place @peculiar/x509 is set up: its dependency-injection container needs
// reflect-metadata loaded first, and it signs and verifies through Node's WebCrypto. The mesh CA
// (control plane) and the workload identity client (sidecar) both import x509 from here.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

/** Istio's SPIFFE identity of a workload: `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** Every PEM block of one kind in `text`, in order (certificate chains, root bundles). */
export function pemBlocks(text: string, label = "CERTIFICATE"): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, "g");
  return [...text.matchAll(re)].map((m) => `${m[0]}\n`);
}

/** A PKCS#8 private key (DER) as PEM. */
export function pkcs8Pem(der: Uint8Array): string {
  return `-----BEGIN PRIVATE KEY-----\n${Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`;
}
