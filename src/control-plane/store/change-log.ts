// ChangeLog: who last changed each resource through the API, and when. `amime get -o yaml` shows
// it as metadata annotations; every accepted change is also logged as one line (server.ts).
import type { ApplyResult } from "../../model/wire.ts";

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
    for (const c of changes) {
      if (c.action === "unchanged") continue;
      if (c.action === "deleted") this.#last.delete(c.resource);
      else this.#last.set(c.resource, { by, at: at.toISOString(), action: c.action });
    }
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
