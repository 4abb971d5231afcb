// Istio's own configs: every sample and docs-task YAML parses and its networking resources validate
// without errors; Istio's validator testdata for DestinationRule, ServiceEntry and WorkloadEntry
// pass (valid files) or fail with the `_err:` text (invalid files).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseDocuments } from "../../src/config/parse.ts";
import { validateResource } from "../../src/config/validate.ts";
import { parse as parseYaml, parseAllDocuments } from "yaml";

const ROOT = new URL("../fixtures/istio/", import.meta.url).pathname;
const NETWORKING = new Set(["VirtualService", "DestinationRule", "ServiceEntry", "Gateway", "Sidecar", "WorkloadEntry"]);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(name) ? [full] : [];
  });
}

for (const dir of ["samples", "istio.io-tasks"]) {
  test(`every YAML under ${dir}/ parses and its networking resources validate`, () => {
    const files = yamlFiles(join(ROOT, dir));
    assert.ok(files.length > 0);
    let checked = 0;
    for (const file of files) {
      const { resources, diagnostics } = parseDocuments(readFileSync(file, "utf8"), file);
      assert.deepEqual(diagnostics.filter((d) => d.level === "error"), [], file);
      for (const r of resources) {
        if (r.group !== "networking.istio.io" || !NETWORKING.has(r.kind)) continue;
        const errs = validateResource(r).diagnostics.filter((d) => d.level === "error");
        assert.deepEqual(errs.map((d) => `${d.path}: ${d.message}`), [], `${file} ${r.kind}/${r.metadata.name}`);
        checked++;
      }
    }
    assert.ok(checked > 0);
  });
}

const CRDS = join(ROOT, "pkg/config/validation/testdata/crds");

/** Split a multi-document file into raw document texts (so `_err` can be read and stripped). */
function documents(file: string): { text: string; err?: string }[] {
  const out: { text: string; err?: string }[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.contents === null) continue;
    const obj = doc.toJS() as Record<string, unknown> | null;
    if (!obj) continue;
    const { _err, ...rest } = obj;
    out.push({ text: JSON.stringify(rest), ...(typeof _err === "string" ? { err: _err } : {}) });
  }
  return out;
}

/**
 * Istio's `_err` texts come in two shapes: Kubernetes field errors ("spec.hosts: Required value")
 * and plain texts. A field error matches a diagnostic whose path starts with that field (Kubernetes
 * reports a bad map key at the map; we report it at the key itself) and whose message has the rest.
 */
function matches(d: { path: string; message: string }, want: string): boolean {
  if (`${d.path}: ${d.message}`.includes(want) || d.message.includes(want)) return true;
  const m = /^([\w.[\]]+): (.+)$/.exec(want);
  return m !== null && d.path.startsWith(m[1]!) && d.message.includes(m[2]!);
}

for (const kind of ["destinationrule", "serviceentry", "workloadentry"]) {
  test(`Istio testdata ${kind}-valid.yaml: every document passes`, () => {
    const docs = documents(join(CRDS, `${kind}-valid.yaml`));
    assert.ok(docs.length > 0);
    for (const { text } of docs) {
      const { resources } = parseDocuments(text, `${kind}-valid.yaml`);
      const errs = validateResource(resources[0]!).diagnostics.filter((d) => d.level === "error");
      assert.deepEqual(errs.map((d) => `${d.path}: ${d.message}`), [], text);
    }
  });

  test(`Istio testdata ${kind}-invalid.yaml: every document is rejected with its _err text`, () => {
    const docs = documents(join(CRDS, `${kind}-invalid.yaml`));
    assert.ok(docs.length > 0);
    for (const { text, err } of docs) {
      assert.ok(err, `document without _err: ${text}`);
      const { resources } = parseDocuments(text, `${kind}-invalid.yaml`);
      const errs = validateResource(resources[0]!).diagnostics.filter((d) => d.level === "error");
      assert.ok(errs.some((d) => matches(d, err)), `want ${JSON.stringify(err)} for ${text}, got ${JSON.stringify(errs.map((d) => `${d.path}: ${d.message}`))}`);
    }
  });
}

test("the fixture reader strips _err and keeps the rest", () => {
  const y = parseYaml("_err: x\napiVersion: v1\nkind: K\n") as Record<string, unknown>;
  assert.equal(y._err, "x");
});
