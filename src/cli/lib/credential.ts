// The admin credential the CLI sends (as kubectl finds its kubeconfig): --token-file FILE, else
// $AMIME_TOKEN (the token itself), else $AMIME_TOKEN_FILE, else `admin-token` beside the state file
// the control plane's address came from, else the nearest `.amime/admin-token` from the current
// directory upwards (where `amime up` and `amime control-plane` write it). See docs/cli.md.
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ControlPlaneAddressError, type ControlPlaneAddress } from "./control-plane-address.ts";

export const TOKEN_ENV = "AMIME_TOKEN";
export const TOKEN_FILE_ENV = "AMIME_TOKEN_FILE";
export const ADMIN_TOKEN_FILE = "admin-token";

export interface Credential {
  token: string;
  /** Where it was found, for error messages. */
  from: string;
}

export async function discoverCredential(opts: { flag?: string; env?: NodeJS.ProcessEnv; cwd?: string; address?: ControlPlaneAddress }): Promise<Credential | undefined> {
  const env = opts.env ?? process.env;
  if (opts.flag !== undefined) return { token: await readToken(opts.flag, true), from: opts.flag };
  const inline = env[TOKEN_ENV];
  if (inline) return { token: inline.trim(), from: `$${TOKEN_ENV}` };
  const file = env[TOKEN_FILE_ENV];
  if (file) return { token: await readToken(file, true), from: file };
  const from = opts.address?.from;
  if (from !== undefined && basename(dirname(from)) === ".amime") {
    const beside = join(dirname(from), ADMIN_TOKEN_FILE);
    const token = await readToken(beside, false);
    if (token) return { token, from: beside };
  }
  let dir = resolve(opts.cwd ?? process.cwd());
  for (;;) {
    const candidate = join(dir, ".amime", ADMIN_TOKEN_FILE);
    const token = await readToken(candidate, false);
    if (token) return { token, from: candidate };
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The trimmed content; "" for a missing file unless `required`. */
async function readToken(path: string, required: boolean): Promise<string> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!required && (code === "ENOENT" || code === "ENOTDIR")) return "";
    throw new ControlPlaneAddressError("AMIME_BAD_CONTROL_PLANE", `cannot read the credential ${path}: ${(e as Error).message}`);
  }
}
