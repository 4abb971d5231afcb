import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "./parse.ts";

test("multi-document YAML keeps each field's line and column", () => {
  const text = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: reviews\n---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: x}\n";
  const { resources, diagnostics } = parseDocuments(text, "a.yaml");
  assert.deepEqual(diagnostics, []);
  assert.equal(resources.length, 2);
  const vs = resources[0]!;
  assert.equal(vs.group, "networking.istio.io");
  assert.equal(vs.version, "v1");
  assert.deepEqual(vs.positionOf(["spec", "http", 0, "route", 0, "destination", "host"]), { file: "a.yaml", line: 10, column: 9 });
  // A missing field falls back to its nearest existing ancestor.
  assert.deepEqual(vs.positionOf(["spec", "http", 0, "timeout"]), { file: "a.yaml", line: 8, column: 5 });
  assert.equal(resources[1]!.kind, "Service");
  assert.equal(resources[1]!.source.line, 13);
});

test("JSON input and Kubernetes List objects", () => {
  const json = JSON.stringify({ apiVersion: "v1", kind: "List", items: [{ apiVersion: "v1", kind: "Service", metadata: { name: "a" } }] });
  const { resources, diagnostics } = parseDocuments(json, "l.json");
  assert.deepEqual(diagnostics, []);
  assert.equal(resources[0]?.metadata.name, "a");
});

test("syntax errors, duplicate keys and non-objects become diagnostics with positions", () => {
  const r1 = parseDocuments("a: [1,\n", "bad.yaml");
  assert.equal(r1.diagnostics[0]?.level, "error");
  assert.equal(r1.diagnostics[0]?.source.file, "bad.yaml");
  const r2 = parseDocuments("apiVersion: v1\nkind: Service\nkind: Service\n", "dup.yaml");
  assert.match(r2.diagnostics[0]?.message ?? "", /unique|duplicate/i);
  const r3 = parseDocuments("- 1\n- 2\n", "list.yaml");
  assert.match(r3.diagnostics[0]?.message ?? "", /not an object/);
  const r4 = parseDocuments("metadata: {}\n", "x.yaml");
  assert.match(r4.diagnostics[0]?.message ?? "", /apiVersion and kind/);
});

test("alias bombs are bounded", () => {
  const bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\napiVersion: v1\nkind: Service\n";
  const { diagnostics } = parseDocuments(bomb, "bomb.yaml");
  assert.equal(diagnostics[0]?.level, "error");
});
