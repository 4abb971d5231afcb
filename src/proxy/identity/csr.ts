// A PKCS#10 certificate request (RFC 2986) for a new ECDSA P-256 key, written with node:crypto
// alone: the request the workload certificate client sends is fixed (empty subject, no
// attributes: the CA names the workload from its proven identity, as Istio's does from the
// caller), so its DER is a few nested headers around the key's SubjectPublicKeyInfo and the
// signature. @peculiar/x509 (with reflect-metadata and its ASN.1 libraries) did this before and
// put ≈ 4 MB of heap into every pushed sidecar (docs/performance.md, "Session 9: the 1,000-service
// start"); it stays in the control plane's CA.
import type { KeyObject } from "node:crypto";
import { cryptoModule } from "../../core/builtins.ts";
import { pem } from "../../core/pem.ts";

/** ecdsa-with-SHA256 (1.2.840.10045.4.3.2), AlgorithmIdentifier without parameters (RFC 5758 §3.2). */
const ECDSA_WITH_SHA256 = Buffer.from("300a06082a8648ce3d040302", "hex");
/** version 0, subject: an empty Name. */
const VERSION_AND_SUBJECT = Buffer.from("0201003000", "hex");
/** attributes [0] IMPLICIT SET OF Attribute: none. */
const NO_ATTRIBUTES = Buffer.from("a000", "hex");

export interface KeyAndRequest {
  /** The private key, PKCS#8 PEM. */
  keyPem: string;
  /** The certificate request, PEM. */
  csrPem: string;
}

/** A new ECDSA P-256 key (Istio's ECC_SIGNATURE_ALGORITHM=ECDSA) and a CSR signed with it. */
export async function newKeyAndRequest(): Promise<KeyAndRequest> {
  const { privateKey, publicKey } = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>((resolve, reject) =>
    cryptoModule().generateKeyPair("ec", { namedCurve: "P-256" }, (e, publicKey, privateKey) => (e ? reject(e) : resolve({ publicKey, privateKey }))),
  );
  const info = der(0x30, Buffer.concat([VERSION_AND_SUBJECT, publicKey.export({ type: "spki", format: "der" }), NO_ATTRIBUTES]));
  const signature = cryptoModule().createSign("sha256").update(info).sign({ key: privateKey, dsaEncoding: "der" });
  const csr = der(0x30, Buffer.concat([info, ECDSA_WITH_SHA256, der(0x03, Buffer.concat([Buffer.of(0), signature]))]));
  return { keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string, csrPem: pem("CERTIFICATE REQUEST", csr) };
}

/** One DER TLV (definite length, short or long form). */
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let head: Buffer;
  if (n < 0x80) head = Buffer.of(tag, n);
  else if (n < 0x100) head = Buffer.of(tag, 0x81, n);
  else if (n < 0x10000) head = Buffer.of(tag, 0x82, n >> 8, n & 0xff);
  else throw new RangeError(`DER content of ${n} bytes`);
  return Buffer.concat([head, content]);
}
