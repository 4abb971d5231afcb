// TLS to etcd (`--store etcds://…`): the CA that signed the members' serving certificates
// (`--store-cacert`; default: the system's roots) and, for members run with
// `--client-cert-auth`, this replica's client certificate and key (`--store-cert`, `--store-key`).
// etcdctl's --cacert/--cert/--key, prefixed. Each file is read and parsed at start, so a missing
// or wrong file stops the control plane naming the flag and the file, before any connection.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { EtcdStoreUrl } from "./store-url.ts";

/** The TLS files to reach etcd with: paths as given. */
export interface EtcdTlsFiles {
  cacert?: string;
  cert?: string;
  key?: string;
}

/** What the etcd client (gRPC) takes; absent fields fall back to the system's roots / no client certificate. */
export interface EtcdCredentials {
  rootCertificate?: Buffer;
  certChain?: Buffer;
  privateKey?: Buffer;
}

/** A TLS file for etcd cannot be used (layer: control plane store). */
export class EtcdTlsError extends Error {
  readonly code = "CP_STORE_TLS";
  constructor(message: string) {
    super(message);
    this.name = "EtcdTlsError";
  }
}

/** Why `files` do not fit `url` (null: they do). */
export function etcdTlsProblem(url: EtcdStoreUrl, files: EtcdTlsFiles): string | null {
  const given = (["cacert", "cert", "key"] as const).filter((k) => files[k] !== undefined);
  if (!url.tls && given.length > 0) return `--store-${given[0]} needs a TLS store: etcds://… (${url.text} is plaintext)`;
  if ((files.cert === undefined) !== (files.key === undefined)) return files.cert === undefined ? "--store-key needs --store-cert (the client certificate it belongs to)" : "--store-cert needs --store-key (its private key)";
  return null;
}

/** Read and check the files (undefined: plaintext etcd). */
export async function loadEtcdCredentials(url: EtcdStoreUrl, files: EtcdTlsFiles): Promise<EtcdCredentials | undefined> {
  const problem = etcdTlsProblem(url, files);
  if (problem !== null) throw new EtcdTlsError(problem);
  if (!url.tls) return undefined;
  const out: EtcdCredentials = {};
  if (files.cacert !== undefined) out.rootCertificate = await readPem("--store-cacert", files.cacert, (b) => new X509Certificate(b));
  if (files.cert !== undefined) out.certChain = await readPem("--store-cert", files.cert, (b) => new X509Certificate(b));
  if (files.key !== undefined) out.privateKey = await readPem("--store-key", files.key, (b) => createPrivateKey(b));
  return out;
}

async function readPem(flag: string, file: string, parse: (b: Buffer) => unknown): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (e) {
    throw new EtcdTlsError(`${flag} ${file}: ${(e as Error).message}`);
  }
  try {
    parse(raw);
  } catch (e) {
    throw new EtcdTlsError(`${flag} ${file}: not a PEM ${flag === "--store-key" ? "private key" : "certificate"} (${(e as Error).message})`);
  }
  return raw;
}
