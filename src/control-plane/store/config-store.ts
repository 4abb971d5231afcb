// Config store: the first stage of the control plane (INGEST → snapshot → translate → push). Holds
// the resources read from files and those applied over the API, and accepts a change only when
// the whole resulting set passes `analyze()` without errors: a refused change leaves everything
// as it was, and its diagnostics are kept so `status` can show why. Every resource in force has a
// resourceVersion and a generation, as in Kubernetes (resource-versions.ts); an apply naming a stale
// resourceVersion is refused (a conflict).
// With a saver (the durable store: store-file.ts, or etcd), a change is adopted only once it is
// saved. Changes are async (a save may wait on a disk or a network) and run one at a time, in the
// order they were asked for: each is judged against the state the one before it left.
import { analyze, type AnalyzeOptions } from "../../config/analyze/index.ts";
import { hasErrors, type Diagnostic } from "../../model/diagnostic.ts";
import { parseDocuments, resourceFromJson } from "../../config/parse.ts";
import { resourceId, type Resource } from "../../model/resource.ts";
import { diff, effectiveOf, resourceKey, sameSet, withoutServerFields, type Origin } from "./resource-set.ts";
import { conflictsFound, externalVersions, nextVersions, renumber, staleVersions, storeWrite, type VersionedState } from "./resource-versions.ts";
import { StoreConflictError, StoreStaleError, type Actor, type ChangeListener, type ExternalChange, type SavedState, type Saver, type StoreResult } from "./saver.ts";
import type { ResourceMeta } from "./store-file.ts";

/** A change refused because the store could not save it. */
export const SAVE_FAILED_CODE = "AMM2003";
/** How long and how often an API change waits for a view that fell behind the shared store. */
const STALE_WAIT_MS = 5_000;
const STALE_ATTEMPTS = 5;

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


export class ConfigStore {
  /** Per file, in load order; a file's resources as last accepted. */
  private readonly files = new Map<string, Resource[]>();
  private readonly applied = new Map<string, Resource>();
  /** File resources hidden by an API delete, until their file changes. */
  private readonly tombstones = new Set<string>();
  private readonly refusals = new Map<string, Refusal>();
  private view: Map<string, Origin> | null = null;
  /** Versions of every resource in force, by key. */
  private readonly meta = new Map<string, ResourceMeta>();
  private lastVersion = 0;
  /** Set by `persistWith`: the durable store. */
  private saver: Saver | null = null;
  private readonly listeners = new Set<ChangeListener>();
  /** The change running now; the next one waits for it. */
  private queue: Promise<unknown> = Promise.resolve();
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

  /** Keys (`resourceKey`) of the resources applied through the API (not those of files). */
  appliedKeys(): string[] {
    return [...this.applied.keys()];
  }

  /** The store's latest resourceVersion. */
  get resourceVersion(): number {
    return this.lastVersion;
  }

  /** Save every later change with `saver` before adopting it. */
  persistWith(saver: Saver): void {
    this.saver = saver;
  }

  /** Hear of every adopted change; returns the way to stop. */
  watch(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Run `change` after every change asked for before it (changes never interleave). */
  private serial<T>(change: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(change);
    this.queue = run.catch(() => {});
    return run;
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
  check(): Promise<StoreResult> {
    return this.serial(() => this.commit("store", this.files, this.applied, this.tombstones, [], null, null));
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
  setFiles(contents: ReadonlyMap<string, string | null>, extra: readonly Diagnostic[] = []): Promise<StoreResult> {
    return this.serial(() => this.setFilesNow(contents, extra));
  }

  private async setFilesNow(contents: ReadonlyMap<string, string | null>, extra: readonly Diagnostic[]): Promise<StoreResult> {
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
    const result = await this.commit(source, files, this.applied, tombstones, diagnostics, null, null);
    if (result.accepted) this.restored = false;
    return result;
  }

  /** `amime apply`: create or replace the given resources. */
  apply(text: string, source: string, actor: Actor | null = null): Promise<StoreResult> {
    return this.judged(() => this.applyNow(text, source, actor));
  }

  private applyNow(text: string, source: string, actor: Actor | null): Promise<StoreResult> | StoreResult {
    const p = parseDocuments(text, source);
    if (hasErrors(p.diagnostics)) return this.refuse("apply", p.diagnostics);
    const conflicts = staleVersions(p.resources, this.effective(), this.meta);
    if (conflicts.length > 0) return this.refuse("apply", [...p.diagnostics, ...conflicts]);
    const applied = new Map(this.applied);
    const tombstones = new Set(this.tombstones);
    for (const given of p.resources) {
      const r = withoutServerFields(given);
      const key = resourceKey(r);
      applied.set(key, r);
      tombstones.delete(key);
    }
    return this.commit("apply", this.files, applied, tombstones, p.diagnostics, new Set(p.resources.map(resourceKey)), actor);
  }

  /**
   * What `apply(text)` would do, without doing it (the dashboard's dry run): the same parse,
   * conflict and analyze checks, and the resources that would then be in force.
   */
  preview(text: string, source: string): StoreResult & { resources: Resource[] } {
    const p = parseDocuments(text, source);
    const conflicts = hasErrors(p.diagnostics) ? [] : staleVersions(p.resources, this.effective(), this.meta);
    if (hasErrors(p.diagnostics) || conflicts.length > 0) return { accepted: false, changed: false, changes: [], diagnostics: [...p.diagnostics, ...conflicts], resources: [] };
    const applied = new Map(this.applied);
    const tombstones = new Set(this.tombstones);
    for (const given of p.resources) {
      const r = withoutServerFields(given);
      applied.set(resourceKey(r), r);
      tombstones.delete(resourceKey(r));
    }
    const candidate = effectiveOf(this.files, applied, tombstones);
    const resources = [...candidate.values()].map((x) => x.resource);
    const diagnostics = [...p.diagnostics, ...analyze(resources, this.analyzeOptions)];
    const changes = diff(this.effective(), candidate, new Set(p.resources.map(resourceKey)));
    return { accepted: !hasErrors(diagnostics), changed: changes.some((c) => c.action !== "unchanged"), changes, diagnostics, resources };
  }

  /** The analyzers' messages about the config in force (warnings and infos: errors are never adopted). */
  analyzeCurrent(): Diagnostic[] {
    return analyze(this.resources(), this.analyzeOptions);
  }

  /** `amime delete`: remove the named resources (only kind, namespace and name of each document count). */
  delete(text: string, source: string, actor: Actor | null = null): Promise<StoreResult> {
    return this.judged(() => this.deleteNow(text, source, actor));
  }

  /**
   * Run an API change; when the saver finds this store's view behind (StoreStaleError), wait until
   * the view has caught up and judge the change again on it (a few times at most).
   */
  private async judged(change: () => Promise<StoreResult> | StoreResult): Promise<StoreResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.serial(change);
      } catch (e) {
        if (!(e instanceof StoreStaleError)) throw e;
        const caughtUp = await this.reached(e.revision, STALE_WAIT_MS);
        if (!caughtUp || attempt === STALE_ATTEMPTS) {
          const why = caughtUp ? `it kept moving (${STALE_ATTEMPTS} attempts)` : `this replica has not seen revision ${e.revision} within ${STALE_WAIT_MS / 1000} s (is its watch on the store broken?)`;
          return this.refuse("apply", [{ level: "error", code: SAVE_FAILED_CODE, message: `the change could not be saved, so it was not made: the store changed meanwhile and ${why}; try again`, resource: "", path: "", source: { file: "apply", line: 0, column: 0 } }]);
        }
      }
    }
  }

  /** Resolves true once the store has adopted `revision` (false after `timeoutMs`). */
  private reached(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.lastVersion >= revision) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      const off = this.watch(() => {
        if (this.lastVersion < revision) return;
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  /**
   * Adopt changes made elsewhere (another replica wrote them to etcd; they are numbered there).
   * The whole resulting set is judged as any change is: a set with errors is refused (logged,
   * kept in status) and the last good config stays. A batch this store has already (its own
   * write coming back through the watch) changes nothing.
   */
  adopt(batch: ExternalChange): Promise<StoreResult> {
    return this.serial(() => {
      if (batch.revision <= this.lastVersion && this.lastVersion > 0) return { accepted: true, changed: false, changes: [], diagnostics: [] };
      const applied = new Map(this.applied);
      for (const [key, { resource }] of batch.put) applied.set(key, resource);
      for (const key of batch.removed) applied.delete(key);
      return this.commit("store", this.files, applied, this.tombstones, [], null, batch.actor, batch);
    });
  }

  private deleteNow(text: string, source: string, actor: Actor | null): Promise<StoreResult> | StoreResult {
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
    return this.commit("apply", this.files, applied, tombstones, diagnostics, new Set(p.resources.map(resourceKey)), actor);
  }

  private refuse(source: string, diagnostics: Diagnostic[]): StoreResult {
    this.refusals.set(source, { source, at: this.now(), diagnostics });
    return { accepted: false, changed: false, changes: [], diagnostics };
  }

  /** Validate the candidate state as a whole; adopt it only when it has no errors. */
  private async commit(source: string, files: Map<string, Resource[]>, applied: Map<string, Resource>, tombstones: Set<string>, parseDiagnostics: Diagnostic[], touched: ReadonlySet<string> | null, actor: Actor | null, external: ExternalChange | null = null): Promise<StoreResult> {
    const candidate = effectiveOf(files, applied, tombstones);
    const resources = [...candidate.values()].map((s) => s.resource);
    const found = analyze(resources, this.analyzeOptions);
    const diagnostics = [...parseDiagnostics, ...found];
    if (hasErrors(found)) return this.refuse(source, diagnostics);
    const before = this.effective();
    const changes = diff(before, candidate, touched);
    // A file rewrite may move source positions (which routes cite) without changing any body.
    const changed = changes.some((c) => c.action !== "unchanged") || (touched === null && files !== this.files);
    const versions = external !== null ? externalVersions(candidate, this.meta, external) : nextVersions(this.versioned(), before, candidate, touched === null ? changes : diff(before, candidate, null));
    if (external === null && this.saver !== null && (versions.changed || applied !== this.applied || !sameSet(tombstones, this.tombstones))) {
      try {
        const numbered = await this.saver(storeWrite(this.versioned(), applied, tombstones, versions, changes, actor));
        if (numbered !== undefined) renumber(versions, this.meta, numbered);
      } catch (e) {
        if (e instanceof StoreConflictError) return this.refuse(source, [...diagnostics, ...conflictsFound(e, applied)]);
        if (e instanceof StoreStaleError) throw e;
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
    const result = { accepted: true, changed, changes, diagnostics };
    for (const l of this.listeners) l(result, actor);
    return result;
  }

  /** The versions and applied resources in force, which a change is numbered and saved against. */
  private versioned(): VersionedState {
    return { meta: this.meta, last: this.lastVersion, applied: this.applied };
  }

  private effective(): Map<string, Origin> {
    this.view ??= effectiveOf(this.files, this.applied, this.tombstones);
    return this.view;
  }
}

export { resourceKey, withVersions } from "./resource-set.ts";
export { CONFLICT_CODE } from "./resource-versions.ts";
export { StoreConflictError, StoreStaleError, type Actor, type ChangeList, type ExternalChange, type SavedState, type Saver, type StoreResult, type StoreWrite } from "./saver.ts";
