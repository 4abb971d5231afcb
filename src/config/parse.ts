// Parse: YAML / JSON text → Resources with source positions. Pure (no node:*), so the control
// plane, the CLI and the dashboard share it.
import { LineCounter, parseAllDocuments, type Document, type Node as YamlNode } from "yaml";
import { Codes, type Diagnostic, type SourcePosition } from "../model/diagnostic.ts";
import { isObject, splitApiVersion, type FieldPath, type JsonObject, type ObjectMeta, type Resource } from "../model/resource.ts";
import { firstLine, positionIn } from "./yaml-position.ts";

export interface ParseResult {
  resources: Resource[];
  diagnostics: Diagnostic[];
}

/** Largest document set we accept from one source; bigger input is refused with an error. */
export const MAX_SOURCE_BYTES = 16 * 1024 * 1024;

export function parseDocuments(text: string, file: string): ParseResult {
  const resources: Resource[] = [];
  const diagnostics: Diagnostic[] = [];
  if (text.length > MAX_SOURCE_BYTES) {
    diagnostics.push(diag(Codes.yamlSyntax, `input is larger than ${MAX_SOURCE_BYTES} bytes`, { file, line: 0, column: 0 }));
    return { resources, diagnostics };
  }
  const lineCounter = new LineCounter();
  let docs: Document.Parsed[];
  try {
    // maxAliasCount bounds alias expansion ("billion laughs"); uniqueKeys rejects duplicate keys as Kubernetes does.
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true }) as Document.Parsed[];
  } catch (e) {
    diagnostics.push(diag(Codes.yamlSyntax, `cannot parse: ${(e as Error).message}`, { file, line: 0, column: 0 }));
    return { resources, diagnostics };
  }
  if (!Array.isArray(docs)) docs = [docs as Document.Parsed];
  const pos = (offset: number): SourcePosition => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) diagnostics.push(diag(Codes.yamlSyntax, `YAML syntax: ${firstLine(err.message)}`, pos(err.pos[0])));
      continue;
    }
    for (const w of doc.warnings) diagnostics.push({ ...diag(Codes.yamlSyntax, `YAML: ${firstLine(w.message)}`, pos(w.pos[0])), level: "warning" });
    if (doc.contents === null) continue; // empty document (e.g. a trailing `---`)
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      diagnostics.push(diag(Codes.yamlSyntax, `cannot read document: ${(e as Error).message}`, pos(doc.range[0])));
      continue;
    }
    const start = pos(doc.contents.range?.[0] ?? doc.range[0]);
    const root: YamlNode = doc.contents;
    if (value === null || value === undefined) continue;
    if (!isObject(value)) {
      diagnostics.push(diag(Codes.notAnObject, "document is not an object (expected apiVersion, kind, metadata, spec)", start));
      continue;
    }
    // A Kubernetes `List` carries its resources in `items`.
    if (value.kind === "List" && Array.isArray(value.items)) {
      value.items.forEach((item, i) => {
        const itemStart = positionIn(root, ["items", i], pos) ?? start;
        if (!isObject(item)) {
          diagnostics.push(diag(Codes.notAnObject, `items[${i}] is not an object`, itemStart));
          return;
        }
        const r = toResource(item, itemStart, (p) => positionIn(root, ["items", i, ...p], pos) ?? itemStart, diagnostics);
        if (r) resources.push(r);
      });
      continue;
    }
    const r = toResource(value, start, (p) => positionIn(root, p, pos) ?? start, diagnostics);
    if (r) resources.push(r);
  }
  return { resources, diagnostics };
}

function toResource(body: JsonObject, start: SourcePosition, find: (p: FieldPath) => SourcePosition, out: Diagnostic[]): Resource | null {
  const { apiVersion, kind } = body;
  if (typeof apiVersion !== "string" || apiVersion === "" || typeof kind !== "string" || kind === "") {
    out.push(diag(Codes.missingTypeMeta, "document needs string fields apiVersion and kind", start));
    return null;
  }
  const rawMeta = isObject(body.metadata) ? body.metadata : {};
  const metadata: ObjectMeta = {
    ...rawMeta,
    name: typeof rawMeta.name === "string" ? rawMeta.name : "",
    namespace: typeof rawMeta.namespace === "string" ? rawMeta.namespace : "",
    labels: stringMap(rawMeta.labels),
    annotations: stringMap(rawMeta.annotations),
  };
  const { group, version } = splitApiVersion(apiVersion);
  return { apiVersion, group, version, kind, metadata, body, source: start, positionOf: find };
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === "string") out[k] = val;
  return out;
}

function diag(code: string, message: string, source: SourcePosition): Diagnostic {
  return { level: "error", code, message, resource: "", path: "", source };
}

/**
 * A resource from a stored JSON document (the control plane's durable store): every field's
 * position is the document's start, as the original text is not kept. Null when it lacks
 * apiVersion/kind (the reason goes to `out`).
 */
export function resourceFromJson(body: JsonObject, source: SourcePosition, out: Diagnostic[] = []): Resource | null {
  return toResource(body, source, () => source, out);
}
