// BootstrapLedger: which proxy credentials already got their first certificate, its serial, and
// (until it expires) that certificate with the SHA-256 of the request's CSR, so the same request
// again, after a restart too, gets the same certificate (bootstrap-answer.ts). The runtime's
// credential is a bootstrap credential: good for one certificate; renewals are authenticated by
// the current certificate (docs/security.md, "Renewals"). The only second use allowed is after
// that certificate's serial was revoked (the sidecar replaces it at once); its record is then
// replaced. Kept in `<ca dir>/bootstrap-spent.json` (0600, written whole and renamed), so a restart
// does not make spent credentials good again; in memory without a CA dir.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { answerLive, bareSerial, readBootstrapAnswer } from "./bootstrap-answer.ts";
import type { BootstrapAnswer, SpentCredential } from "./shared-ledger.ts";

/** One credential's record: its serial, and the answer while the certificate is good. */
interface Spent {
  serial: string;
  answer?: BootstrapAnswer;
}

export class BootstrapLedger {
  readonly #file: string | null;
  readonly #spent: Map<string, Spent>;
  #saving: Promise<void> = Promise.resolve();

  private constructor(file: string | null, spent: Map<string, Spent>) {
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
    const fix = "fix or remove it (without it, every current proxy credential can get one more certificate)";
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file} is not valid JSON (${(e as Error).message}); ${fix}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`${file} must hold an object {credential id: record}; ${fix}`);
    const spent = new Map<string, Spent>();
    for (const [jti, v] of Object.entries(parsed)) {
      try {
        spent.set(jti, readSpent(v, JSON.stringify(jti)));
      } catch (e) {
        throw new Error(`${file}: ${(e as Error).message}; ${fix}`);
      }
    }
    return new BootstrapLedger(file, spent);
  }

  /** The record of the credential `jti`, if it got a certificate. */
  spent(jti: string): SpentCredential | undefined {
    const s = this.#spent.get(jti);
    return s === undefined ? undefined : { ...s, revision: 0 };
  }

  /** The certificate `jti` got (replacing its record); answers whose certificate expired by `now` are dropped. */
  async record(jti: string, answer: BootstrapAnswer, now: number): Promise<void> {
    this.#spent.set(jti, { serial: bareSerial(answer.certificate.serial), answer });
    for (const [id, s] of this.#spent) if (s.answer !== undefined && !answerLive(s.answer, now)) this.#spent.set(id, { serial: s.serial });
    const file = this.#file;
    if (file === null) return;
    // A credential without a live answer is its bare serial (the file's first format).
    const text = `${JSON.stringify(Object.fromEntries([...this.#spent].map(([id, s]) => [id, s.answer === undefined ? s.serial : { serial: s.serial, ...s.answer }])))}\n`;
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

/** A record as kept: a serial, or {serial, csrSha256, certificate}. */
function readSpent(v: unknown, where: string): Spent {
  if (typeof v === "string") return { serial: v };
  const serial = (v as { serial?: unknown } | null)?.serial;
  if (typeof serial !== "string") throw new Error(`${where} must be a serial or {serial, csrSha256, certificate}`);
  return { serial, answer: readBootstrapAnswer(v, where) };
}
