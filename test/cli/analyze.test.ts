// End-to-end tests of `amime analyze`: the real CLI in a child process, on our fixtures and Istio's bookinfo.
import assert from "node:assert/strict";
import { test } from "node:test";
import { amime } from "./control-plane-cli.ts";

const fixtures = "test/fixtures/analyze";
const bookinfo = "test/fixtures/istio/samples/bookinfo";

interface JsonDiagnostic {
  level: string;
  code: string;
  message: string;
  resource: string;
  path: string;
  source: { file: string; line: number; column: number };
}

async function json(args: string[]): Promise<{ code: number | null; ds: JsonDiagnostic[] }> {
  const r = await amime([...args, "-o", "json"]);
  assert.equal(r.stderr, "");
  return { code: r.code, ds: JSON.parse(r.stdout) as JsonDiagnostic[] };
}

test("a clean directory: no issues, exit 0", async () => {
  const r = await amime(["analyze", "-f", `${fixtures}/clean`]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, "✔ No validation issues found when analyzing 5 resources.\n");
});

test("broken references: istioctl-style lines with file:line, a summary, exit 1", async () => {
  const r = await amime(["analyze", "-f", `${fixtures}/broken-refs.yaml`]);
  assert.equal(r.code, 1);
  const lines = r.stdout.split("\n");
  assert.equal(lines[0], `Error [IST0101] (VirtualService default/reviews ${fixtures}/broken-refs.yaml:34) Referenced host not found: "reviewz" (no Service or ServiceEntry defines reviewz.default.svc.cluster.local). Did you mean "reviews"?`);
  assert.match(lines[1] ?? "", /^Error \[IST0101\] \(VirtualService default\/reviews-front test\/fixtures\/analyze\/broken-refs\.yaml:44\) Referenced gateway not found: "front-gateway"/);
  assert.match(lines[2] ?? "", /^Error \[IST0101\] \(VirtualService default\/reviews-front test\/fixtures\/analyze\/broken-refs\.yaml:49\) Referenced host\+subset in destinationrule not found: "reviews\+v3"/);
  assert.match(r.stdout, /\nAnalyzed 4 resources: 3 errors, 0 warnings, 0 info\./);
});

test("-o json: an array of {level, code, message, resource, path, source}", async () => {
  const { code, ds } = await json(["analyze", "-f", `${fixtures}/broken-refs.yaml`]);
  assert.equal(code, 1);
  assert.deepEqual(ds[0], {
    level: "error",
    code: "IST0101",
    message: 'Referenced host not found: "reviewz" (no Service or ServiceEntry defines reviewz.default.svc.cluster.local). Did you mean "reviews"?',
    resource: "VirtualService default/reviews",
    path: "spec.http[0].route[0].destination.host",
    source: { file: `${fixtures}/broken-refs.yaml`, line: 34, column: 9 },
  });
  assert.deepEqual(ds.map((d) => d.path), ["spec.http[0].route[0].destination.host", "spec.gateways[0]", "spec.http[0].route[0].destination.subset"]);
});

test("warnings and info do not fail: exit 0", async () => {
  const { code, ds } = await json(["analyze", "-f", `${fixtures}/warnings-only.yaml`]);
  assert.equal(code, 0);
  assert.deepEqual(ds.map((d) => `${d.level} ${d.code} ${d.source.line}`), ["info AMM1003 19", "warning IST0173 46", "warning IST0174 54", "warning IST0130 71"]);
});

test("mTLS conflict and conflicting mesh hosts are errors", async () => {
  const mtls = await json(["analyze", "-f", `${fixtures}/mtls-conflict.yaml`]);
  assert.equal(mtls.code, 1);
  assert.deepEqual(mtls.ds.map((d) => `${d.code} ${d.resource} ${d.path} ${d.source.line}`), [
    "IST0113 DestinationRule shop/cart spec.trafficPolicy.tls.mode 32",
  ]);
  const hosts = await json(["analyze", "-f", `${fixtures}/conflicting-hosts.yaml`]);
  assert.equal(hosts.code, 1);
  assert.deepEqual(hosts.ds.map((d) => `${d.code} ${d.resource}`), ["IST0109 VirtualService default/details-a", "IST0109 VirtualService default/details-b"]);
});

test("bookinfo: services + all DestinationRules + all-v1 routes have no errors", async () => {
  const r = await amime(["analyze", "-f", `${bookinfo}/platform/kube/bookinfo.yaml`, "-f", `${bookinfo}/networking/destination-rule-all.yaml`, "-f", `${bookinfo}/networking/virtual-service-all-v1.yaml`]);
  assert.equal(r.code, 0, r.stdout);
  assert.doesNotMatch(r.stdout, /^Error /m);
  // Subsets without a Deployment in bookinfo.yaml (details v2, ratings v2*) are warned about, as istioctl would.
  assert.match(r.stdout, /^Warning \[IST0173\] \(DestinationRule default\/details .*destination-rule-all\.yaml:\d+\) Subset "v2"/m);
});

test("bookinfo: virtual-service-all-v1.yaml alone reports the missing hosts and subsets", async () => {
  const { code, ds } = await json(["analyze", "-f", `${bookinfo}/networking/virtual-service-all-v1.yaml`]);
  assert.equal(code, 1);
  const got = ds.map((d) => `${d.code} ${d.resource} ${d.message.split(" (")[0]}`);
  const want = ["productpage", "reviews", "ratings", "details"].flatMap((s) => [
    `IST0101 VirtualService default/${s} Referenced host not found: "${s}"`,
    `IST0101 VirtualService default/${s} Referenced host+subset in destinationrule not found: "${s}+v1"`,
  ]);
  assert.deepEqual(got, want);
});

test("several -f, positional paths and stdin (-f -) are read together", async () => {
  const vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: from-stdin\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: reviews\n        subset: v1\n";
  const withService = await amime(["analyze", "-f", "-", `${fixtures}/clean/mesh.yaml`, "-f", `${fixtures}/clean/routing.yaml`, "-o", "json"], { stdin: vs });
  // from-stdin and the fixture's VirtualService both bind host reviews to the mesh.
  const ds = JSON.parse(withService.stdout) as JsonDiagnostic[];
  assert.deepEqual(ds.map((d) => `${d.code} ${d.resource} ${d.source.file}`), ["IST0109 VirtualService default/from-stdin <stdin>", "IST0109 VirtualService default/reviews test/fixtures/analyze/clean/routing.yaml"]);
  assert.equal(withService.code, 1);
});

test("--namespace puts resources without one into that namespace", async () => {
  const { ds } = await json(["analyze", "-f", `${fixtures}/broken-refs.yaml`, "--namespace", "shop"]);
  assert.equal(ds[0]?.resource, "VirtualService shop/reviews");
  assert.match(ds[0]?.message ?? "", /reviewz\.shop\.svc\.cluster\.local/);
});

test("YAML syntax errors are reported with their position, exit 1", async () => {
  const r = await amime(["analyze", "-f", `${fixtures}/bad-yaml.yaml`]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Error \[AMM0001\] \(test\/fixtures\/analyze\/bad-yaml\.yaml:\d+\) YAML syntax:/);
});

test("a missing path is a clean one-line error, exit 1", async () => {
  const r = await amime(["analyze", "-f", "nope/missing.yaml"]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, 'amime analyze: path "nope/missing.yaml" does not exist\n');
});

test("usage errors exit 2 with help; --help exits 0", async () => {
  for (const args of [["analyze"], ["analyze", "--bogus"], ["analyze", "-f", `${fixtures}/clean`, "-o", "yaml"], ["analyze", "-f"], ["analyze", "-f", "x", "-n", "Bad_NS"]]) {
    const r = await amime(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, /^amime analyze: .+\n\nUsage: amime analyze/, args.join(" "));
  }
  const help = await amime(["analyze", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: amime analyze -f FILE\|DIR\|- /);
  const top = await amime(["--help"]);
  assert.match(top.stdout, /^ {2}analyze +check config files/m);
});

test("--mesh-config: Telemetry providers resolve against the MeshConfig; without it `zipkin` is an error, not a silent off", async () => {
  const telemetry = `${fixtures}/providers/telemetry.yaml`;
  const without = await amime(["analyze", "-f", telemetry]);
  assert.equal(without.code, 1, without.stdout);
  assert.match(without.stdout, /^Error \[AMM1011\] \(Telemetry istio-system\/mesh-default test\/fixtures\/analyze\/providers\/telemetry\.yaml:7\) Unknown provider "zipkin"/);
  const withMesh = await json(["analyze", "-f", telemetry, "--mesh-config", "test/fixtures/mesh-config/istio-configmap.yaml"]);
  assert.equal(withMesh.code, 0);
  // The ConfigMap's own findings point into data.mesh at file lines.
  assert.deepEqual(withMesh.ds.map((d) => `${d.code} ${d.path} ${d.source.file}:${d.source.line}`), [
    "AMM1010 enablePrometheusMerge test/fixtures/mesh-config/istio-configmap.yaml:12",
  ]);
  const bad = await amime(["analyze", "-f", telemetry, "--mesh-config", "test/fixtures/analyze/providers/telemetry.yaml"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /a Telemetry is not a MeshConfig/);
});

test("EnvoyFilter: Istio's rate-limit task, local and global, and samples/ratelimit's local descriptors are applied (no warning)", async () => {
  const task = await amime(["analyze", "-f", "test/fixtures/istio/istio.io-tasks/policy-enforcement/rate-limit.yaml"]);
  assert.doesNotMatch(task.stdout, /AMM1013/);
  const file = "test/fixtures/istio/samples/ratelimit/local-rate-limit-service.yaml";
  const r = await amime(["analyze", "-f", file]);
  assert.equal(r.code, 0, r.stdout);
  // Its local `descriptors` (and the route's rate_limits they match) are applied too.
  assert.doesNotMatch(r.stdout, /AMM1013/);
  assert.doesNotMatch(r.stdout, /AMM0004/);
});

test("Istio's authz task: no policy gets AMM1014 (principals come from the mTLS peer)", async () => {
  const file = "test/fixtures/istio/istio.io-tasks/security/authz-http-bookinfo.yaml";
  const { code, ds } = await json(["analyze", "-f", file]);
  assert.equal(code, 0);
  const policies = ds.filter((d) => d.code === "AMM1014");
  assert.deepEqual(policies.map((d) => d.resource), []);
});

test("`appProtocol: h2c` (not kubernetes.io/h2c) is an AMM1016 warning that names the fix", async () => {
  const svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: echo\nspec:\n  selector: {app: echo}\n  ports:\n  - name: http2-echo\n    port: 9000\n    appProtocol: h2c\n";
  const r = await amime(["analyze", "-f", "-"], { stdin: svc });
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^Warning \[AMM1016\] \(Service default\/echo <stdin>:10\) appProtocol "h2c" is not a protocol Istio knows .*port name "http2-echo" \(http2\).* Did you mean "kubernetes\.io\/h2c"\?$/m);
});
