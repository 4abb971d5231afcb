// The CA files `amime install` ships in the `cacerts` secret (Istio's plug-in CA layout): the
// user's own (--cacerts DIR, all four files), or a self-signed root made once in
// `<state dir>/cluster-ca` and reused, so the webhooks' caBundle stays the same across installs.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CACERTS_FILES, SigningCA } from "../../control-plane/ca/signing-ca.ts";

export async function clusterCa(o: { cacertsDir?: string; stateDir: string; trustDomain: string }): Promise<Record<string, string>> {
  if (o.cacertsDir !== undefined) {
    // Loading checks the bundle (key matches, chain starts with ca-cert.pem) before it ships.
    await SigningCA.fromCacerts(o.cacertsDir, o.trustDomain);
    return Object.fromEntries(await Promise.all(CACERTS_FILES.map(async (f) => [f, await readFile(join(o.cacertsDir as string, f), "utf8")] as const)));
  }
  const dir = join(o.stateDir, "cluster-ca");
  await SigningCA.selfSigned(dir, o.trustDomain);
  const [cert, key] = await Promise.all([readFile(join(dir, "ca-cert.pem"), "utf8"), readFile(join(dir, "ca-key.pem"), "utf8")]);
  // A self-signed root signs directly: it is its own chain and root.
  return { "ca-cert.pem": cert, "ca-key.pem": key, "root-cert.pem": cert, "cert-chain.pem": cert };
}
