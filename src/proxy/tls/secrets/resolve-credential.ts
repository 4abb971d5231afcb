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

/** What a credential resolves to: a certificate and its key (absent when only a CA was needed), and what verifies peers. */
export interface CredentialMaterial {
  cert?: string;
  key?: string;
  ca?: string;
  crl?: string;
}

/**
 * Istio's lookup of `credentialName` in a store (pilot/pkg/credentials/kube GetCertInfo,
 * GetCaCert): cert and key from the named secret; the CA from the secret `<name>-cacert` when it
 * has one, else from the named secret (`cacert` or `ca.crt`); the CRL from the secret that gave
 * the CA. `need.cert`: servers and MUTUAL clients; `need.ca`: MUTUAL servers. Returns a message
 * instead when something needed is missing.
 */
export function resolveCredential(find: (name: string) => TlsSecret | undefined, name: string, need: { cert: boolean; ca: boolean }): CredentialMaterial | string {
  const s = find(name);
  const separate = find(`${name}-cacert`);
  const caFrom = separate?.ca !== undefined ? separate : s?.ca !== undefined ? s : undefined;
  const out: CredentialMaterial = {};
  if (need.cert) {
    if (s === undefined) return `secret "${name}" not found`;
    if (s.cert === undefined || s.key === undefined) return `secret "${name}" (${s.source}) has neither cert and key nor tls.crt and tls.key`;
    out.cert = s.cert;
    out.key = s.key;
  } else if (s === undefined && separate === undefined) {
    return `secret "${name}" not found (nor "${name}-cacert")`;
  }
  if (caFrom !== undefined) {
    out.ca = caFrom.ca!;
    if (caFrom.crl !== undefined) out.crl = caFrom.crl;
  } else if (s?.crl !== undefined) {
    out.crl = s.crl;
  }
  if (need.ca && out.ca === undefined) return `secret "${name}" has no CA certificate (cacert or ca.crt) and there is no secret "${name}-cacert" with one`;
  return out;
}
