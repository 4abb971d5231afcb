// The mesh root the CLI verifies the control plane's certificate with (as kubectl reads the
// cluster's CA from its kubeconfig): $AMIME_ROOT_CERT (a file), else `root-cert.pem` beside the
// admin credential file, else beside the state file the address came from, else the nearest
// `.amime/root-cert.pem` from the current directory upwards (where `amime up` and
// `amime control-plane` write it next to `admin-token`). See docs/cli.md.
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ControlPlaneAddressError, type ControlPlaneAddress } from "./control-plane-address.ts";
import type { Credential } from "./credential.ts";

export const ROOT_CERT_ENV = "AMIME_ROOT_CERT";
export const ROOT_CERT_FILE = "root-cert.pem";

export interface RootCert {
  pem: string;
  /** The file it was read from, for error messages. */
  from: string;
}

export async function discoverRootCert(opts: { env?: NodeJS.ProcessEnv; cwd?: string; address?: ControlPlaneAddress; credential?: Credential }): Promise<RootCert | undefined> {
  const env = opts.env ?? process.env;
  const file = env[ROOT_CERT_ENV];
  if (file) return { pem: await read(file, true), from: file };
  const beside = [opts.credential?.from, opts.address?.from].filter((f): f is string => f !== undefined && !f.startsWith("$") && !f.startsWith("--"));
  for (const f of beside) {
    const candidate = join(dirname(resolve(f)), ROOT_CERT_FILE);
    const pem = await read(candidate, false);
    if (pem) return { pem, from: candidate };
  }
  let dir = resolve(opts.cwd ?? process.cwd());
  for (;;) {
    const candidate = join(dir, ".amime", ROOT_CERT_FILE);
    const pem = await read(candidate, false);
    if (pem) return { pem, from: candidate };
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function read(path: string, required: boolean): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!required && (code === "ENOENT" || code === "ENOTDIR")) return "";
    throw new ControlPlaneAddressError("AMIME_BAD_CONTROL_PLANE", `cannot read the mesh root ${path}: ${(e as Error).message}`);
  }
}
