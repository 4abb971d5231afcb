// Diagnostics: the one shape every config error, warning and analyzer message takes, so the CLI,
// the control plane and the dashboard print and serialize them the same way.

export type Level = "error" | "warning" | "info";

export interface SourcePosition {
  file: string;
  /** 1-based; 0 when unknown. */
  line: number;
  /** 1-based; 0 when unknown. */
  column: number;
}

export interface Diagnostic {
  level: Level;
  /** Stable code, e.g. `AMM0001` for schema errors or `IST0101`-style analyzer codes. */
  code: string;
  message: string;
  /** `Kind namespace/name`, or empty when the document has no identity yet. */
  resource: string;
  /** Field path such as `spec.http[0].route[1].weight`; empty for the whole document. */
  path: string;
  source: SourcePosition;
}

/** Stable codes. Schema-level codes start with AMM0, analyzer codes with AMM1 (see docs/config.md). */
export const Codes = {
  yamlSyntax: "AMM0001",
  notAnObject: "AMM0002",
  missingTypeMeta: "AMM0003",
  unknownKind: "AMM0004",
  ignoredKind: "AMM0005",
  schema: "AMM0010",
  deprecated: "AMM0011",
  validation: "AMM0012",
  unknownField: "AMM0013",
} as const;

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.source.file ? `${d.source.file}${d.source.line ? `:${d.source.line}` : ""}${d.source.column ? `:${d.source.column}` : ""}` : "";
  const parts = [`${d.level.toUpperCase()} [${d.code}]`];
  if (d.resource) parts.push(`(${d.resource})`);
  if (where) parts.push(where);
  const head = parts.join(" ");
  return `${head} ${d.path ? `${d.path}: ` : ""}${d.message}`;
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.level === "error");
}
