// Istio's lookup of a `credentialName` among Secrets (pilot/pkg/credentials/kube), apart from the
// YAML parsing (secret.ts) so that a proxy without a secret store never loads the YAML parser.

/** The TLS material one Secret holds (PEM text). */
export interface TlsSecret {
  name: string;
  /** Absent: the file did not say; such a secret is visible from every namespace. */
  namespace?: string;
  /** Where it came from (file, document index), for messages. */
  source: string;
  cert?: string;
  key?: string;
  ca?: string;
  crl?: string;
}

/** What a credential resolves to: the server (or client) certificate, its key, and what verifies peers. */
export interface CredentialMaterial {
  cert: string;
  key: string;
  ca?: string;
  crl?: string;
}

/**
 * Istio's lookup of `credentialName` in a store: cert and key from the named secret; the CA (for
 * MUTUAL) from the same secret, else from `<name>-cacert` (`cacert` or `ca.crt`); the CRL from
 * the secret that gave the CA. Returns a message instead when something needed is missing.
 */
export function resolveCredential(find: (name: string) => TlsSecret | undefined, name: string, needCa: boolean): CredentialMaterial | string {
  const s = find(name);
  if (s === undefined) return `secret "${name}" not found`;
  if (s.cert === undefined || s.key === undefined) return `secret "${name}" (${s.source}) has neither cert and key nor tls.crt and tls.key`;
  const out: CredentialMaterial = { cert: s.cert, key: s.key };
  let caFrom: TlsSecret | undefined = s.ca !== undefined ? s : undefined;
  if (caFrom === undefined) {
    const separate = find(`${name}-cacert`);
    if (separate?.ca !== undefined) caFrom = separate;
  }
  if (caFrom !== undefined) {
    out.ca = caFrom.ca!;
    if (caFrom.crl !== undefined) out.crl = caFrom.crl;
  } else if (s.crl !== undefined) {
    out.crl = s.crl;
  }
  if (needCa && out.ca === undefined) return `secret "${name}" has no CA certificate (cacert or ca.crt) and there is no secret "${name}-cacert" with one`;
  return out;
}
