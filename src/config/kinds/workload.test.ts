import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../parse.ts";
import { resolveWorkload, type WorkloadSpec } from "../../model/specs/workload.ts";
import { validateResource } from "../validate.ts";

const HEAD = "apiVersion: amime.dev/v1alpha1\nkind: Workload\nmetadata:\n  name: reviews-v1\n  labels: {app: reviews, version: v1}\n";

function diagnostics(spec: string, head = HEAD) {
  const { resources, diagnostics } = parseDocuments(`${head}spec:\n${spec}`, "w.yaml");
  assert.deepEqual(diagnostics, []);
  return validateResource(resources[0]!).diagnostics;
}
const errors = (spec: string): string[] => diagnostics(spec).filter((d) => d.level === "error").map((d) => `${d.path}: ${d.message}`);

const FULL = `  serviceAccount: bookinfo-reviews
  replicas: 2
  command: [node, samples/bookinfo/reviews.ts]
  args: [--verbose]
  env: {RATINGS_URL: "http://ratings:9080", LOG: "1"}
  workingDir: ../..
  ports:
  - {name: http, containerPort: 9080}
  readinessProbe:
    httpGet: {path: /health, port: http}
    periodSeconds: 2
  restartPolicy: OnFailure
`;

test("a full Workload is valid and resolves with defaults", () => {
  assert.deepEqual(diagnostics(FULL), []);
  const { resources } = parseDocuments(`${HEAD}spec:\n${FULL}`, "w.yaml");
  const w = resolveWorkload(resources[0]!.body.spec as WorkloadSpec);
  assert.equal(w.replicas, 2);
  assert.deepEqual(w.env, [{ name: "RATINGS_URL", value: "http://ratings:9080" }, { name: "LOG", value: "1" }]);
  assert.deepEqual(w.readinessProbe, { kind: "httpGet", port: 9080, path: "/health", scheme: "HTTP", initialDelaySeconds: 0, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 });
  const min = resolveWorkload({ command: ["x"] });
  assert.deepEqual([min.serviceAccount, min.replicas, min.restartPolicy, min.readinessProbe, min.env], ["default", 1, "Always", null, []]);
  assert.deepEqual(resolveWorkload({ command: ["x"], env: [{ name: "A", value: "b" }] }).env, [{ name: "A", value: "b" }]);
});

test("Workload errors name the field and say what to write", () => {
  const cases: [string, RegExp][] = [
    ["  replicas: 1\n", /^spec\.command: Required value/],
    ["  command: node app.ts\n", /^spec\.command: must be a list, e\.g\. command: \["node", "app\.ts"\]/],
    ["  command: []\n", /^spec\.command: must name the program/],
    ["  command: [node, \"\"]\n", /^spec\.command\[1\]: should be at least 1 chars long/],
    ["  command: [x]\n  replicas: -1\n", /^spec\.replicas: must be greater than or equal to 0/],
    ["  command: [x]\n  replicas: 1.5\n", /^spec\.replicas: must be of type integer/],
    ["  command: [x]\n  serviceAccount: Bad_SA\n", /^spec\.serviceAccount: "Bad_SA" must be/],
    ["  command: [x]\n  env: {N: 1}\n", /^spec\.env\.N: must be of type string; quote it/],
    ["  command: [x]\n  env: [{name: A, value: x}, {name: A, value: y}]\n", /^spec\.env\[1\]: Duplicate value/],
    ["  command: [x]\n  env: [{value: x}]\n", /^spec\.env\[0\]\.name: Required value/],
    ["  command: [x]\n  env: {PORT: \"80\"}\n", /^spec\.env\.PORT: PORT is set by Amime/],
    ["  command: [x]\n  env: {1BAD: x}\n", /^spec\.env\["1BAD"\]: environment variable name/],
    ["  command: [x]\n  env: nope\n", /^spec\.env: must be a map/],
    ["  command: [x]\n  ports: [{name: http}]\n", /^spec\.ports\[0\]\.containerPort: Required value/],
    ["  command: [x]\n  ports: [{containerPort: 0}]\n", /^spec\.ports\[0\]\.containerPort: must be greater than or equal to 1/],
    ["  command: [x]\n  ports: [{name: HTTP, containerPort: 80}]\n", /^spec\.ports\[0\]\.name: port name "HTTP"/],
    ["  command: [x]\n  ports: [{name: a, containerPort: 80}, {name: a, containerPort: 81}]\n", /^spec\.ports\[1\]\.name: Duplicate value/],
    ["  command: [x]\n  ports: [{containerPort: 80}, {containerPort: 80}]\n", /^spec\.ports\[1\]\.containerPort: Duplicate value/],
    ["  command: [x]\n  readinessProbe: {periodSeconds: 1}\n", /^spec\.readinessProbe: must set one of httpGet or tcpSocket/],
    ["  command: [x]\n  readinessProbe: {httpGet: {port: 80}, tcpSocket: {port: 80}}\n", /^spec\.readinessProbe: may set only one/],
    ["  command: [x]\n  readinessProbe: {httpGet: {path: /}}\n", /^spec\.readinessProbe\.httpGet\.port: Required value/],
    ["  command: [x]\n  readinessProbe: {httpGet: {path: health, port: 80}}\n", /^spec\.readinessProbe\.httpGet\.path: must start with "\/"/],
    ["  command: [x]\n  readinessProbe: {tcpSocket: {port: web}}\n", /^spec\.readinessProbe\.tcpSocket\.port: no port named "web"/],
    ["  command: [x]\n  readinessProbe: {tcpSocket: {port: 80}, periodSeconds: 0}\n", /^spec\.readinessProbe\.periodSeconds: must be greater than or equal to 1/],
    ["  command: [x]\n  restartPolicy: Sometimes\n", /^spec\.restartPolicy: Unsupported value: "Sometimes"/],
    ["  command: [x]\n  image: nginx\n", /^spec\.image: not supported: a Workload runs a local command/],
  ];
  for (const [spec, want] of cases) {
    const errs = errors(spec);
    assert.ok(errs.some((e) => want.test(e)), `${JSON.stringify(spec)} → ${JSON.stringify(errs)}`);
  }
});

test("missing spec, missing app label and unknown fields", () => {
  const { resources } = parseDocuments("apiVersion: amime.dev/v1alpha1\nkind: Workload\nmetadata: {name: w}\n", "w.yaml");
  const ds = validateResource(resources[0]!).diagnostics;
  assert.ok(ds.some((d) => d.level === "error" && d.path === "spec" && /Required value/.test(d.message)));
  assert.ok(ds.some((d) => d.level === "warning" && d.path === "metadata.labels" && /no "app" label/.test(d.message)));
  const typo = diagnostics("  command: [x]\n  replica: 2\n");
  assert.ok(typo.some((d) => d.level === "warning" && d.path === "spec.replica" && /did you mean 'replicas'/.test(d.message)));
});

test("a proxy.istio.io/config annotation is accepted, not applied (AMM1010 at its path)", () => {
  const head = HEAD + "  annotations:\n    proxy.istio.io/config: '{gatewayTopology: {forwardClientCertDetails: APPEND_FORWARD}}'\n";
  const ds = diagnostics("  command: [node, x.ts]\n", head).map((d) => [d.level, d.code, d.path]);
  assert.deepEqual(ds, [["warning", "AMM1010", 'metadata.annotations["proxy.istio.io/config"]']]);
});
