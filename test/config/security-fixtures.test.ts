// Istio's own CRD validation test data (pkg/config/validation/testdata/crds) for the security and
// telemetry kinds: every document of *-valid.yaml must pass, every document of *-invalid.yaml must
// be rejected with an error that says what its `_err:` key says. Also the istio.io security task
// YAMLs must validate cleanly.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse as parseYaml } from "yaml";
import { Codes, formatDiagnostic, type Diagnostic } from "../../src/model/diagnostic.ts";
import { parseDocuments } from "../../src/config/parse.ts";
import { validateResource } from "../../src/config/validate.ts";

const ROOT = "test/fixtures/istio";
const CRDS = join(ROOT, "pkg/config/validation/testdata/crds");
const KINDS = ["authz", "peerauth", "reqauth", "telemetry", "envoyfilter", "wasm", "proxyconfig"];

interface Case {
  file: string;
  index: number;
  text: string;
  expectedError: string | null;
}

/** Split a multi-document file; take out each document's top-level `_err:` line (Istio's test convention). */
function cases(file: string): Case[] {
  const docs = readFileSync(file, "utf8").split(/^---[ \t]*$/m);
  const out: Case[] = [];
  docs.forEach((doc, index) => {
    const m = /^_err:(.*)$/m.exec(doc);
    const text = m ? doc.replace(m[0], "") : doc;
    if (!/^kind:/m.test(text)) return; // comment-only or empty document
    out.push({ file, index, text, expectedError: m ? String(parseYaml(m[1] ?? "")) : null });
  });
  return out;
}

function validate(c: Case): Diagnostic[] {
  const { resources, diagnostics } = parseDocuments(c.text, `${c.file}#${c.index}`);
  assert.deepEqual(diagnostics, [], `${c.file} document ${c.index} must parse`);
  assert.equal(resources.length, 1);
  return validateResource(resources[0]!).diagnostics;
}

/**
 * Istio's texts come from the Kubernetes API server, which prefixes the field path and says
 * "in body" (the request body). Amime keeps the path in its own field (`path: message`) and has
 * no request body, so " in body" is dropped and the text may appear across path and message.
 */
function mentions(d: Diagnostic, expected: string): boolean {
  const want = expected.replace(" in body", "");
  return [d.message, `${d.path}: ${d.message}`, `${d.path} ${d.message}`].some((s) => s.includes(want));
}

for (const kind of KINDS) {
  for (const c of cases(join(CRDS, `${kind}-valid.yaml`))) {
    test(`${kind}-valid.yaml document ${c.index} is valid`, () => {
      // No errors, and no unknown-field warnings: every field Istio's valid data uses is known.
      const problems = validate(c).filter((d) => d.level === "error" || d.code === Codes.unknownField);
      assert.deepEqual(problems.map(formatDiagnostic), []);
    });
  }
  const invalid = cases(join(CRDS, `${kind}-invalid.yaml`));
  test(`${kind}-invalid.yaml has cases`, () => assert.ok(invalid.length > 0 && invalid.every((c) => c.expectedError)));
  for (const c of invalid) {
    test(`${kind}-invalid.yaml document ${c.index}: ${c.expectedError}`, () => {
      const errors = validate(c).filter((d) => d.level === "error");
      assert.ok(errors.some((d) => mentions(d, c.expectedError!)), `expected an error containing ${JSON.stringify(c.expectedError)}, got:\n${errors.map(formatDiagnostic).join("\n")}`);
    });
  }
}

test("istio.io security task YAMLs validate without errors", () => {
  const dir = join(ROOT, "istio.io-tasks/security");
  for (const name of ["authn-policy-enduser-jwt.yaml", "authn-policy-peerauthentication.yaml", "authz-http-bookinfo.yaml", "authz-jwt.yaml", "authz-tcp.yaml"]) {
    const file = join(dir, name);
    const { resources, diagnostics } = parseDocuments(readFileSync(file, "utf8"), file);
    assert.deepEqual(diagnostics, []);
    assert.ok(resources.length > 0);
    for (const r of resources) {
      const errors = validateResource(r).diagnostics.filter((d) => d.level === "error");
      assert.deepEqual(errors.map(formatDiagnostic), [], `${file}: ${r.kind} ${r.metadata.name}`);
    }
  }
});
