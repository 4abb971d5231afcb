// SharedCaLedger: what the CA records where every control-plane replica sees it (etcd, with
// `--store`; src/control-plane/store/etcd/ca-ledger.ts). Without one, a replica keeps the spent
// bootstrap credentials in `<ca dir>/bootstrap-spent.json` and the node of each serial in memory.
import type { CertificateResponse } from "../../model/wire.ts";

/** The certificate a request got, without the trust bundle (the CA's current roots go with an answer). */
export type IssuedCertificate = Omit<CertificateResponse, "trustBundle">;

/**
 * What lets any replica, or a restarted CA, answer a bootstrap request again whose answer was lost:
 * the request (SHA-256 of its CSR, DER) and the certificate it got. Public data: the key stays with
 * the proxy.
 */
export interface BootstrapAnswer {
  csrSha256: string;
  certificate: IssuedCertificate;
}

/** A bootstrap credential's certificate as recorded, with the revision to compare against. */
export interface SpentCredential {
  serial: string;
  revision: number;
  /** Until that certificate expires. */
  answer?: BootstrapAnswer;
}

export interface SharedCaLedger {
  /** The certificate the credential `jti` got, if it got one. */
  spent(jti: string): Promise<SpentCredential | undefined>;
  /**
   * Record `answer` (its certificate's serial) for `jti` if the record is still `previous` (none: not
   * yet spent); false when another replica was first.
   */
  claim(jti: string, answer: BootstrapAnswer, node: string, previous: SpentCredential | undefined): Promise<boolean>;
  /** Remember whose certificate `serial` is and which root (fingerprint) it chains to, until it expires. */
  noteSerial(serial: string, node: string, notAfter: Date, root: string): Promise<void>;
  nodeOf(serial: string): Promise<string | undefined>;
  /** The root of the certificate `node` last got, at any replica (a root rotation waits on it). */
  rootOf(node: string): Promise<string | undefined>;
}
