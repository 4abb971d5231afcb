// Kubernetes Secrets as Istio reads them for `credentialName` (pilot/pkg/credentials/kube):
// a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, optional `ca.crt`, `ca.crl`) or Istio's
// generic form (`cert`, `key`, optional `cacert`, `crl`); values base64 in `data`, or plain text
// in `stringData` (which wins, as the API server merges it). Pure: text in, secrets out.
import { parseAllDocuments } from "yaml";
import type { TlsSecret } from "./resolve-credential.ts";

export type { TlsSecret };

export class SecretParseError extends Error {
  readonly code = "SECRET_PARSE";
  constructor(message: string) {
    super(message);
    this.name = "SecretParseError";
  }
}

/** Istio's key names, generic form first (extractCertAndKey / extractRoot / extractCRL). */
const CERT_KEYS = [["cert", "key"], ["tls.crt", "tls.key"]] as const;
const CA_KEYS = ["cacert", "ca.crt"] as const;
const CRL_KEYS = ["crl", "ca.crl"] as const;

/**
 * Every Secret in a YAML or JSON file (documents of other kinds are skipped). A document that is a
 * Secret but malformed (no name, data not base64 text) throws with the file and document number.
 */
export function parseSecrets(text: string, file: string): TlsSecret[] {
  const out: TlsSecret[] = [];
  const docs = parseAllDocuments(text);
  docs.forEach((doc, i) => {
    const at = docs.length > 1 ? `${file} (document ${i + 1})` : file;
    if (doc.errors.length > 0) throw new SecretParseError(`${at}: ${doc.errors[0]!.message}`);
    const body: unknown = doc.toJS();
    if (!isObject(body) || body.kind !== "Secret") return;
    out.push(secretOf(body, at));
  });
  return out;
}

function secretOf(body: Record<string, unknown>, at: string): TlsSecret {
  const meta = isObject(body.metadata) ? body.metadata : {};
  const name = meta.name;
  if (typeof name !== "string" || name === "") throw new SecretParseError(`${at}: metadata.name: a Secret needs a name`);
  const values = new Map<string, string>();
  if (body.data !== undefined && body.data !== null) {
    if (!isObject(body.data)) throw new SecretParseError(`${at}: data: must be a map of base64 values`);
    for (const [k, v] of Object.entries(body.data)) {
      if (typeof v !== "string" || !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v)) throw new SecretParseError(`${at}: data.${k}: must be base64 text`);
      values.set(k, Buffer.from(v, "base64").toString("utf8"));
    }
  }
  if (body.stringData !== undefined && body.stringData !== null) {
    if (!isObject(body.stringData)) throw new SecretParseError(`${at}: stringData: must be a map of strings`);
    for (const [k, v] of Object.entries(body.stringData)) {
      if (typeof v !== "string") throw new SecretParseError(`${at}: stringData.${k}: must be a string`);
      values.set(k, v);
    }
  }
  const secret: TlsSecret = { name, source: at };
  if (typeof meta.namespace === "string" && meta.namespace !== "") secret.namespace = meta.namespace;
  const pair = CERT_KEYS.find(([c, k]) => values.has(c) && values.has(k));
  if (pair !== undefined) {
    secret.cert = values.get(pair[0])!;
    secret.key = values.get(pair[1])!;
  }
  const ca = CA_KEYS.find((k) => values.has(k));
  if (ca !== undefined) secret.ca = values.get(ca)!;
  const crl = CRL_KEYS.find((k) => values.has(k));
  if (crl !== undefined) secret.crl = values.get(crl)!;
  return secret;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
