// ChangeLog: who last changed each resource through the API, and when. `amime get -o yaml` shows
// it as metadata annotations; every accepted change is also logged as one line (server.ts).
import type { ApplyResult } from "../../model/wire.ts";
import type { ChangeEntry } from "./store-file.ts";

/** Annotations added to resources changed through the API (read-only: set by the control plane). */
export const CHANGED_BY_ANNOTATION = "amime.io/changed-by";
export const CHANGED_AT_ANNOTATION = "amime.io/changed-at";

export interface ChangeRecord {
  by: string;
  at: string;
  action: string;
}

export class ChangeLog {
  readonly #last = new Map<string, ChangeRecord>();

  /** Record the changes of an accepted apply or delete (ids as in ApplyResult: `Kind ns/name`). */
  record(changes: ApplyResult["changes"], by: string, at: Date): void {
    this.restore(this.preview(changes, by, at));
  }

  /** Every record as it would be after `record(changes, by, at)`, without recording (what the store saves). */
  preview(changes: ApplyResult["changes"], by: string, at: Date): ChangeEntry[] {
    const next = new Map(this.#last);
    for (const c of changes) {
      if (c.action === "unchanged") continue;
      if (c.action === "deleted") next.delete(c.resource);
      else next.set(c.resource, { by, at: at.toISOString(), action: c.action });
    }
    return [...next].map(([id, r]) => ({ id, ...r }));
  }

  entries(): ChangeEntry[] {
    return [...this.#last].map(([id, r]) => ({ id, ...r }));
  }

  /** Replace every record (a restart restoring the saved ones). */
  restore(entries: readonly ChangeEntry[]): void {
    this.#last.clear();
    for (const e of entries) this.#last.set(e.id, { by: e.by, at: e.at, action: e.action });
  }

  get(id: string): ChangeRecord | undefined {
    return this.#last.get(id);
  }

  /** `body` with the change annotations when the resource was changed through the API. */
  annotate(id: string, body: Record<string, unknown>): Record<string, unknown> {
    const rec = this.#last.get(id);
    if (rec === undefined) return body;
    const metadata = typeof body.metadata === "object" && body.metadata !== null ? (body.metadata as Record<string, unknown>) : {};
    const annotations = typeof metadata.annotations === "object" && metadata.annotations !== null ? (metadata.annotations as Record<string, unknown>) : {};
    return { ...body, metadata: { ...metadata, annotations: { ...annotations, [CHANGED_BY_ANNOTATION]: rec.by, [CHANGED_AT_ANNOTATION]: rec.at } } };
  }
}
