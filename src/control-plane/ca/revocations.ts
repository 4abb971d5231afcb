// RevocationList: certificates (by serial) and identities (by SPIFFE ID) the mesh CA no longer
// vouches for. A revoked identity gets no new certificate until it is un-revoked; the list is
// pushed to every proxy in its config (ProxyConfig.revocations). Kept in `<state dir>/ca/revoked.json`
// when there is a state dir, so a restart does not forget it; with a shared store (etcd), also
// there, so every control-plane replica denies the same certificates (`shareWith`, `adopt`).
import { readFile, rename, writeFile } from "node:fs/promises";
import type { Revocation } from "../../model/wire.ts";

/** Istio's SPIFFE ID shape: exactly `spiffe://<td>/ns/<ns>/sa/<sa>`. */
export const SPIFFE_ID = /^spiffe:\/\/[^/\s]+\/ns\/[^/\s]+\/sa\/[^/\s]+$/;

export class RevocationError extends Error {
  readonly status = 400;
}

export class RevocationList {
  readonly #file: string | null;
  #entries: Revocation[] = [];
  /** The shared store's write (etcd); a change is made only once it is there. */
  #share: ((entries: readonly Revocation[]) => Promise<void>) | null = null;

  private constructor(file: string | null) {
    this.#file = file;
  }

  static async load(file: string | null): Promise<RevocationList> {
    const list = new RevocationList(file);
    if (file === null) return list;
    try {
      const parsed = JSON.parse(await readFile(file, "utf8")) as unknown;
      if (Array.isArray(parsed)) list.#entries = parsed.filter((e): e is Revocation => typeof e === "object" && e !== null && (typeof (e as Revocation).serial === "string" || typeof (e as Revocation).identity === "string"));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read the revocation list ${file}: ${(e as Error).message}`);
    }
    return list;
  }

  entries(): readonly Revocation[] {
    return this.#entries;
  }

  identityRevoked(identity: string): boolean {
    return this.#entries.some((e) => e.identity === identity);
  }

  /** A serial in any case, with or without colons and leading zeros. */
  serialRevoked(serial: string): boolean {
    const want = bareSerial(serial);
    return this.#entries.some((e) => e.serial !== undefined && bareSerial(e.serial) === want);
  }

  /** What proxies get: serials (lower-case hex) and identities. */
  denyList(): { serials: string[]; identities: string[] } {
    return {
      serials: this.#entries.flatMap((e) => (e.serial ? [e.serial] : [])),
      identities: this.#entries.flatMap((e) => (e.identity ? [e.identity] : [])),
    };
  }

  /** Add one entry; false when it was already there. */
  async add(target: { serial?: string; identity?: string }, by: string, at: Date): Promise<boolean> {
    const key = normalize(target);
    if (this.#entries.some((e) => same(e, key))) return false;
    await this.#change([...this.#entries, { ...key, by, at: at.toISOString() }]);
    return true;
  }

  /** Remove one entry; false when it was not there. */
  async remove(target: { serial?: string; identity?: string }): Promise<boolean> {
    const key = normalize(target);
    const kept = this.#entries.filter((e) => !same(e, key));
    if (kept.length === this.#entries.length) return false;
    await this.#change(kept);
    return true;
  }

  /** Write every later change to a shared store too (first, before it is taken here). */
  shareWith(share: (entries: readonly Revocation[]) => Promise<void>): void {
    this.#share = share;
  }

  /** Take the list another replica wrote; false when it is what this one has. */
  adopt(entries: readonly Revocation[]): boolean {
    if (JSON.stringify(entries) === JSON.stringify(this.#entries)) return false;
    this.#entries = [...entries];
    void this.#saveFile();
    return true;
  }

  /** A change is shared first (a failed write changes nothing), then taken and saved here. */
  async #change(next: Revocation[]): Promise<void> {
    await this.#share?.(next);
    this.#entries = next;
    await this.#saveFile();
  }

  async #saveFile(): Promise<void> {
    if (this.#file === null) return;
    const tmp = `${this.#file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(this.#entries, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.#file);
  }
}

/** Exactly one of serial (hex, any case, optional colons) or identity (a SPIFFE ID). */
function normalize(t: { serial?: string; identity?: string }): { serial: string } | { identity: string } {
  const serial = typeof t.serial === "string" ? t.serial.trim() : undefined;
  const identity = typeof t.identity === "string" ? t.identity.trim() : undefined;
  if ((serial === undefined) === (identity === undefined)) throw new RevocationError("give exactly one of serial and identity");
  if (serial !== undefined) {
    const hex = serial.replace(/:/g, "").toLowerCase();
    if (!/^[0-9a-f]+$/.test(hex)) throw new RevocationError(`serial ${JSON.stringify(serial)} is not hexadecimal`);
    return { serial: hex };
  }
  if (!SPIFFE_ID.test(identity as string)) throw new RevocationError(`identity ${JSON.stringify(identity)} is not a SPIFFE ID spiffe://<trust domain>/ns/<namespace>/sa/<service account>`);
  return { identity: identity as string };
}

function bareSerial(s: string): string {
  return s.replace(/:/g, "").toLowerCase().replace(/^0+(?=.)/, "");
}

function same(e: Revocation, key: { serial: string } | { identity: string }): boolean {
  return "serial" in key ? e.serial === key.serial : e.identity === key.identity;
}
