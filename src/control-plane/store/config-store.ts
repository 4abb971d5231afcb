// Config store: the first stage of the control plane (INGEST → snapshot → translate → push). Holds
// the resources read from files and those applied over the API, and accepts a change only when
// the whole resulting set passes `analyze()` without errors: a refused change leaves everything
// as it was, and its diagnostics are kept so `status` can show why. Every resource in force has a
// resourceVersion (one counter per store, never reused) and a generation (bumped when its body
// changes), as in Kubernetes; an apply naming a stale resourceVersion is refused (a conflict).
// With a saver (the durable store, store-file.ts), a change is adopted only once it is saved.
import { analyze, type AnalyzeOptions } from "../../config/analyze/index.ts";
import { hasErrors, type Diagnostic } from "../../config/diagnostic.ts";
import { parseDocuments, resourceFromJson } from "../../config/parse.ts";
import { isObject, resourceId, type JsonObject, type Resource } from "../../config/resource.ts";
import type { ApplyResult } from "../../model/wire.ts";
import type { DurableState, ResourceMeta } from "./store-file.ts";

/** A change refused because it named a stale resourceVersion (kubectl's Conflict). */
export const CONFLICT_CODE = "AMM2002";
/** A change refused because the store could not save it. */
export const SAVE_FAILED_CODE = "AMM2003";

/** What a saver writes: everything but the change log, which the control plane adds. */
export type SavedState = Omit<DurableState, "changes">;
/** Persist a candidate state before it is adopted; throwing refuses the change. */
export type Saver = (state: SavedState, changes: ChangeList) => void;

export type ChangeList = ApplyResult["changes"];

export interface StoreResult {
  accepted: boolean;
  /** Something the snapshot reads changed (false for an accepted no-op). */
  changed: boolean;
  changes: ChangeList;
  diagnostics: Diagnostic[];
}

/** The last refused change of one source (a file, or `apply`), for status and logs. */
export interface Refusal {
  source: string;
  at: number;
  diagnostics: Diagnostic[];
}

interface Stored {
  resource: Resource;
  /** `file` or `apply`. */
  origin: string;
  resourceVersion: number;
  generation: number;
}

/** Identity of a resource: API group, kind, namespace (default "default") and name. */
export function resourceKey(r: Resource): string {
  return `${r.group}|${r.kind}|${r.metadata.namespace || "default"}|${r.metadata.name}`;
}

export class ConfigStore {
  /** Per file, in load order; a file's resources as last accepted. */
  private readonly files = new Map<string, Resource[]>();
  private readonly applied = new Map<string, Resource>();
  /** File resources hidden by an API delete, until their file changes. */
  private readonly tombstones = new Set<string>();
  private readonly refusals = new Map<string, Refusal>();
  private view: Map<string, Omit<Stored, "resourceVersion" | "generation">> | null = null;
  /** Versions of every resource in force, by key. */
  private readonly meta = new Map<string, ResourceMeta>();
  private lastVersion = 0;
  /** Set by `persistWith`: the durable store. */
  private saver: Saver | null = null;
  private readonly now: () => number;
  /** A restored state whose tombstones the first file load keeps (it is not an edit of those files). */
  private restored = false;
  private readonly analyzeOptions: AnalyzeOptions;

  /** `analyzeOptions`: the mesh (MeshConfig, root namespace, runtime providers) changes are judged against. */
  constructor(now: () => number = Date.now, analyzeOptions: AnalyzeOptions = {}) {
    this.now = now;
    this.analyzeOptions = analyzeOptions;
  }

  /** Every resource in force, files first (in load order), then applied ones (which replace same-named file ones). */
  resources(): Resource[] {
    return [...this.effective().values()].map((s) => s.resource);
  }

  entries(): Stored[] {
    return [...this.effective()].map(([key, s]) => ({ ...s, ...(this.meta.get(key) ?? { resourceVersion: 0, generation: 0 }) }));
  }

  /** The store's latest resourceVersion. */
  get resourceVersion(): number {
    return this.lastVersion;
  }

  /** Save every later change with `saver` before adopting it. */
  persistWith(saver: Saver): void {
    this.saver = saver;
  }

  /**
   * Take back a saved state (before the files are loaded: the first `setFiles` then judges the
   * whole set, and keeps these tombstones). Returns diagnostics for stored documents it cannot use.
   */
  restore(state: SavedState): Diagnostic[] {
    const out: Diagnostic[] = [];
    this.applied.clear();
    for (const a of state.applied) {
      const r = resourceFromJson(a.body, a.source, out);
      if (r) this.applied.set(resourceKey(r), r);
    }
    this.tombstones.clear();
    for (const t of state.tombstones) this.tombstones.add(t);
    this.meta.clear();
    for (const [k, m] of Object.entries(state.meta)) this.meta.set(k, { resourceVersion: m.resourceVersion, generation: m.generation });
    this.lastVersion = state.resourceVersion;
    this.view = null;
    this.restored = true;
    return out;
  }

  /** Judge the whole current set again (a restored state when there are no files to load). */
  check(): StoreResult {
    return this.commit("store", this.files, this.applied, this.tombstones, [], null);
  }

  fileNames(): string[] {
    return [...this.files.keys()];
  }

  lastRefusals(): Refusal[] {
    return [...this.refusals.values()];
  }

  clearRefusal(source: string): void {
    this.refusals.delete(source);
  }

  /**
   * Replace the resources of several files at once (initial load). `null` content = the file is
   * gone. Parse diagnostics with errors refuse the whole set.
   */
  setFiles(contents: ReadonlyMap<string, string | null>, extra: readonly Diagnostic[] = []): StoreResult {
    const parsed = new Map<string, Resource[]>();
    const diagnostics: Diagnostic[] = [...extra];
    for (const [file, text] of contents) {
      if (text === null) {
        parsed.set(file, []);
        continue;
      }
      const p = parseDocuments(text, file);
      diagnostics.push(...p.diagnostics);
      parsed.set(file, p.resources);
    }
    const source = contents.size === 1 ? [...contents.keys()][0]! : "files";
    if (hasErrors(diagnostics)) return this.refuse(source, diagnostics);
    const files = new Map(this.files);
    for (const [file, rs] of parsed) {
      if (contents.get(file) === null) files.delete(file);
      else files.set(file, rs);
    }
    const tombstones = new Set(this.tombstones);
    if (!this.restored) for (const rs of parsed.values()) for (const r of rs) tombstones.delete(resourceKey(r));
    const result = this.commit(source, files, this.applied, tombstones, diagnostics, null);
    if (result.accepted) this.restored = false;
    return result;
  }

  /** `amime apply`: create or replace the given resources. */
  apply(text: string, source: string): StoreResult {
    const p = parseDocuments(text, source);
    if (hasErrors(p.diagnostics)) return this.refuse("apply", p.diagnostics);
    const conflicts = this.conflicts(p.resources);
    if (conflicts.length > 0) return this.refuse("apply", [...p.diagnostics, ...conflicts]);
    const applied = new Map(this.applied);
    const tombstones = new Set(this.tombstones);
    for (const given of p.resources) {
      const r = withoutServerFields(given);
      const key = resourceKey(r);
      applied.set(key, r);
      tombstones.delete(key);
    }
    return this.commit("apply", this.files, applied, tombstones, p.diagnostics, new Set(p.resources.map(resourceKey)));
  }

  /** `amime delete`: remove the named resources (only kind, namespace and name of each document count). */
  delete(text: string, source: string): StoreResult {
    const p = parseDocuments(text, source);
    if (hasErrors(p.diagnostics)) return this.refuse("apply", p.diagnostics);
    const applied = new Map(this.applied);
    const tombstones = new Set(this.tombstones);
    const fileKeys = new Set<string>();
    for (const rs of this.files.values()) for (const r of rs) fileKeys.add(resourceKey(r));
    const current = this.effective();
    const diagnostics = [...p.diagnostics];
    for (const r of p.resources) {
      const key = resourceKey(r);
      if (!current.has(key)) {
        diagnostics.push({ level: "warning", code: "AMM2001", message: `${resourceId(r)} not found`, resource: resourceId(r), path: "", source: r.source });
        continue;
      }
      applied.delete(key);
      if (fileKeys.has(key)) tombstones.add(key);
    }
    return this.commit("apply", this.files, applied, tombstones, diagnostics, new Set(p.resources.map(resourceKey)));
  }

  /** A document naming a resourceVersion other than the stored one (or naming one for a resource that does not exist). */
  private conflicts(resources: readonly Resource[]): Diagnostic[] {
    const out: Diagnostic[] = [];
    const current = this.effective();
    for (const r of resources) {
      const given = r.metadata.resourceVersion;
      if (given === undefined || given === null || given === "") continue;
      const key = resourceKey(r);
      const stored = current.has(key) ? this.meta.get(key)?.resourceVersion : undefined;
      if (stored !== undefined && String(stored) === String(given)) continue;
      const why = stored === undefined
        ? `the object does not exist (metadata.resourceVersion ${JSON.stringify(String(given))} given; leave it out to create the object)`
        : `the object has been modified; please apply your changes to the latest version and try again (metadata.resourceVersion ${JSON.stringify(String(given))} given, the stored one is "${stored}")`;
      out.push({ level: "error", code: CONFLICT_CODE, message: `Operation cannot be fulfilled on ${resourceId(r)}: ${why}`, resource: resourceId(r), path: "metadata.resourceVersion", source: r.positionOf(["metadata", "resourceVersion"]) });
    }
    return out;
  }

  private refuse(source: string, diagnostics: Diagnostic[]): StoreResult {
    this.refusals.set(source, { source, at: this.now(), diagnostics });
    return { accepted: false, changed: false, changes: [], diagnostics };
  }

  /** Validate the candidate state as a whole; adopt it only when it has no errors. */
  private commit(source: string, files: Map<string, Resource[]>, applied: Map<string, Resource>, tombstones: Set<string>, parseDiagnostics: Diagnostic[], touched: ReadonlySet<string> | null): StoreResult {
    const candidate = effectiveOf(files, applied, tombstones);
    const resources = [...candidate.values()].map((s) => s.resource);
    const found = analyze(resources, this.analyzeOptions);
    const diagnostics = [...parseDiagnostics, ...found];
    if (hasErrors(found)) return this.refuse(source, diagnostics);
    const before = this.effective();
    const changes = diff(before, candidate, touched);
    // A file rewrite may move source positions (which routes cite) without changing any body.
    const changed = changes.some((c) => c.action !== "unchanged") || (touched === null && files !== this.files);
    const versions = this.nextVersions(before, candidate, touched === null ? changes : diff(before, candidate, null));
    if (this.saver !== null && (versions.changed || applied !== this.applied || !sameSet(tombstones, this.tombstones))) {
      try {
        this.saver(savedState(applied, tombstones, versions), changes);
      } catch (e) {
        return this.refuse(source, [...diagnostics, { level: "error", code: SAVE_FAILED_CODE, message: `the change could not be saved, so it was not made: ${(e as Error).message}`, resource: "", path: "", source: { file: source, line: 0, column: 0 } }]);
      }
    }
    this.meta.clear();
    for (const [k, m] of versions.meta) this.meta.set(k, m);
    this.lastVersion = versions.last;
    if (files !== this.files) {
      this.files.clear();
      for (const [k, v] of files) this.files.set(k, v);
    }
    if (applied !== this.applied) {
      this.applied.clear();
      for (const [k, v] of applied) this.applied.set(k, v);
    }
    this.tombstones.clear();
    for (const t of tombstones) this.tombstones.add(t);
    this.view = candidate;
    this.refusals.delete(source);
    return { accepted: true, changed, changes, diagnostics };
  }

  /** Versions after a change: each created or changed resource takes the next resourceVersion. */
  private nextVersions(before: ReadonlyMap<string, { resource: Resource }>, after: ReadonlyMap<string, { resource: Resource }>, all: ChangeList): { meta: Map<string, ResourceMeta>; last: number; changed: boolean } {
    const meta = new Map<string, ResourceMeta>();
    let last = this.lastVersion;
    const moved = new Set(all.filter((c) => c.action !== "unchanged").map((c) => c.resource));
    for (const [key, now] of after) {
      const old = this.meta.get(key);
      const prev = before.get(key);
      if (old !== undefined && prev !== undefined && !moved.has(idOfKey(key))) meta.set(key, old);
      else if (old === undefined || prev === undefined) meta.set(key, { resourceVersion: ++last, generation: 1 });
      // As for Kubernetes custom resources: generation counts changes outside metadata and status.
      else meta.set(key, { resourceVersion: ++last, generation: old.generation + (sameSpec(prev.resource, now.resource) ? 0 : 1) });
    }
    return { meta, last, changed: last !== this.lastVersion || meta.size !== this.meta.size };
  }

  private effective(): Map<string, Omit<Stored, "resourceVersion" | "generation">> {
    this.view ??= effectiveOf(this.files, this.applied, this.tombstones);
    return this.view;
  }
}

/** `group|Kind|ns|name` → `Kind ns/name` (the ids ChangeList uses). */
function idOfKey(key: string): string {
  const [, kind, ns, name] = key.split("|");
  return `${kind} ${ns}/${name || "<unnamed>"}`;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function savedState(applied: ReadonlyMap<string, Resource>, tombstones: ReadonlySet<string>, versions: { meta: ReadonlyMap<string, ResourceMeta>; last: number }): SavedState {
  return {
    resourceVersion: versions.last,
    applied: [...applied.values()].map((r) => ({ body: r.body, source: { file: r.source.file, line: r.source.line, column: r.source.column } })),
    tombstones: [...tombstones],
    meta: Object.fromEntries(versions.meta),
  };
}

/** Fields the store sets (like the API server): a client's copy of them is not kept. */
const SERVER_FIELDS = ["resourceVersion", "generation", "uid", "creationTimestamp", "managedFields"];

function withoutServerFields(r: Resource): Resource {
  const meta = r.body.metadata;
  if (!isObject(meta) || !SERVER_FIELDS.some((f) => f in meta)) return r;
  const kept: JsonObject = {};
  for (const [k, v] of Object.entries(meta)) if (!SERVER_FIELDS.includes(k)) kept[k] = v;
  const metadata = { ...r.metadata };
  for (const f of SERVER_FIELDS) delete metadata[f];
  return { ...r, metadata, body: { ...r.body, metadata: kept } };
}

function effectiveOf(files: ReadonlyMap<string, Resource[]>, applied: ReadonlyMap<string, Resource>, tombstones: ReadonlySet<string>): Map<string, Omit<Stored, "resourceVersion" | "generation">> {
  const out = new Map<string, Omit<Stored, "resourceVersion" | "generation">>();
  for (const rs of files.values()) {
    for (const r of rs) {
      const key = resourceKey(r);
      if (!tombstones.has(key)) out.set(key, { resource: r, origin: "file" });
    }
  }
  for (const [key, r] of applied) out.set(key, { resource: r, origin: "apply" });
  return out;
}

/**
 * What happened to each resource between two states. With `touched` (apply/delete): exactly those
 * resources, "unchanged" included, as kubectl reports them; otherwise every resource that changed.
 */
function diff(before: ReadonlyMap<string, { resource: Resource }>, after: ReadonlyMap<string, { resource: Resource }>, touched: ReadonlySet<string> | null): ChangeList {
  const out: ChangeList = [];
  const keys = touched ?? new Set([...after.keys(), ...before.keys()]);
  for (const key of keys) {
    const old = before.get(key);
    const now = after.get(key);
    if (!now) {
      if (old) out.push({ resource: resourceId(old.resource), action: "deleted" });
      continue;
    }
    const action = !old ? "created" : old.resource === now.resource || sameBody(old.resource, now.resource) ? "unchanged" : "configured";
    if (touched || action !== "unchanged") out.push({ resource: resourceId(now.resource), action });
  }
  return out;
}

function sameSpec(a: Resource, b: Resource): boolean {
  const rest = ({ metadata: _m, status: _s, ...r }: JsonObject): JsonObject => r;
  return JSON.stringify(rest(a.body)) === JSON.stringify(rest(b.body));
}

function sameBody(a: Resource, b: Resource): boolean {
  return JSON.stringify(a.body) === JSON.stringify(b.body);
}

/** The document with the store's `metadata.resourceVersion` (a string, as in Kubernetes) and `generation`. */
export function withVersions(body: Record<string, unknown>, resourceVersion: number, generation: number): Record<string, unknown> {
  const metadata = typeof body.metadata === "object" && body.metadata !== null ? (body.metadata as Record<string, unknown>) : {};
  return { ...body, metadata: { ...metadata, resourceVersion: String(resourceVersion), generation } };
}
