// AnalysisContext: what every check receives — the mesh index, the resources it may judge (those
// that passed schema validation) and a place to report findings with their source positions.
import type { Diagnostic, Level } from "../../model/diagnostic.ts";
import { formatPath, resourceId, type FieldPath, type Resource } from "../../model/resource.ts";
import type { MeshIndex } from "./mesh-index.ts";

export interface Check {
  /** Short name, used in docs and in internal-error messages. */
  name: string;
  run(ctx: AnalysisContext): void;
}

export class AnalysisContext {
  readonly index: MeshIndex;
  /** Resources that passed schema validation: the only ones checks report on. */
  readonly resources: readonly Resource[];
  readonly diagnostics: Diagnostic[] = [];
  private readonly judged: ReadonlySet<Resource>;

  constructor(index: MeshIndex, resources: readonly Resource[]) {
    this.index = index;
    this.resources = resources;
    this.judged = new Set(resources);
  }

  /** Whether checks may report on `r` (it passed schema validation). */
  judges(r: Resource): boolean {
    return this.judged.has(r);
  }

  ofKind(kind: string, group = "networking.istio.io"): Resource[] {
    return this.resources.filter((r) => r.kind === kind && r.group === group);
  }

  report(r: Resource, level: Level, code: string, path: FieldPath, message: string): void {
    this.diagnostics.push({ level, code, message, resource: resourceId(r), path: formatPath(path), source: r.positionOf(path) });
  }
}
