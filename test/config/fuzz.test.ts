// Property tests: whatever text or structure comes in, parsing and validation never throw, never
// hit a validator bug ("internal error"), and every diagnostic has a code and a message.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { parseAllDocuments } from "yaml";
import type { Diagnostic } from "../../src/model/diagnostic.ts";
import { KINDS } from "../../src/config/kinds/index.ts";
import { parseDocuments } from "../../src/config/parse.ts";
import type { Json } from "../../src/model/resource.ts";
import { validateResource } from "../../src/config/validate.ts";

const RUNS = 300;
const FIXTURES = "test/fixtures/istio";

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}
const files = yamlFiles(FIXTURES);
const texts = files.map((f) => readFileSync(f, "utf8"));

/** Every key used anywhere in the fixtures: random objects built from these reach deep validator code. */
const vocabulary = new Set<string>(["spec", "metadata", "name", "namespace", "labels", "value", "port", "ports", "command", "env", "readinessProbe", "httpGet"]);
const samples: Json[] = [];
for (const text of texts) {
  for (const doc of parseAllDocuments(text)) {
    if ("errors" in doc && doc.errors.length > 0) continue;
    const js = (doc as { toJS(): unknown }).toJS() as Json;
    if (js && typeof js === "object") samples.push(js);
    collectKeys(js);
  }
}
function collectKeys(v: unknown): void {
  if (Array.isArray(v)) v.forEach(collectKeys);
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) { vocabulary.add(k); collectKeys(x); }
}
const keys = [...vocabulary];
/** Fixture documents per kind: mutating a real document reaches far deeper than random JSON does. */
const samplesByKind = new Map<string, Json[]>();
const subtrees: Json[] = [];
for (const sample of samples) {
  const kind = (sample as { kind?: unknown }).kind;
  if (typeof kind === "string") samplesByKind.set(kind, [...(samplesByKind.get(kind) ?? []), sample]);
  const walk = (v: Json): void => {
    if (v && typeof v === "object") { subtrees.push(v); (Array.isArray(v) ? v : Object.values(v)).forEach(walk); }
  };
  walk(sample);
}

function checkDiagnostics(ds: readonly Diagnostic[], context: string): void {
  for (const d of ds) {
    assert.ok(d.message.length > 0, `empty message: ${JSON.stringify(d)} for ${context}`);
    assert.match(d.code, /^[A-Z]{3}\d{4}$/, context);
    assert.ok(["error", "warning", "info"].includes(d.level), context);
    assert.ok(!d.message.startsWith("internal error"), `validator bug: ${d.message}\n${context}`);
  }
}

/** Parse and validate everything in `text`; the whole round must not throw. */
function roundTrip(text: string): void {
  const { resources, diagnostics } = parseDocuments(text, "fuzz.yaml");
  checkDiagnostics(diagnostics, text.slice(0, 500));
  for (const r of resources) checkDiagnostics(validateResource(r).diagnostics, text.slice(0, 500));
}

const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -70000, max: 70000 }), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null),
  fc.constantFrom("", "*", "80", "1ms", "0.5s", "10.0.0.0/8", "STRICT", "ALLOW", "DENY", "CUSTOM", "http", "grpc-web", "request.headers[x]", "/{**}/a", "{", "UPSERT", "REMOVE"));
const { json } = fc.letrec<{ json: Json }>((tie) => ({
  json: fc.oneof({ depthSize: "small", withCrossShrink: true },
    scalar as fc.Arbitrary<Json>,
    fc.array(tie("json"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 6 })), tie("json"), { maxKeys: 5 }) as fc.Arbitrary<Json>),
}));
const typeMeta = fc.oneof(
  fc.constantFrom(...KINDS.flatMap((k) => k.versions.map((ver) => ({ apiVersion: k.group ? `${k.group}/${ver}` : ver, kind: k.kind })))),
  fc.record({ apiVersion: fc.constantFrom("v1", "apps/v1", "x/y", "networking.istio.io/v9"), kind: fc.constantFrom("Deployment", "Widget", "Service", "List") }),
);

test("random text never breaks the parser or the validators", () => {
  const fragments = fc.constantFrom("apiVersion: v1\n", "kind: Service\n", "---\n", "spec:\n", "  ports:\n", "  - port: 80\n", "&a ", "*a", "[", "{", "\"", ": ", "- ", "\t", "\n", "!!binary ", "? ", "%YAML 1.2\n", "<<: *a\n");
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "grapheme", maxLength: 80 }), fc.array(fragments, { maxLength: 30 }).map((a) => a.join(""))), roundTrip), { numRuns: RUNS });
});

test("random resource-shaped JSON never breaks the validators", () => {
  const resource = fc.record({
    meta: typeMeta, name: fc.oneof(fc.constantFrom("a", "reviews", ""), fc.string({ maxLength: 8 })), spec: json, extra: json,
    which: fc.nat(), mutations: fc.array(treeMutation, { minLength: 1, maxLength: 8 }),
  });
  fc.assert(fc.property(resource, ({ meta, name, spec, extra, which, mutations }) => {
    roundTrip(JSON.stringify({ ...meta, metadata: { name, namespace: "default" }, spec }));
    roundTrip(JSON.stringify({ ...meta, metadata: extra, spec: extra }));
    // A real document of this kind (or any kind), mutated several times, under this kind's apiVersion.
    const pool = samplesByKind.get(meta.kind) ?? samples;
    let doc: Json = { spec: (pool[which % pool.length] as { spec?: Json } | undefined)?.spec ?? {} };
    for (const m of mutations) doc = mutate(doc, m);
    roundTrip(JSON.stringify({ ...meta, metadata: { name: "m" }, spec: (doc as { spec?: Json }).spec ?? null }));
  }), { numRuns: RUNS * 2 });
});

type Mutation = { kind: "delete" | "duplicate" | "retype" | "splice"; pick: number; value: Json } | { kind: "truncate" | "flip"; pick: number; char: string };
type TreeMutation = Extract<Mutation, { value: Json }>;
const treeMutation: fc.Arbitrary<TreeMutation> = fc.record({ kind: fc.constantFrom("delete" as const, "duplicate" as const, "retype" as const, "splice" as const), pick: fc.nat(), value: json });

/** Apply one structural mutation at the `pick`-th node (depth-first) of a parsed document. */
function mutate(doc: Json, m: TreeMutation): Json {
  const copy = structuredClone(doc);
  const slots: [Record<string, Json> | Json[], string | number][] = [];
  const walk = (v: Json): void => {
    if (Array.isArray(v)) v.forEach((x, i) => { slots.push([v, i]); walk(x); });
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) { slots.push([v, k]); walk(x); }
  };
  walk(copy);
  const slot = slots[m.pick % Math.max(1, slots.length)];
  if (!slot) return copy;
  const [parent, key] = slot;
  // splice: put a subtree of some other fixture here (right shapes in the wrong places).
  const value = m.kind === "splice" ? structuredClone(subtrees[m.pick % subtrees.length] ?? null) : m.value;
  if (Array.isArray(parent) && typeof key === "number") {
    if (m.kind === "delete") parent.splice(key, 1);
    else if (m.kind === "duplicate") parent.splice(key, 0, structuredClone(parent[key] ?? null));
    else parent[key] = value;
  } else if (!Array.isArray(parent) && typeof key === "string") {
    if (m.kind === "delete") delete parent[key];
    else if (m.kind === "duplicate") parent[`${key}Copy`] = structuredClone(parent[key] ?? null);
    else parent[key] = value;
  }
  return copy;
}

test("mutations of every fixture file never break parsing or validation", () => {
  // Each fixture unmutated first: the starting point of every mutation is known to pass.
  for (const text of texts) roundTrip(text);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    treeMutation,
    fc.record({ kind: fc.constantFrom("truncate" as const, "flip" as const), pick: fc.nat(), char: fc.constantFrom(":", "-", " ", "\n", "\t", "{", "[", "'", "\"", "#", "&", "*", "x", "0", "\u00e9") }),
  );
  fc.assert(fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 6 }), (which, mutations) => {
    const i = which % texts.length;
    let text = texts[i] ?? "";
    let doc: Json = samples[which % samples.length] ?? {};
    for (const m of mutations) {
      if ("value" in m) doc = mutate(doc, m);
      else if (m.kind === "truncate") text = text.slice(0, m.pick % (text.length + 1));
      else {
        const at = m.pick % Math.max(1, text.length);
        text = text.slice(0, at) + m.char + text.slice(at + 1);
      }
    }
    roundTrip(text);
    roundTrip(JSON.stringify(doc));
  }), { numRuns: RUNS * 2 });
});
