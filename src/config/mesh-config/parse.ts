// Reading a MeshConfig document: either the plain MeshConfig YAML (what goes under the `mesh` key
// of Istio's `istio` ConfigMap, or `meshConfig:` in an IstioOperator) or that ConfigMap itself.
// Positions inside the ConfigMap's `mesh: |` block are mapped back to lines of the file, so every
// finding says file:line and a field path. Pure (no node:*).
import { isMap, isScalar, LineCounter, parseAllDocuments, parseDocument, Scalar, type Document, type Node as YamlNode } from "yaml";
import { Codes, type Diagnostic, type SourcePosition } from "../../model/diagnostic.ts";
import { isObject, type FieldPath, type JsonObject, type Resource } from "../../model/resource.ts";
import { entryOf, firstLine, positionIn } from "../yaml-position.ts";

export interface MeshConfigDocument {
  /** The MeshConfig as written (validate it with validateMeshConfig before use). */
  body: JsonObject;
  /** A Resource view of the document (kind MeshConfig) so Validator and analyzers can point into it. */
  resource: Resource;
}

export interface MeshConfigParse {
  document: MeshConfigDocument | null;
  diagnostics: Diagnostic[];
}

const MAX_BYTES = 4 * 1024 * 1024;

/** Parse one MeshConfig file. Never throws; problems come back as diagnostics. */
export function parseMeshConfig(text: string, file: string): MeshConfigParse {
  const diagnostics: Diagnostic[] = [];
  const at = (line = 0, column = 0): SourcePosition => ({ file, line, column });
  if (text.length > MAX_BYTES) return { document: null, diagnostics: [diag(`mesh config is larger than ${MAX_BYTES} bytes`, at())] };
  const lc = new LineCounter();
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true }) as Document.Parsed[];
  } catch (e) {
    return { document: null, diagnostics: [diag(`cannot parse: ${(e as Error).message}`, at())] };
  }
  if (!Array.isArray(docs)) docs = [docs as Document.Parsed];
  docs = docs.filter((d) => d.errors.length > 0 || d.contents !== null);
  const pos = (offset: number): SourcePosition => {
    const p = lc.linePos(offset);
    return at(p.line, p.col);
  };
  for (const d of docs) for (const err of d.errors) diagnostics.push(diag(`YAML syntax: ${firstLine(err.message)}`, pos(err.pos[0])));
  if (diagnostics.length > 0) return { document: null, diagnostics };
  if (docs.length !== 1) return { document: null, diagnostics: [diag(`expected one MeshConfig document, found ${docs.length}`, at(1, 1))] };
  const doc = docs[0] as Document.Parsed;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { document: null, diagnostics: [diag(`cannot read document: ${(e as Error).message}`, at(1, 1))] };
  }
  if (value === null || value === undefined) value = {};
  if (!isObject(value)) return { document: null, diagnostics: [diag("a MeshConfig must be an object (or an `istio` ConfigMap with a `mesh` key)", pos(doc.range[0]))] };

  if (value.kind === "ConfigMap") return fromConfigMap(value, doc, text, file, pos);
  if (typeof value.apiVersion === "string" && typeof value.kind === "string") {
    return { document: null, diagnostics: [diag(`a ${value.kind} is not a MeshConfig; give the MeshConfig YAML (the \`mesh\` key of the istio ConfigMap) or the ConfigMap itself`, pos(doc.range[0]))] };
  }
  const find = (p: FieldPath): SourcePosition => positionIn(doc.contents as YamlNode, p, pos) ?? pos(doc.range[0]);
  return { document: { body: value, resource: meshResource(value, find, find([]), "istio-system", "istio") }, diagnostics };
}

/** The `istio` ConfigMap: its `data.mesh` string holds the MeshConfig YAML. */
function fromConfigMap(cm: JsonObject, doc: Document.Parsed, text: string, file: string, pos: (o: number) => SourcePosition): MeshConfigParse {
  const outer = (p: FieldPath): SourcePosition => positionIn(doc.contents as YamlNode, p, pos) ?? pos(doc.range[0]);
  const data = isObject(cm.data) ? cm.data : undefined;
  const mesh = data?.mesh;
  if (typeof mesh !== "string") {
    return { document: null, diagnostics: [diag("this ConfigMap has no string `data.mesh` (Istio reads the MeshConfig from the `mesh` key of the `istio` ConfigMap)", outer(["data"]))] };
  }
  // Where the block's text starts in the file: inner line N, column C → file line base+N, column indent+C.
  const node = valueNode(doc.contents as YamlNode, ["data", "mesh"]);
  const block = node && isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) && node.range ? node.range : null;
  let map: (inner: SourcePosition) => SourcePosition = () => outer(["data", "mesh"]);
  if (block) {
    const header = pos(block[0]);
    const rest = text.slice(block[0]).split("\n").slice(1);
    const firstContent = rest.find((l) => l.trim() !== "") ?? "";
    const indent = firstContent.length - firstContent.trimStart().length;
    const leadingBlank = rest.findIndex((l) => l.trim() !== "");
    map = (inner) => ({ file, line: header.line + Math.max(0, leadingBlank) + inner.line, column: indent + inner.column });
  }
  const lc = new LineCounter();
  const inner = parseDocument(mesh, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const ipos = (offset: number): SourcePosition => {
    const p = lc.linePos(offset);
    return map({ file, line: p.line, column: p.col });
  };
  if (inner.errors.length > 0) return { document: null, diagnostics: inner.errors.map((e) => diag(`YAML syntax in data.mesh: ${firstLine(e.message)}`, ipos(e.pos[0]))) };
  let value: unknown;
  try {
    value = inner.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { document: null, diagnostics: [diag(`cannot read data.mesh: ${(e as Error).message}`, outer(["data", "mesh"]))] };
  }
  if (value === null || value === undefined) value = {};
  if (!isObject(value)) return { document: null, diagnostics: [diag("data.mesh must hold a MeshConfig object", outer(["data", "mesh"]))] };
  const meta = isObject(cm.metadata) ? cm.metadata : {};
  const find = (p: FieldPath): SourcePosition => positionIn(inner.contents as YamlNode, p, ipos) ?? outer(["data", "mesh"]);
  const name = typeof meta.name === "string" ? meta.name : "istio";
  const namespace = typeof meta.namespace === "string" ? meta.namespace : "istio-system";
  return { document: { body: value, resource: meshResource(value, find, outer([]), namespace, name) }, diagnostics: [] };
}

function meshResource(body: JsonObject, find: (p: FieldPath) => SourcePosition, source: SourcePosition, namespace: string, name: string): Resource {
  return {
    apiVersion: "mesh.istio.io/v1alpha1",
    group: "mesh.istio.io",
    version: "v1alpha1",
    kind: "MeshConfig",
    metadata: { name, namespace, labels: {}, annotations: {} },
    body,
    source,
    positionOf: find,
  };
}

function valueNode(root: YamlNode | null, path: FieldPath): YamlNode | null {
  let node: unknown = root;
  for (const seg of path) {
    if (!isMap(node)) return null;
    const pair = entryOf(node, seg);
    if (!pair) return null;
    node = pair.value;
  }
  return (node as YamlNode) ?? null;
}

function diag(message: string, source: SourcePosition): Diagnostic {
  return { level: "error", code: Codes.yamlSyntax, message, resource: "", path: "", source };
}
