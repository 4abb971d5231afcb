// The instance registrations kept in `<stateDir>/registrations.json`, so that a control plane
// restarted on the same state dir (a crash, an upgrade) serves the endpoints it knew at once,
// instead of an empty view until the runtime has registered every instance again — Istio's istiod
// likewise serves only once its registries are synced. What is restored is provisional: the
// control plane drops an entry that is not registered again within a grace period (registrations.ts).
// Writes are atomic (temp file + rename) and coalesced: at most one in flight, the last state wins.
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { InstanceRegistration } from "../../model/wire.ts";

export const REGISTRATIONS_FILE = "registrations.json";

export class RegistryFile {
  private readonly path: string;
  private writing: Promise<void> | null = null;
  private pending: (() => readonly InstanceRegistration[]) | null = null;

  constructor(stateDir: string) {
    this.path = join(stateDir, REGISTRATIONS_FILE);
  }

  /** What the last run kept; [] when there is no file, or it is damaged (then `onDamaged` says why). */
  async load(onDamaged: (why: string) => void): Promise<InstanceRegistration[]> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
    try {
      const parsed = JSON.parse(text) as { registrations?: unknown };
      if (!Array.isArray(parsed.registrations)) throw new Error("no registrations array");
      return parsed.registrations as InstanceRegistration[];
    } catch (e) {
      onDamaged(`${this.path}: ${(e as Error).message}`);
      return [];
    }
  }

  /** Write the registry as `current()` gives it when the write starts; coalesces calls while one is in flight. */
  save(current: () => readonly InstanceRegistration[]): Promise<void> {
    this.pending = current;
    this.writing ??= this.drain();
    return this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== null) {
        const list = this.pending();
        this.pending = null;
        const temp = `${this.path}.tmp`;
        await writeFile(temp, `${JSON.stringify({ registrations: list })}\n`, { mode: 0o600 });
        await rename(temp, this.path);
      }
    } finally {
      this.writing = null;
    }
  }
}
