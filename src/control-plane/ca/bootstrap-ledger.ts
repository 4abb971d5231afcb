// BootstrapLedger: which proxy credentials already got their first certificate, and its serial.
// The runtime's credential is a bootstrap credential: good for one certificate; renewals are
// authenticated by the current certificate (docs/security.md, "Renewals"). The only second use
// allowed is after that certificate's serial was revoked (the sidecar replaces it at once).
// Kept in `<ca dir>/bootstrap-spent.json` (0600), so a restart does not make spent credentials
// good again; in memory without a CA dir.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export class BootstrapLedger {
  readonly #file: string | null;
  readonly #spent: Map<string, string>;
  #saving: Promise<void> = Promise.resolve();

  private constructor(file: string | null, spent: Map<string, string>) {
    this.#file = file;
    this.#spent = spent;
  }

  static async load(file: string | null): Promise<BootstrapLedger> {
    if (file === null) return new BootstrapLedger(null, new Map());
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return new BootstrapLedger(file, new Map());
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file} is not valid JSON (${(e as Error).message}); remove it to start a new ledger (every current proxy credential can then get one more certificate)`);
    }
    const entries = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string") : [];
    return new BootstrapLedger(file, new Map(entries));
  }

  /** The serial the credential `jti` got, if it got one. */
  serialOf(jti: string): string | undefined {
    return this.#spent.get(jti);
  }

  async record(jti: string, serial: string): Promise<void> {
    this.#spent.set(jti, serial);
    const file = this.#file;
    if (file === null) return;
    const text = `${JSON.stringify(Object.fromEntries(this.#spent))}\n`;
    // One write at a time, the newest state last.
    this.#saving = this.#saving.then(async () => {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, file);
    });
    await this.#saving;
  }
}
