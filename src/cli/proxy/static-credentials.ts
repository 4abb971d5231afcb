// \`amime proxy --config FILE --cert FILE --key FILE --root-cert FILE\`: the workload certificate of a
// proxy that has no CA to ask, read from files.
import type { X509Certificate } from "node:crypto";
import { cryptoModule, fs } from "../../core/builtins.ts";
import { MeshCredentials } from "../../proxy/identity/mesh-credentials.ts";

/**
 * --cert/--key/--root-cert: a workload certificate from files, as MeshCredentials. The leaf must
 * carry a URI SAN (the SPIFFE id peers see) and match the key; errors name the file.
 */
export async function staticCredentials(certFile: string, keyFile: string, rootFile: string): Promise<MeshCredentials> {
  // Read synchronously at start, as --xds reads its root (from-control-plane.ts): fs.readFile would
  // load internal/fs/read/context into the sidecar for good.
  const read = (flag: string, file: string): string => {
    try {
      return fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new Error(`cannot read ${flag} ${file}: ${(e as Error).message}`);
    }
  };
  const pems = (flag: string, file: string, text: string): string[] => {
    const found = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
    if (found.length === 0) throw new Error(`${flag} ${file}: no PEM certificate in it`);
    return found.map((p) => (p.endsWith("\n") ? p : `${p}\n`));
  };
  const [chainText, keyPem, rootText] = [read("--cert", certFile), read("--key", keyFile), read("--root-cert", rootFile)];
  const chain = pems("--cert", certFile, chainText);
  const roots = pems("--root-cert", rootFile, rootText);
  const { createPrivateKey, X509Certificate } = cryptoModule();
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(chain[0] as string);
  } catch (e) {
    throw new Error(`--cert ${certFile}: ${(e as Error).message}`);
  }
  const identity = /(?:^|, )URI:([^,]+)/.exec(leaf.subjectAltName ?? "")?.[1];
  if (identity === undefined) throw new Error(`--cert ${certFile}: the certificate has no URI SAN (a SPIFFE id such as spiffe://cluster.local/ns/default/sa/default)`);
  let matches: boolean;
  try {
    matches = leaf.checkPrivateKey(createPrivateKey(keyPem));
  } catch (e) {
    throw new Error(`--key ${keyFile}: ${(e as Error).message}`);
  }
  if (!matches) throw new Error(`--key ${keyFile}: not the private key of --cert ${certFile}`);
  const mesh = new MeshCredentials();
  mesh.set({
    identity,
    serial: leaf.serialNumber.toLowerCase(),
    notBefore: new Date(leaf.validFrom).toISOString(),
    notAfter: new Date(leaf.validTo).toISOString(),
    certChain: chain,
    trustBundle: roots,
    keyPem,
    receivedAt: Date.now(),
  });
  return mesh;
}
