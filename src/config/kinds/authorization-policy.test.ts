import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";
import { attributeKeyProblem, pathTemplateProblem } from "./authorization-policy.ts";

function errors(spec: string): string[] {
  const { resources } = parseDocuments(`apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p}\nspec:\n${spec}`, "p.yaml");
  return validateResource(resources[0]!).diagnostics.filter((d) => d.level === "error").map((d) => `${d.path}: ${d.message}`);
}

test("valid policies", () => {
  for (const spec of [
    "  {}\n",
    "  action: DENY\n  rules: [{}]\n",
    "  action: CUSTOM\n  provider: {name: ext-authz}\n  rules: [{to: [{operation: {paths: [/admin/*]}}]}]\n",
    "  rules:\n  - from: [{source: {serviceAccounts: [ns/sa]}}, {source: {namespaces: [ns]}}]\n    when: [{key: \"request.auth.claims[groups]\", values: [g1]}]\n",
    "  action: AUDIT\n  rules: [{to: [{operation: {ports: [\"8080\"], methods: [GET]}}]}]\n",
  ]) assert.deepEqual(errors(spec), [], spec);
});

test("rejected policies say why, at the field", () => {
  const cases: [string, RegExp][] = [
    ["  action: DENY\n", /^spec\.rules: DENY action without `rules` is meaningless/],
    ["  action: CUSTOM\n  rules: [{}]\n", /^spec\.provider\.name: `provider\.name` must not be empty/],
    ["  action: CUSTOM\n  provider: {name: x}\n", /^spec\.rules: CUSTOM action without `rules`/],
    ["  provider: {name: x}\n", /^spec\.provider: `provider` must not be set with action ALLOW/],
    ["  action: allow\n", /^spec\.action: Unsupported value: "allow"/],
    ["  rules: [{from: []}]\n", /^spec\.rules\[0\]\.from: `from` must not be empty/],
    ["  rules: [{from: [{}]}]\n", /^spec\.rules\[0\]\.from\[0\]\.source: `from\.source` must not be nil/],
    ["  rules: [{from: [{source: {}}]}]\n", /^spec\.rules\[0\]\.from\[0\]\.source: `from\.source` must not be empty/],
    ["  rules: [{to: [{operation: {}}]}]\n", /^spec\.rules\[0\]\.to\[0\]\.operation: `to\.operation` must not be empty/],
    ["  rules: [{from: [{source: {principals: [\"\"]}}]}]\n", /principals\[0\]: empty value not allowed, found in principals/],
    ["  rules: [{from: [{source: {ipBlocks: [1.2.3.4/33]}}]}]\n", /ipBlocks\[0\]: bad CIDR range \(1\.2\.3\.4\/33\)/],
    ["  rules: [{to: [{operation: {ports: [http]}}]}]\n", /ports\[0\]: bad port \(http\)/],
    ["  rules: [{to: [{operation: {paths: [\"/a/{x}\"]}}]}]\n", /paths\[0\]: invalid or unsupported path \/a\/\{x\}/],
    ["  rules: [{when: [{key: source.ip}]}]\n", /when\[0\]: at least one of `values` or `notValues` must be set for key source\.ip/],
    ["  rules: [{when: [{key: source.ip, values: [nope]}]}]\n", /when\[0\]\.values\[0\]: invalid `value` for `key` source\.ip: bad IP address \(nope\)/],
    ["  rules: [{when: [{key: request.headers, values: [x]}]}]\n", /when\[0\]\.key: bad key \(request\.headers\): should have format a\[b\]/],
    ["  rules: [{when: [{key: source.colour, values: [x]}]}]\n", /when\[0\]\.key: unknown attribute: source\.colour/],
    ["  rules: [{when: [{values: [x]}]}]\n", /when\[0\]\.key: Required value/],
    ["  rules: [~]\n", /^spec\.rules\[0\]: must be of type object/],
    ["  rules: {from: []}\n", /^spec\.rules: must be of type array/],
    ["  selector: {matchLabels: {app: \"*\"}}\n", /wildcard not allowed in label value match/],
    ["  targetRef: {kind: Deployment, name: x}\n", /^spec\.targetRef: targetRef must be to one of Service/],
  ];
  for (const [spec, want] of cases) {
    const errs = errors(spec);
    assert.ok(errs.some((e) => want.test(e)), `${JSON.stringify(spec)} → ${JSON.stringify(errs)}`);
  }
});

test("condition keys and path templates", () => {
  assert.equal(attributeKeyProblem("request.auth.claims[nested1][nested2]"), null);
  assert.equal(attributeKeyProblem("experimental.envoy.filters.a.b[c]"), null);
  assert.match(attributeKeyProblem("request.auth.claims[]") ?? "", /a\[b\]/);
  assert.equal(pathTemplateProblem("/{**}/path/template"), null);
  assert.equal(pathTemplateProblem("/prefix/*"), null);
  assert.match(pathTemplateProblem("/{*}/a*") ?? "", /'\*' beyond/);
  assert.match(pathTemplateProblem("/{foo}") ?? "", /'\{' or '\}'/);
});
