// The control plane serves its API and push stream over TLS only, with a certificate from the
// mesh CA. Tests that call it from their own process (fetch, node:https) trust the mesh root the
// way the CLI and sidecars do, by adding it to this process's default roots; curl gets --cacert.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";

const added = new Set<string>();

/** Trust `pem` (one or more root certificates) for every later TLS connection of this process. */
export function trustMeshRoot(pem: string): void {
  if (pem === "" || added.has(pem)) return;
  added.add(pem);
  setDefaultCACertificates([...getCACertificates("default"), pem]);
}

/** The same, from a file (`.amime/root-cert.pem` of `amime up` / `amime control-plane`). */
export function trustMeshRootFile(file: string): void {
  trustMeshRoot(readFileSync(file, "utf8"));
}

/** A file holding `cp`'s roots, for `amime proxy --root-cert` (its state dir's, else a temp file). */
export function meshRootFile(cp: { rootCertFile: string | null; trustBundle: string }): string {
  if (cp.rootCertFile !== null) return cp.rootCertFile;
  const file = join(tmpdir(), `amime-root-${createHash("sha256").update(cp.trustBundle).digest("hex").slice(0, 16)}.pem`);
  writeFileSync(file, cp.trustBundle);
  return file;
}
