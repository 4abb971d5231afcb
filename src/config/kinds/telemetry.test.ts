import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";

function diagnostics(spec: string) {
  const { resources } = parseDocuments(`apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t}\nspec:\n${spec}`, "t.yaml");
  return validateResource(resources[0]!).diagnostics.map((d) => `${d.level} ${d.path}: ${d.message}`);
}

test("valid Telemetry", () => {
  assert.deepEqual(diagnostics("  tracing:\n  - randomSamplingPercentage: 0\n    providers: [{name: zipkin}]\n  accessLogging:\n  - filter: {expression: 'response.code >= 400 && request.headers[\"x\"] == \"y\"'}\n"), []);
  assert.deepEqual(diagnostics("  metrics:\n  - providers: [{name: prometheus}]\n    overrides:\n    - match: {metric: REQUEST_COUNT, mode: SERVER}\n      tagOverrides: {request_protocol: {operation: REMOVE}}\n"), []);
  // Any tag value is valid, as in Istio's validator (Istio's own fixture has `value: add`); one outside
  // Amime's CEL subset is warned by analyze (AMM1017) and left out by translation.
  assert.deepEqual(diagnostics("  metrics: [{overrides: [{tagOverrides: {foo: {value: \"request.hots\"}, bar: {value: add}}}]}]\n"), []);
});

test("rejected Telemetry and warnings", () => {
  const cases: [string, RegExp][] = [
    ["  tracing: [{randomSamplingPercentage: 101}]\n", /^error spec\.tracing\[0\]\.randomSamplingPercentage: percentage 101 is neither 0\.0, nor in range/],
    ["  tracing: [{randomSamplingPercentage: \"50\"}]\n", /^error spec\.tracing\[0\]\.randomSamplingPercentage: must be of type number/],
    ["  tracing: [{customTags: {a: {}}}]\n", /^error spec\.tracing\[0\]\.customTags\.a: custom tag must set exactly one/],
    ["  tracing: [{customTags: {a: {literal: {value: x}, header: {name: y}}}}]\n", /found literal, header/],
    ["  tracing: [{customTags: {a: {header: {}}}}]\n", /customTags\.a\.header\.name: Required value/],
    ["  tracing: [{}, {}]\n", /^warning spec\.tracing: multiple tracing entries/],
    ["  accessLogging: [{providers: [{name: a}, {name: b}]}]\n", /^warning spec\.accessLogging\[0\]\.providers: multiple providers/],
    ["  accessLogging: [{filter: {expression: \"response.code >=\"}}]\n", /^error spec\.accessLogging\[0\]\.filter\.expression: must be a CEL expression Amime evaluates .*unexpected end of expression \(column 17\)/],
    ["  accessLogging: [{filter: {expression: \"request.method\"}}]\n", /filter\.expression: .*gives a string, a bool is needed/],
    ["  accessLogging: [{filter: {expression: \"size(request.path) > 3\"}}]\n", /filter\.expression: .*unsupported function size\(\)/],
    ["  accessLogging: [{match: {mode: BOTH}}]\n", /match\.mode: Unsupported value: "BOTH"/],
    ["  metrics: [{reportingInterval: 5}]\n", /reportingInterval: must be of type string/],
    ["  metrics: [{overrides: [{match: {metric: REQUEST_COUNT, customMetric: x}}]}]\n", /match: only one of metric or customMetric/],
    ["  metrics: [{overrides: [{tagOverrides: {foo: {}}}]}]\n", /tagOverrides\.foo: value must be set when operation is UPSERT/],
  ];
  for (const [spec, want] of cases) {
    const ds = diagnostics(spec);
    assert.ok(ds.some((d) => want.test(d)), `${JSON.stringify(spec)} → ${JSON.stringify(ds)}`);
  }
});
