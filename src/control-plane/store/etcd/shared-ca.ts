// The mesh CA's self-signed root shared through etcd (`--store-key-file FILE`), so replicas on
// different state dirs sign with one root and trust each other's certificates. The root's key and
// certificate are stored at `<prefix>ca`, encrypted with AES-256-GCM under SHA-256 of the key
// file's content (the key name is the additional data, so the value cannot be moved to another
// key). Before a replica loads its CA: etcd holds one → it is written into the replica's CA dir
// (replacing a different local root, logged); none yet → the local root (made if needed) is stored,
// create-only, and a replica that lost that race takes the winner's.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SigningCA } from "../../ca/signing-ca.ts";
import type { EtcdStore } from "./etcd-store.ts";

const FORMAT = "amime.io/shared-ca/v1";

/** The shared root cannot be used (layer: control plane store). */
export class SharedCaError extends Error {
  readonly code = "CP_SHARED_CA";
  constructor(message: string) {
    super(message);
    this.name = "SharedCaError";
  }
}

interface Sealed {
  format: string;
  iv: string;
  tag: string;
  data: string;
}

/** Key material: SHA-256 of the key file (at least 32 bytes, so it is a secret rather than a word). */
export async function storeKey(file: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (e) {
    throw new SharedCaError(`--store-key-file ${file}: ${(e as Error).message}`);
  }
  if (raw.length < 32) throw new SharedCaError(`--store-key-file ${file}: holds ${raw.length} bytes; it needs at least 32 random bytes (e.g. head -c 32 /dev/urandom > ${file})`);
  return createHash("sha256").update(raw).digest();
}

export function seal(key: Buffer, name: string, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from(name));
  const data = Buffer.concat([c.update(plain, "utf8"), c.final()]);
  return JSON.stringify({ format: FORMAT, iv: iv.toString("base64"), tag: c.getAuthTag().toString("base64"), data: data.toString("base64") } satisfies Sealed);
}

export function unseal(key: Buffer, name: string, sealed: string): string {
  let v: Sealed;
  try {
    v = JSON.parse(sealed) as Sealed;
  } catch {
    throw new SharedCaError(`etcd key ${name} does not hold a sealed CA`);
  }
  if (v.format !== FORMAT) throw new SharedCaError(`etcd key ${name}: unknown format ${JSON.stringify(v.format)}`);
  try {
    const d = createDecipheriv("aes-256-gcm", key, Buffer.from(v.iv, "base64"));
    d.setAAD(Buffer.from(name));
    d.setAuthTag(Buffer.from(v.tag, "base64"));
    return Buffer.concat([d.update(Buffer.from(v.data, "base64")), d.final()]).toString("utf8");
  } catch {
    throw new SharedCaError(`cannot decrypt the CA root in etcd key ${name} with --store-key-file: a different key than the replicas that stored it?`);
  }
}

/** Make `caDir` hold the root every replica shares (see the header). */
export async function shareCaRoot(etcd: EtcdStore, caDir: string, keyFile: string, trustDomain: string, log: (line: string) => void): Promise<void> {
  const key = await storeKey(keyFile);
  const name = etcd.caKey;
  let stored = await etcd.getValue(name);
  if (stored === null) {
    await SigningCA.selfSigned(caDir, trustDomain);
    const local = JSON.stringify({ key: await readFile(join(caDir, "ca-key.pem"), "utf8"), cert: await readFile(join(caDir, "ca-cert.pem"), "utf8") });
    if (await etcd.createValue(name, seal(key, name, local))) {
      log(`CA root stored in etcd (${name}, encrypted with --store-key-file): every replica signs with it`);
      return;
    }
    stored = await etcd.getValue(name);
    if (stored === null) throw new SharedCaError(`etcd key ${name} vanished while this replica was storing its CA root; start again`);
  }
  const { key: keyPem, cert } = JSON.parse(unseal(key, name, stored)) as { key: string; cert: string };
  const before = await readFile(join(caDir, "ca-cert.pem"), "utf8").catch(() => null);
  await mkdir(caDir, { recursive: true, mode: 0o700 });
  await writeFile(join(caDir, "ca-key.pem"), keyPem, { mode: 0o600 });
  await writeFile(join(caDir, "ca-cert.pem"), cert);
  await writeFile(join(caDir, "root-cert.pem"), cert);
  if (before !== null && before !== cert) log(`CA root: this state dir's own root was replaced by the one shared in etcd (${name})`);
  else log(`CA root taken from etcd (${name})`);
}
