// The one place @peculiar/x509 is set up: its dependency-injection container needs
// reflect-metadata loaded first, and it signs and verifies through Node's WebCrypto. The mesh CA
// (control plane) imports x509 from here; the sidecar does not load it (src/proxy/identity/csr.ts).
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { pem } from "./pem.ts";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

/** Istio's SPIFFE identity of a workload: `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** A PKCS#8 private key (DER) as PEM. */
export function pkcs8Pem(der: Uint8Array): string {
  return pem("PRIVATE KEY", der);
}
