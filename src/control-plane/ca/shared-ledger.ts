// SharedCaLedger: what the CA records where every control-plane replica sees it (etcd, with
// `--store`; src/control-plane/store/etcd/ca-ledger.ts). Without one, a replica keeps the spent
// bootstrap credentials in `<ca dir>/bootstrap-spent.json` and the node of each serial in memory.

/** A bootstrap credential's certificate as recorded, with the revision to compare against. */
export interface SpentCredential {
  serial: string;
  revision: number;
}

export interface SharedCaLedger {
  /** The certificate the credential `jti` got, if it got one. */
  spent(jti: string): Promise<SpentCredential | undefined>;
  /** Record `serial` for `jti` if the record is still `previous` (none: not yet spent); false when another replica was first. */
  claim(jti: string, serial: string, node: string, previous: SpentCredential | undefined): Promise<boolean>;
  /** Remember whose certificate `serial` is and which root (fingerprint) it chains to, until it expires. */
  noteSerial(serial: string, node: string, notAfter: Date, root: string): Promise<void>;
  nodeOf(serial: string): Promise<string | undefined>;
  /** The root of the certificate `node` last got, at any replica (a root rotation waits on it). */
  rootOf(node: string): Promise<string | undefined>;
}
