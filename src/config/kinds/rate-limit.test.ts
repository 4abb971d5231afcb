import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";

function diags(spec: string, level: "error" | "warning" = "error"): string[] {
  const { resources } = parseDocuments(`apiVersion: amime.dev/v1alpha1\nkind: RateLimit\nmetadata: {name: api, namespace: default}\nspec:\n${spec}`, "rl.yaml");
  return validateResource(resources[0]!).diagnostics.filter((d) => d.level === level).map((d) => `${d.source.line} ${d.path}: ${d.message}`);
}

test("RateLimit: valid specs", () => {
  assert.deepEqual(diags("  selector: {matchLabels: {app: productpage}}\n  rules:\n  - match: {uri: {prefix: /api}, method: {exact: GET}, headers: {x-tier: {exact: free}}}\n    limit: {requests: 10, per: minute}\n    key: {header: x-user}\n"), []);
  assert.deepEqual(diags("  service: ratings.default.svc.cluster.local\n  rules:\n  - limit: {requests: 1, per: second}\n    key: sourcePrincipal\n  - limit: {requests: 100, per: day}\n    key: {claim: realm.user}\n    scope: global\n  rateLimitService: {host: rl.default.svc.cluster.local, port: 9000}\n  failureMode: deny\n"), []);
});

test("RateLimit: errors name the field path and line", () => {
  const cases: [string, RegExp][] = [
    ["  rules: []\n", /spec\.rules: at least one rule/],
    ["  rules:\n  - key: remoteAddress\n", /^6 spec\.rules\[0\]\.limit: Required value/],
    ["  rules:\n  - limit: {requests: 0, per: minute}\n", /spec\.rules\[0\]\.limit\.requests: must be greater than or equal to 1/],
    ["  rules:\n  - limit: {requests: 5, per: week}\n", /spec\.rules\[0\]\.limit\.per: Unsupported value: "week": supported values: "second", "minute", "hour", "day"/],
    ["  rules:\n  - limit: {requests: 5, per: minute}\n    scope: cluster\n", /spec\.rules\[0\]\.scope: Unsupported value: "cluster"/],
    ["  rules:\n  - limit: {requests: 5, per: minute}\n    key: {header: x-a, claim: sub}\n", /spec\.rules\[0\]\.key: one of \{header: NAME\}/],
    ["  rules:\n  - limit: {requests: 5, per: minute}\n    key: {header: X-User}\n", /spec\.rules\[0\]\.key\.header: a lower-case header name/],
    ["  rules:\n  - limit: {requests: 5, per: minute}\n    key: {claim: a..b}\n", /spec\.rules\[0\]\.key\.claim: a claim name/],
    ["  rules:\n  - limit: {requests: 5, per: minute}\n    key: principal\n", /spec\.rules\[0\]\.key: Unsupported value: "principal"/],
    ["  rules:\n  - limit: {requests: 5, per: minute}\n    match: {uri: {prefix: /a, exact: /b}}\n", /spec\.rules\[0\]\.match\.uri/],
    ["  selector: {matchLabels: {app: a}}\n  service: a.default.svc.cluster.local\n  rules:\n  - limit: {requests: 5, per: minute}\n", /^\d* ?spec: set selector or service, not both/],
    ["  service: '*.example.com'\n  rules:\n  - limit: {requests: 5, per: minute}\n", /spec\.service: a service host without wildcards/],
    ["  rules:\n  - limit: {requests: 5, per: minute}\n  rateLimitService: {host: rl.default.svc.cluster.local}\n", /spec\.rateLimitService\.port: Required value/],
  ];
  for (const [spec, want] of cases) {
    const errs = diags(spec);
    assert.ok(errs.some((e) => want.test(e)), `${JSON.stringify(spec)} → ${JSON.stringify(errs)}`);
  }
  assert.ok(diags("  rules:\n  - limit: {requests: 5, per: minute}\n    limt: 3\n", "warning").some((w) => /spec\.rules\[0\]\.limt: unknown field 'limt', did you mean 'limit'/.test(w)));
});
