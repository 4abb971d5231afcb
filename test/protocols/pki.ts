// A throwaway PKI for TLS tests, made by the openssl CLI in a temp dir: a CA, server certificates
// with given DNS SANs, and a client certificate, all signed by the CA; and CRLs of that CA
// (`openssl ca -revoke` / `-gencrl`).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./harness.ts";

export interface Pki {
  dir: string;
  ca: string;
  /** Certificate and key files of a leaf. */
  leaf(name: string): { cert: string; key: string };
  /** Revoke these leaves (adding to those revoked before) and write the CA's CRL (PEM) to `file`. */
  crl(file: string, revoke: string[]): Promise<void>;
  cleanup(): void;
}

async function openssl(args: string[]): Promise<void> {
  const r = await run("openssl", args, "", 20_000);
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}

/** leaves: name → DNS SANs, or `spiffe://…` URI SANs for a mesh workload (empty: a client certificate with CN = name). */
export async function makePki(leaves: Record<string, string[]>): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), "amime-pki-"));
  const p = (f: string): string => join(dir, f);
  await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2", "-subj", "/CN=Amime Test CA"]);
  for (const [name, sans] of Object.entries(leaves)) {
    await openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`), "-subj", `/CN=${name}`]);
    // A SPIFFE id makes a mesh workload certificate (URI SAN, both usages, as Istio's CA issues).
    const mesh = sans.some((s) => s.startsWith("spiffe://"));
    const san = sans.map((s) => (s.startsWith("spiffe://") ? `URI:${s}` : `DNS:${s}`)).join(",");
    const ext = sans.length > 0 ? `subjectAltName=${san}\nextendedKeyUsage=${mesh ? "serverAuth,clientAuth" : "serverAuth"}\n` : "extendedKeyUsage=clientAuth\n";
    writeFileSync(p(`${name}.ext`), ext);
    await openssl(["x509", "-req", "-in", p(`${name}.csr`), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p(`${name}.crt`), "-days", "2", "-extfile", p(`${name}.ext`)]);
  }
  writeFileSync(p("index.txt"), "");
  writeFileSync(p("crlnumber"), "1000\n");
  writeFileSync(p("ca.cnf"), `[ca]\ndefault_ca = amime\n[amime]\ndatabase = ${p("index.txt")}\ncrlnumber = ${p("crlnumber")}\ncertificate = ${p("ca.crt")}\nprivate_key = ${p("ca.key")}\ndefault_md = sha256\ndefault_crl_days = 2\n`);
  return {
    dir,
    ca: p("ca.crt"),
    leaf: (name) => ({ cert: p(`${name}.crt`), key: p(`${name}.key`) }),
    crl: async (file, revoke) => {
      for (const name of revoke) await openssl(["ca", "-config", p("ca.cnf"), "-revoke", p(`${name}.crt`)]);
      await openssl(["ca", "-config", p("ca.cnf"), "-gencrl", "-out", file]);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
