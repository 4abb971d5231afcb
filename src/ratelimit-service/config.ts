// The rate-limit service's configuration: the reference service's (envoyproxy/ratelimit)
// config.yaml, one domain per document, read from its own file or from the data of a Kubernetes
// ConfigMap (as Istio's rate-limit task ships it). Validation follows the reference
// (src/config/config_impl.go): unknown keys, empty domain or key, duplicate domain or composite
// key, a unit that is not one of Envoy's, a unit beside `unlimited` — each reported with
// file:line:column and a field path, all at once. Pure (no node:*).
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, Scalar, type Node as YamlNode, type YAMLMap } from "yaml";
import { parseUnit, type Unit } from "./units.ts";

export interface RateLimit {
  requestsPerUnit: number;
  /** Undefined only when unlimited. */
  unit: Unit | undefined;
  /** `rate_limit.name`, sent back in the response's current_limit and matched by `replaces`. */
  name: string;
  unlimited: boolean;
  shadowMode: boolean;
  /** Accepted as the reference does; it only names the reference's statsd counters. */
  detailedMetric: boolean;
  /** Names of the limits this one replaces when both apply to one request. */
  replaces: readonly string[];
  /** `domain.key_value.key2_value2`: the descriptor's place in the config, for logs. */
  fullKey: string;
}

export interface DescriptorNode {
  limit: RateLimit | undefined;
  /** Children by composite key: `key_value`, or `key` alone for "any value". */
  children: ReadonlyMap<string, DescriptorNode>;
  /** Composite keys whose value ends in `*` (a prefix), in config order. */
  wildcardKeys: readonly string[];
}

/** Every domain's descriptor tree; the root node of a domain has no limit. */
export type RateLimitConfig = ReadonlyMap<string, DescriptorNode>;

export interface ConfigSource {
  file: string;
  text: string;
}

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  /** Field path inside the config.yaml, e.g. `descriptors[0].rate_limit.unit`. */
  path: string;
  message: string;
}

export class RateLimitConfigError extends Error {
  readonly code = "AMIME_RATELIMIT_CONFIG";
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = `${p.file}${p.line ? `:${p.line}` : ""}${p.line && p.column ? `:${p.column}` : ""}`;
  return `${where}: ${p.path ? `${p.path}: ` : ""}${p.message}`;
}

const DESCRIPTOR_KEYS = new Set(["key", "value", "rate_limit", "descriptors", "shadow_mode", "detailed_metric"]);
const RATE_LIMIT_KEYS = new Set(["unit", "requests_per_unit", "unlimited", "name", "replaces"]);
const MAX_U32 = 0xffffffff;

type Pos = (offset: number) => { line: number; column: number };

/** Reads every source; throws RateLimitConfigError listing every problem found. */
export function loadRateLimitConfig(sources: readonly ConfigSource[]): RateLimitConfig {
  const problems: ConfigProblem[] = [];
  const domains = new Map<string, DescriptorNode>();
  let documents = 0;
  for (const source of sources) {
    for (const doc of configDocuments(source, problems)) {
      documents++;
      readDomain(doc, domains, problems);
    }
  }
  if (problems.length === 0 && documents === 0) {
    problems.push({ file: sources.map((s) => s.file).join(", "), line: 0, column: 0, path: "", message: "no rate-limit configuration found (expected a config.yaml with `domain`, or a ConfigMap whose data holds one)" });
  }
  if (problems.length > 0) throw new RateLimitConfigError(problems);
  return domains;
}

interface ConfigDocument {
  root: YamlNode | null;
  file: string;
  pos: Pos;
  /** Prefix of field paths (`data[config.yaml].` inside a ConfigMap). */
  prefix: string;
}

/** The config.yaml documents of one file: the file itself, or the data entries of its ConfigMaps. */
function configDocuments(source: ConfigSource, problems: ConfigProblem[]): ConfigDocument[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(source.text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const pos: Pos = (offset) => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const out: ConfigDocument[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push({ file: source.file, ...pos(e.pos[0]), path: "", message: `YAML syntax: ${e.message.split("\n")[0]}` });
      continue;
    }
    const root = doc.contents as YamlNode | null;
    // A document of comments only (between two `---`) holds nothing.
    if (root === null || (isScalar(root) && root.value === null)) continue;
    const kind = isMap(root) ? scalarOf(root, "kind") : undefined;
    if (kind === undefined) {
      out.push({ root, file: source.file, pos, prefix: "" });
      continue;
    }
    // A Kubernetes manifest: the reference service reads every file of the mounted ConfigMap.
    if (kind !== "ConfigMap") continue;
    const data = isMap(root) ? pairOf(root, "data")?.value : undefined;
    if (!isMap(data)) continue;
    for (const pair of data.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!/\.ya?ml$/.test(name)) continue;
      const value = pair.value;
      if (!isScalar(value) || typeof value.value !== "string") {
        problems.push({ file: source.file, ...pos((pair.key as YamlNode).range?.[0] ?? 0), path: `data[${name}]`, message: "must be the text of a config.yaml" });
        continue;
      }
      out.push(...embedded(value, name, source, pos, problems));
    }
  }
  return out;
}

/** Parses a ConfigMap value; positions inside it map back to the file (block scalars exactly). */
function embedded(value: Scalar, name: string, source: ConfigSource, outer: Pos, problems: ConfigProblem[]): ConfigDocument[] {
  const text = value.value as string;
  const start = outer(value.range?.[0] ?? 0);
  let lineBase = start.line - 1;
  let indent = start.column - 1;
  if (value.type === Scalar.BLOCK_LITERAL || value.type === Scalar.BLOCK_FOLDED) {
    const rest = source.text.slice(value.range?.[0] ?? 0).split("\n").slice(1);
    const first = rest.findIndex((l) => l.trim() !== "");
    const firstLine = rest[first] ?? "";
    lineBase = start.line + Math.max(0, first) - Math.max(0, text.split("\n").findIndex((l) => l.trim() !== ""));
    indent = firstLine.length - firstLine.trimStart().length;
  }
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const pos: Pos = (offset) => {
    const p = lc.linePos(offset);
    return { line: lineBase + p.line, column: indent + p.col };
  };
  const out: ConfigDocument[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push({ file: source.file, ...pos(e.pos[0]), path: `data[${name}]`, message: `YAML syntax: ${e.message.split("\n")[0]}` });
      continue;
    }
    const root = doc.contents as YamlNode | null;
    if (root !== null && !(isScalar(root) && root.value === null)) out.push({ root, file: source.file, pos, prefix: `data[${name}].` });
  }
  return out;
}

function readDomain(doc: ConfigDocument, domains: Map<string, DescriptorNode>, problems: ConfigProblem[]): void {
  const problem = (node: YamlNode | null | undefined, path: string, message: string): void => {
    problems.push({ file: doc.file, ...doc.pos(node?.range?.[0] ?? doc.root?.range?.[0] ?? 0), path: `${doc.prefix}${path}`, message });
  };
  const root = doc.root;
  if (!isMap(root)) return problem(root, "", "a rate-limit config must be a map with `domain` and `descriptors`");
  for (const pair of root.items) {
    const key = keyOf(pair.key);
    if (key !== "domain" && key !== "descriptors") problem(pair.key as YamlNode, key, `unknown key '${key}'`);
  }
  const domainPair = pairOf(root, "domain");
  const domain = domainPair && isScalar(domainPair.value) && domainPair.value.value !== null ? String(domainPair.value.value) : "";
  if (domain === "") return problem(domainPair?.value as YamlNode | undefined, "domain", "config file cannot have empty domain");
  if (domains.has(domain)) return problem(domainPair?.value as YamlNode, "domain", `duplicate domain '${domain}' in config file`);
  const node = readDescriptors(pairOf(root, "descriptors")?.value as YamlNode | undefined, "descriptors", domain, problem);
  domains.set(domain, { limit: undefined, children: node.children, wildcardKeys: node.wildcardKeys });
}

type Problem = (node: YamlNode | null | undefined, path: string, message: string) => void;

function readDescriptors(list: YamlNode | null | undefined, path: string, parentKey: string, problem: Problem): { children: Map<string, DescriptorNode>; wildcardKeys: string[] } {
  const children = new Map<string, DescriptorNode>();
  const wildcardKeys: string[] = [];
  if (list === undefined || list === null || (isScalar(list) && list.value === null)) return { children, wildcardKeys };
  if (!isSeq(list)) {
    problem(list, path, "must be a list of descriptors");
    return { children, wildcardKeys };
  }
  list.items.forEach((item, i) => {
    const here = `${path}[${i}]`;
    if (!isMap(item)) return problem(item as YamlNode, here, "a descriptor must be a map with `key`");
    for (const pair of item.items) {
      const key = keyOf(pair.key);
      if (!DESCRIPTOR_KEYS.has(key)) problem(pair.key as YamlNode, `${here}.${key}`, `unknown key '${key}'`);
    }
    const key = scalarOf(item, "key") ?? "";
    if (key === "") return problem(item, `${here}.key`, "descriptor has empty key");
    const value = scalarOf(item, "value") ?? "";
    const composite = value === "" ? key : `${key}_${value}`;
    if (children.has(composite)) return problem(pairOf(item, "key")?.key as YamlNode, `${here}.key`, `duplicate descriptor composite key '${parentKey}.${composite}'`);
    const fullKey = `${parentKey}.${composite}`;
    const shadowMode = readBool(item, "shadow_mode", here, problem);
    const detailedMetric = readBool(item, "detailed_metric", here, problem);
    const limitNode = pairOf(item, "rate_limit")?.value as YamlNode | undefined;
    const limit = limitNode === undefined || limitNode === null ? undefined : readLimit(limitNode, `${here}.rate_limit`, fullKey, shadowMode, detailedMetric, problem);
    const nested = readDescriptors(pairOf(item, "descriptors")?.value as YamlNode | undefined, `${here}.descriptors`, fullKey, problem);
    children.set(composite, { limit, children: nested.children, wildcardKeys: nested.wildcardKeys });
    if (value.endsWith("*")) wildcardKeys.push(composite);
  });
  return { children, wildcardKeys };
}

function readLimit(node: YamlNode, path: string, fullKey: string, shadowMode: boolean, detailedMetric: boolean, problem: Problem): RateLimit | undefined {
  if (!isMap(node)) {
    problem(node, path, "must be a map with `unit` and `requests_per_unit`");
    return undefined;
  }
  for (const pair of node.items) {
    const key = keyOf(pair.key);
    if (!RATE_LIMIT_KEYS.has(key)) problem(pair.key as YamlNode, `${path}.${key}`, `unknown key '${key}'`);
  }
  const unlimited = readBool(node, "unlimited", path, problem);
  const unitText = scalarOf(node, "unit") ?? "";
  const unit = parseUnit(unitText);
  const unitNode = pairOf(node, "unit")?.value as YamlNode | undefined;
  if (unlimited && unit !== undefined) problem(unitNode, `${path}.unit`, "should not specify rate limit unit when unlimited");
  else if (!unlimited && unit === undefined) problem(unitNode ?? node, `${path}.unit`, `invalid rate limit unit '${unitText}' (use second, minute, hour, day, week, month or year)`);
  const rpuNode = pairOf(node, "requests_per_unit")?.value as YamlNode | undefined;
  let requestsPerUnit = 0;
  if (rpuNode !== undefined && rpuNode !== null) {
    const v = isScalar(rpuNode) ? rpuNode.value : undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_U32) problem(rpuNode, `${path}.requests_per_unit`, "must be an integer from 0 to 4294967295");
    else requestsPerUnit = v;
  }
  const name = scalarOf(node, "name") ?? "";
  const replaces: string[] = [];
  const replacesNode = pairOf(node, "replaces")?.value as YamlNode | undefined;
  if (replacesNode !== undefined && replacesNode !== null) {
    if (!isSeq(replacesNode)) problem(replacesNode, `${path}.replaces`, "must be a list of {name: …}");
    else
      replacesNode.items.forEach((r, i) => {
        const replaced = isMap(r) ? scalarOf(r, "name") : undefined;
        if (replaced === undefined || replaced === "") problem(r as YamlNode, `${path}.replaces[${i}].name`, "should not have an empty replaces entry");
        else if (replaced === name) problem(r as YamlNode, `${path}.replaces[${i}].name`, "replaces should not contain name of same descriptor");
        else replaces.push(replaced);
      });
  }
  return { requestsPerUnit, unit: unlimited ? undefined : unit, name, unlimited, shadowMode, detailedMetric, replaces, fullKey };
}

function readBool(map: YAMLMap, key: string, path: string, problem: Problem): boolean {
  const node = pairOf(map, key)?.value as YamlNode | undefined;
  if (node === undefined || node === null) return false;
  if (isScalar(node) && typeof node.value === "boolean") return node.value;
  problem(node, `${path}.${key}`, "must be true or false");
  return false;
}

function keyOf(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function pairOf(map: YAMLMap, key: string): { key: unknown; value: unknown } | undefined {
  return map.items.find((p) => keyOf(p.key) === key);
}

/** A scalar's text (numbers and booleans as written), or undefined when absent or not a scalar. */
function scalarOf(map: YAMLMap, key: string): string | undefined {
  const v = pairOf(map, key)?.value;
  if (!isScalar(v) || v.value === null) return undefined;
  return String(v.value);
}
