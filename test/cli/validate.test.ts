// End to end: `amime validate` as a real process on fixture files, a directory, stdin and bad input.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { amime, type Run } from "./control-plane-cli.ts";

/** `amime validate ARGS` as a child process. */
const validate = (args: string[], stdin?: string): Promise<Run> => amime(["validate", ...args], { stdin });

let dir = "";
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "amime-validate-"));
  await writeFile(join(dir, "bad-authz.yaml"), [
    "apiVersion: security.istio.io/v1",
    "kind: AuthorizationPolicy",
    "metadata:",
    "  name: ips",
    "  namespace: shop",
    "spec:",
    "  rules:",
    "  - from:",
    "    - source:",
    "        ipBlocks:",
    "        - 10.0.0.0/8",
    "        - 10.0.0.300",
    "",
  ].join("\n"));
  await writeFile(join(dir, "dr.yaml"), [
    "apiVersion: networking.istio.io/v1",
    "kind: DestinationRule",
    "metadata: {name: reviews}",
    "spec:",
    "  host: reviews",
    "  trafficPolicy:",
    "    loadBalancer:",
    "      simple: ROUND_ROBIN",
    "      warmup:",
    "        duration: 10s",
    "        minimumPercent: 150",
    "",
  ].join("\n"));
  await writeFile(join(dir, "syntax.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: a\n");
  await writeFile(join(dir, "deploy.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{name: http, port: 80}]\n");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("valid fixture file: exit 0, one 'validation succeed' line per resource", async () => {
  const r = await validate(["-f", "test/fixtures/istio/istio.io-tasks/security/authz-http-bookinfo.yaml"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^AuthorizationPolicy default\/allow-nothing \(test\/fixtures\/istio\/istio\.io-tasks\/security\/authz-http-bookinfo\.yaml:3\): validation succeed$/m);
  assert.equal(r.stdout.match(/: validation succeed$/gm)?.length, 5);
  assert.match(r.stdout, /^validation succeed: 5 resources$/m);
});

test("a directory and several -f flags are read; Kubernetes kinds are ignored with a warning", async () => {
  const r = await validate(["-f", "test/fixtures/istio/istio.io-tasks/security", `--filename=${join(dir, "deploy.yaml")}`]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /WARNING \[AMM0005\] \(Deployment default\/web\) .*deploy\.yaml:2:1 kind: apps\/v1 Deployment is a Kubernetes kind that Amime ignores/);
  assert.match(r.stdout, /Deployment default\/web .*: ignored/);
  assert.match(r.stdout, /^validation succeed: 28 resources, 1 ignored$/m);
});

test("an invalid resource: exit 1, file:line:col and the field path", async () => {
  const file = join(dir, "bad-authz.yaml");
  const r = await validate(["-f", file]);
  assert.equal(r.code, 1);
  assert.ok(r.stdout.includes(`ERROR [AMM0012] (AuthorizationPolicy shop/ips) ${file}:12:11 spec.rules[0].from[0].source.ipBlocks[1]: bad IP address (10.0.0.300)`), r.stdout);
  assert.match(r.stdout, /AuthorizationPolicy shop\/ips .*: invalid, 1 error$/m);
  assert.match(r.stdout, /^validation failed: 1 resource, 1 invalid$/m);
});

test("a nested networking field is named by its full path and line", async () => {
  const file = join(dir, "dr.yaml");
  const r = await validate(["-f", file]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`ERROR \\[AMM\\d{4}\\] \\(DestinationRule default/reviews\\) ${escape(file)}:11:9 spec\\.trafficPolicy\\.loadBalancer\\.warmup\\.minimumPercent: .*150`));
});

test("stdin with -f -", async () => {
  const yaml = "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default}\nspec:\n  mtls:\n    mode: STRICTER\n";
  const r = await validate(["-f", "-"], yaml);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /<stdin>:6:5 spec\.mtls\.mode: Unsupported value: "STRICTER"/);
  const ok = await validate(["-f", "-"], yaml.replace("STRICTER", "STRICT"));
  assert.equal(ok.code, 0, ok.stdout);
});

test("-o json gives a machine-readable report", async () => {
  const r = await validate(["-o", "json", "-f", join(dir, "bad-authz.yaml")]);
  assert.equal(r.code, 1);
  const report = JSON.parse(r.stdout) as { valid: boolean; resources: { kind: string; status: string; diagnostics: { path: string; source: { line: number; column: number } }[] }[] };
  assert.equal(report.valid, false);
  assert.equal(report.resources[0]?.kind, "AuthorizationPolicy");
  assert.equal(report.resources[0]?.status, "invalid");
  assert.deepEqual(report.resources[0]?.diagnostics.map((d) => [d.path, d.source.line, d.source.column]), [["spec.rules[0].from[0].source.ipBlocks[1]", 12, 11]]);
});

test("YAML syntax errors and missing files: exit 1 with the file named", async () => {
  const bad = await validate(["-f", join(dir, "syntax.yaml")]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, new RegExp(`ERROR \\[AMM0001\\] ${escape(join(dir, "syntax.yaml"))}:\\d+:\\d+ YAML syntax`));
  const missing = await validate(["-f", join(dir, "nope.yaml")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /cannot read .*nope\.yaml: no such file or directory/);
});

test("usage errors: exit 2 with a clear message", async () => {
  const cases: [string[], RegExp][] = [
    [[], /no config given; pass -f FILE/],
    [["--bogus"], /unknown flag "--bogus"/],
    [["x.yaml"], /unexpected argument "x\.yaml"; pass files with -f x\.yaml/],
    [["-f"], /-f needs a value/],
    [["-f", "a.yaml", "-o", "yaml"], /unknown output format "yaml"/],
    [["\u00ff\u0001 garbage"], /unexpected argument/],
  ];
  for (const [args, want] of cases) {
    const r = await validate(args);
    assert.equal(r.code, 2, JSON.stringify(args));
    assert.match(r.stderr, want);
    assert.match(r.stderr, /Usage: amime validate/);
    assert.equal(r.stdout, "");
  }
  const help = await validate(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: amime validate -f FILE\|DIR\|-/);
});
