import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";

function errors(spec: string): string[] {
  const { resources } = parseDocuments(`apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: foo}\nspec:\n${spec}`, "pa.yaml");
  return validateResource(resources[0]!).diagnostics.filter((d) => d.level === "error").map((d) => `${d.path}: ${d.message}`);
}

test("PeerAuthentication", () => {
  assert.deepEqual(errors("  mtls: {mode: STRICT}\n"), []);
  assert.deepEqual(errors("  selector: {matchLabels: {app: a}}\n  portLevelMtls: {8080: {mode: DISABLE}}\n"), []);
  const cases: [string, RegExp][] = [
    ["  mtls: {mode: strict}\n", /^spec\.mtls\.mode: Unsupported value: "strict": supported values: "UNSET", "DISABLE", "PERMISSIVE", "STRICT"/],
    ["  mtls: STRICT\n", /^spec\.mtls: must be of type object, not string/],
    ["  selector: {matchLabels: {}}\n  portLevelMtls: {80: {mode: STRICT}}\n", /^spec\.portLevelMtls: portLevelMtls requires selector/],
    ["  selector: {matchLabels: {app: a}}\n  portLevelMtls: {80: ~}\n", /^spec\.portLevelMtls\["80"\]: must be of type object/],
    ["  selector: {matchLabels: {\"\": a}}\n", /key must not be empty/],
  ];
  for (const [spec, want] of cases) {
    const errs = errors(spec);
    assert.ok(errs.some((e) => want.test(e)), `${JSON.stringify(spec)} → ${JSON.stringify(errs)}`);
  }
});
