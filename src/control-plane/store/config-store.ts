// Config store: the first stage of the control plane (INGEST → snapshot → translate → push). Holds
// the resources read from files and those applied over the API, and accepts a change only when
// the whole resulting set passes `analyze()` without errors: a refused change leaves everything
// as it was, and its diagnostics are kept so `status` can show why.
import { analyze, type AnalyzeOptions } from "../../config/analyze/index.ts";
import { hasErrors, type Diagnostic } from "../../config/diagnostic.ts";
import { parseDocuments } from "../../config/parse.ts";
import { resourceId, type Resource } from "../../config/resource.ts";
import type { ApplyResult } from "../../model/wire.ts";

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
  private view: Map<string, Stored> | null = null;
  private readonly now: () => number;
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
    return [...this.effective().values()];
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
    for (const rs of parsed.values()) for (const r of rs) tombstones.delete(resourceKey(r));
    return this.commit(source, files, this.applied, tombstones, diagnostics, null);
  }

  /** `amime apply`: create or replace the given resources. */
  apply(text: string, source: string): StoreResult {
    const p = parseDocuments(text, source);
    if (hasErrors(p.diagnostics)) return this.refuse("apply", p.diagnostics);
    const applied = new Map(this.applied);
    const tombstones = new Set(this.tombstones);
    for (const r of p.resources) {
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
    const changes = diff(this.effective(), candidate, touched);
    // A file rewrite may move source positions (which routes cite) without changing any body.
    const changed = changes.some((c) => c.action !== "unchanged") || (touched === null && files !== this.files);
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

  private effective(): Map<string, Stored> {
    this.view ??= effectiveOf(this.files, this.applied, this.tombstones);
    return this.view;
  }
}

function effectiveOf(files: ReadonlyMap<string, Resource[]>, applied: ReadonlyMap<string, Resource>, tombstones: ReadonlySet<string>): Map<string, Stored> {
  const out = new Map<string, Stored>();
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
function diff(before: ReadonlyMap<string, Stored>, after: ReadonlyMap<string, Stored>, touched: ReadonlySet<string> | null): ChangeList {
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

function sameBody(a: Resource, b: Resource): boolean {
  return JSON.stringify(a.body) === JSON.stringify(b.body);
}
