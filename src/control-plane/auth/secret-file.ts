// Secret files in the mesh's state dir (token key, admin token; later the CA key): created once
// with mode 0600 and reused on later starts, as ssh and kubectl treat their keys. A file others
// can read is refused rather than trusted.
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";

export class SecretFileError extends Error {
  readonly code = "CP_SECRET_FILE";
}

/** The file's content; when it does not exist yet, `make()` is written to it (0600, exclusively). */
export async function loadOrCreateSecret(path: string, make: () => string | Buffer): Promise<Buffer> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    const fh = await open(path, "wx", 0o600);
    const content = make();
    try {
      await fh.writeFile(content);
    } finally {
      await fh.close();
    }
    return Buffer.from(content);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new SecretFileError(`cannot create ${path}: ${(e as Error).message}`);
  }
  return readSecret(path);
}

/** Read a secret file, refusing one that group or others may read or write. */
export async function readSecret(path: string): Promise<Buffer> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (e) {
    throw new SecretFileError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new SecretFileError(`${path} is accessible by others (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${path}\` or remove it`);
  }
  return readFile(path);
}
