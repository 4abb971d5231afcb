// StoreFile: the embedded store's durable copy of what came through `apply`/`delete` (files given
// with -f stay the source of what they contain). One JSON file in the state dir, replaced
// atomically on every accepted change: write `<file>.tmp`, fsync it, rename it over the file,
// fsync the directory. A crash (even `kill -9` or power loss after the rename) leaves either the
// old or the new file, never a mix; a leftover `.tmp` is an interrupted write and is discarded.
// The store awaits each write before it adopts the change, so a failed write refuses the change
// instead of leaving memory and disk apart (cost: docs/performance.md); writes are async, so the
// event loop (pushes, the API) keeps running during the fsyncs, and the store runs one change at a
// time, so two writes never overlap.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir, open, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isObject, type JsonObject } from "../../model/resource.ts";

export const STORE_FILE_NAME = "config-store.json";
const FORMAT = "amime.io/config-store/v1";

/** One resource applied through the API, as stored. */
export interface StoredResource {
  body: JsonObject;
  source: { file: string; line: number; column: number };
}

/** Version bookkeeping of one resource in force (`resourceKey` → its versions). */
export interface ResourceMeta {
  resourceVersion: number;
  generation: number;
}

export interface ChangeEntry {
  id: string;
  by: string;
  at: string;
  action: string;
}

export interface DurableState {
  /** The store's last resourceVersion (monotonic, never reused). */
  resourceVersion: number;
  applied: StoredResource[];
  /** Keys of file resources hidden by an API delete. */
  tombstones: string[];
  meta: Record<string, ResourceMeta>;
  changes: ChangeEntry[];
}

/** The store file cannot be read as a store (layer: control plane store). */
export class StoreFileError extends Error {
  readonly code = "CP_STORE_CORRUPT";
  readonly file: string;
  constructor(file: string, what: string) {
    super(`config store ${file}: ${what}; the file is left as it is (it holds what was applied): fix or move it away, then start again`);
    this.name = "StoreFileError";
    this.file = file;
  }
}

export class StoreFile {
  readonly path: string;
  private dirMade = false;

  constructor(stateDir: string) {
    this.path = join(stateDir, STORE_FILE_NAME);
  }

  get tempPath(): string {
    return `${this.path}.tmp`;
  }

  /**
   * The last saved state (null on first start). A leftover temp file (a write interrupted before
   * its rename) is removed and reported through `discarded`; a damaged store file throws
   * StoreFileError naming the file and what is wrong, and is never overwritten.
   */
  load(discarded: (tempFile: string) => void = () => {}): DurableState | null {
    if (existsSync(this.tempPath)) {
      rmSync(this.tempPath, { force: true });
      discarded(this.tempPath);
    }
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new StoreFileError(this.path, `cannot read: ${(e as Error).message}`);
    }
    return decode(this.path, text);
  }

  /** Replace the file with `state` atomically and durably (see the header). */
  async save(state: DurableState): Promise<void> {
    const inner = JSON.stringify(state);
    const text = `{"format":${JSON.stringify(FORMAT)},"sha256":"${sha256(inner)}","state":${inner}}\n`;
    if (!this.dirMade) await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    this.dirMade = true;
    const file = await open(this.tempPath, "w", 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(this.tempPath, this.path);
    const dir = await open(dirname(this.path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Parse and check a store file; every defect is named (truncation, checksum, shape). */
export function decode(file: string, text: string): DurableState {
  if (text.trim() === "") throw new StoreFileError(file, "the file is empty (truncated)");
  // The checksum covers the exact bytes of "state", so it is taken from the text, not re-serialized.
  const m = /^\{"format":("(?:[^"\\]|\\.)*"),"sha256":"([0-9a-f]{64})","state":([\s\S]*)\}\n?$/.exec(text);
  if (!m) {
    try {
      JSON.parse(text);
    } catch (e) {
      throw new StoreFileError(file, `not valid JSON (${(e as Error).message}); the file looks truncated or damaged`);
    }
    throw new StoreFileError(file, `not a config store file (expected {"format":"${FORMAT}","sha256":…,"state":…})`);
  }
  const format = JSON.parse(m[1]!) as string;
  if (format !== FORMAT) throw new StoreFileError(file, `unknown format ${JSON.stringify(format)} (this amime reads ${FORMAT})`);
  const inner = m[3]!;
  if (sha256(inner) !== m[2]) throw new StoreFileError(file, "checksum mismatch: the content was changed or damaged after it was written");
  let state: unknown;
  try {
    state = JSON.parse(inner);
  } catch (e) {
    throw new StoreFileError(file, `state is not valid JSON (${(e as Error).message})`);
  }
  const bad = (what: string): never => {
    throw new StoreFileError(file, `state.${what}`);
  };
  if (!isObject(state)) return bad("is not an object");
  if (typeof state.resourceVersion !== "number" || !Number.isSafeInteger(state.resourceVersion) || state.resourceVersion < 0) bad("resourceVersion is not a non-negative integer");
  if (!Array.isArray(state.applied)) bad("applied is not a list");
  (state.applied as unknown[]).forEach((a, i) => {
    if (!isObject(a) || !isObject(a.body) || !isObject(a.source) || typeof a.source.file !== "string") bad(`applied[${i}] is not {body, source}`);
  });
  if (!Array.isArray(state.tombstones) || !state.tombstones.every((t) => typeof t === "string")) bad("tombstones is not a list of strings");
  if (!isObject(state.meta)) bad("meta is not an object");
  for (const [k, v] of Object.entries(state.meta as JsonObject)) {
    if (!isObject(v) || typeof v.resourceVersion !== "number" || typeof v.generation !== "number") bad(`meta[${JSON.stringify(k)}] is not {resourceVersion, generation}`);
  }
  if (!Array.isArray(state.changes)) bad("changes is not a list");
  return state as unknown as DurableState;
}
