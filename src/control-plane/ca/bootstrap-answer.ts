// A bootstrap request answered again: a proxy whose first answer was lost (it gave up after 10 s
// while the CA issued) retries with the same key and CSR, and gets the certificate it was issued,
// not a second one (its credential is good for one). What the CA keeps for that, with the spent
// mark (file or etcd), is a BootstrapAnswer: any replica, or the CA after a restart, can answer.
import { createHash, X509Certificate } from "node:crypto";
import { x509 } from "../../core/x509.ts";
import type { CertificateResponse } from "../../model/wire.ts";
import type { BootstrapAnswer, SpentCredential } from "./shared-ledger.ts";

/** What to keep of the answer `response` to the request `csrPem`. */
export function bootstrapAnswer(csrPem: string, response: CertificateResponse): BootstrapAnswer {
  const { trustBundle: _roots, ...certificate } = response;
  // The CA signed this CSR: it parses.
  return { csrSha256: csrSha256(csrPem) as string, certificate };
}

/**
 * The certificate `spent` recorded, for the same request again: a byte-identical CSR, the
 * certificate not expired at `now` and still chaining to one of `roots` (the caller checked the
 * deny list). Null otherwise: the credential is spent.
 */
export function answerAgain(spent: SpentCredential, csrPem: string, now: number, roots: readonly string[]): CertificateResponse | null {
  const answer = spent.answer;
  if (answer === undefined || bareSerial(answer.certificate.serial) !== bareSerial(spent.serial)) return null;
  if (csrSha256(csrPem) !== answer.csrSha256 || !(Date.parse(answer.certificate.notAfter) > now)) return null;
  if (!chainsTo(answer.certificate.certChain, roots)) return null;
  return { ...answer.certificate, trustBundle: [...roots] };
}

/** Whether the chain ends with one of `roots` or with a certificate one of them issued (a plug-in chain may stop below its root). */
function chainsTo(chain: readonly string[], roots: readonly string[]): boolean {
  try {
    const last = new X509Certificate(chain.at(-1) as string);
    return roots.some((pem) => {
      const root = new X509Certificate(pem);
      return root.fingerprint256 === last.fingerprint256 || (last.checkIssued(root) && last.verify(root.publicKey));
    });
  } catch {
    return false;
  }
}

/** Whether `answer`'s certificate is still good at `now` (what is kept is dropped once it is not). */
export function answerLive(answer: BootstrapAnswer, now: number): boolean {
  return Date.parse(answer.certificate.notAfter) > now;
}

/** Check a BootstrapAnswer read back from a file or etcd; the error names `where` and the field. */
export function readBootstrapAnswer(value: unknown, where: string): BootstrapAnswer {
  const bad = (field: string, what: string): Error => new Error(`${where}.${field} must be ${what}`);
  const v = value as Partial<BootstrapAnswer> | null;
  if (typeof v !== "object" || v === null) throw new Error(`${where} must be an object {csrSha256, certificate}`);
  if (typeof v.csrSha256 !== "string" || !/^[0-9a-f]{64}$/.test(v.csrSha256)) throw bad("csrSha256", "64 lower-case hex digits (SHA-256 of the CSR)");
  const c = v.certificate as Partial<BootstrapAnswer["certificate"]> | null | undefined;
  if (typeof c !== "object" || c === null) throw bad("certificate", "an object {identity, serial, notBefore, notAfter, certChain}");
  for (const f of ["identity", "serial", "notBefore", "notAfter"] as const) if (typeof c[f] !== "string") throw bad(`certificate.${f}`, "a string");
  if (Number.isNaN(Date.parse(c.notAfter as string))) throw bad("certificate.notAfter", "a date");
  if (!Array.isArray(c.certChain) || c.certChain.length === 0 || !c.certChain.every((p) => typeof p === "string" && p.includes("-----BEGIN CERTIFICATE-----"))) {
    throw bad("certificate.certChain", "a non-empty list of PEM certificates");
  }
  return { csrSha256: v.csrSha256, certificate: { identity: c.identity as string, serial: c.serial as string, notBefore: c.notBefore as string, notAfter: c.notAfter as string, certChain: c.certChain } };
}

/** SHA-256 (hex) of a PEM CSR's DER; null when it is not one. */
function csrSha256(csrPem: string): string | null {
  try {
    return createHash("sha256").update(Buffer.from(new x509.Pkcs10CertificateRequest(csrPem).rawData)).digest("hex");
  } catch {
    return null;
  }
}

/** Lower-case hex without leading zeros, as a renewal's principal names a serial. */
export function bareSerial(s: string): string {
  return s.toLowerCase().replace(/^0+(?=.)/, "");
}
