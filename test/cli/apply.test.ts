// End to end: `amime apply` and `amime delete` as real processes against a real control plane
// (bookinfo Services + destination-rule-all from files): created / unchanged / configured, local
// refusal with file:line (nothing sent, `get` shows the old config), control-plane refusal with
// its diagnostics, stdin, delete by file and by KIND NAME, NotFound, and control plane discovery
// (flag, env, state file in a parent directory, no control plane, unreachable).
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { amime, closedPort, startMesh, type TestMesh } from "./control-plane-cli.ts";

const vs = (route: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
${route}`;
const V1 = vs("    - destination: {host: reviews, subset: v1}\n");
const SPLIT = vs("    - destination: {host: reviews, subset: v1}\n      weight: 90\n    - destination: {host: reviews, subset: v2}\n      weight: 10\n");
// Line 11 holds the bad weight.
const BAD_WEIGHT = vs("    - destination: {host: reviews, subset: v1}\n      weight: -5\n");
const UNKNOWN_SUBSET = vs("    - destination: {host: reviews, subset: v9}\n");

let mesh: TestMesh;
let cp: string[];
const file = (name: string): string => join(mesh.dir, name);

before(async () => {
  mesh = await startMesh([]);
  cp = mesh.cliArgs;
  await writeFile(file("v1.yaml"), V1);
  await writeFile(file("split.yaml"), SPLIT);
  await writeFile(file("bad.yaml"), BAD_WEIGHT);
  await writeFile(file("unknown-subset.yaml"), UNKNOWN_SUBSET);
});
after(() => mesh.close());

async function reviewsWeights(): Promise<unknown> {
  const r = await amime(["get", "vs", "reviews", "-o", "json", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  const body = JSON.parse(r.stdout) as { spec: { http: { route: { weight?: number }[] }[] } };
  return body.spec.http[0]?.route.map((d) => d.weight ?? null);
}

test("apply: created, then unchanged, then configured; get shows each state", async () => {
  let r = await amime(["apply", "-f", file("v1.yaml"), ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "virtualservice.networking.istio.io/reviews created\n");
  r = await amime(["apply", "-f", file("v1.yaml"), ...cp]);
  assert.equal(r.stdout, "virtualservice.networking.istio.io/reviews unchanged\n");
  r = await amime(["apply", "-f", file("split.yaml"), ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "virtualservice.networking.istio.io/reviews configured\n");
  assert.deepEqual(await reviewsWeights(), [90, 10]);
});

test("apply: an invalid file is refused locally with file:line and field path; nothing changes", async () => {
  const r = await amime(["apply", "-f", file("bad.yaml"), ...cp]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, new RegExp(`ERROR \\[AMM\\d+\\] \\(VirtualService default/reviews\\) ${file("bad.yaml").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:11:\\d+ spec\\.http\\[0\\]\\.route\\[0\\]\\.weight: `));
  assert.match(r.stderr, /nothing was sent, nothing was changed/);
  assert.deepEqual(await reviewsWeights(), [90, 10]);
});

test("apply: the control plane refuses a mesh-level error, prints it, and nothing changes", async () => {
  const r = await amime(["apply", "-f", file("unknown-subset.yaml"), ...cp]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /ERROR \[IST\d+\].*unknown-subset\.yaml:\d+.*v9/);
  assert.match(r.stderr, /the control plane refused .*unknown-subset\.yaml: nothing was changed/);
  assert.deepEqual(await reviewsWeights(), [90, 10]);
});

test("apply -f - reads stdin; -o json prints the control plane's answer", async () => {
  const r = await amime(["apply", "-f", "-", "-o", "json", ...cp], { stdin: V1 });
  assert.equal(r.code, 0, r.stderr);
  const reports = JSON.parse(r.stdout) as { source: string; result: { applied: boolean; changes: unknown[] } }[];
  assert.equal(reports[0]?.source, "<stdin>");
  assert.deepEqual(reports[0]?.result.changes, [{ resource: "VirtualService default/reviews", action: "configured" }]);
  assert.deepEqual(await reviewsWeights(), [null]);
});

test("delete -f, then NotFound; delete KIND NAME", async () => {
  let r = await amime(["delete", "-f", file("v1.yaml"), ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "virtualservice.networking.istio.io/reviews deleted\n");
  r = await amime(["get", "vs", "reviews", ...cp]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error from server (NotFound): virtualservices.networking.istio.io "reviews" not found\n');
  r = await amime(["delete", "-f", file("v1.yaml"), ...cp]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error from server \(NotFound\): virtualservices\.networking\.istio\.io "reviews" not found/);

  assert.equal((await amime(["apply", "-f", file("v1.yaml"), ...cp])).code, 0);
  r = await amime(["delete", "virtualservice", "reviews", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "virtualservice.networking.istio.io/reviews deleted\n");
});

test("usage errors exit 2 with help", async () => {
  const r = await amime(["apply", ...cp]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no config given/);
  assert.match(r.stderr, /Usage: amime apply/);
  assert.equal((await amime(["apply", "--bogus", ...cp])).code, 2);
});

test("discovery: $AMIME_CONTROL_PLANE with $AMIME_TOKEN, and .amime/up.json with its admin-token in a parent directory", async (t) => {
  const root = mesh.cp.rootCertFile as string;
  let r = await amime(["get", "svc", "reviews", "-o", "name"], { env: { AMIME_CONTROL_PLANE: mesh.url, AMIME_TOKEN: mesh.token } });
  assert.equal(r.code, 1, "no mesh root to verify the control plane's certificate with");
  assert.match(r.stderr, /cannot reach the control plane at https:\/\/\S+ \(from \$AMIME_CONTROL_PLANE\): \S+; no mesh root found to verify its certificate with/);
  r = await amime(["get", "svc", "reviews", "-o", "name"], { env: { AMIME_CONTROL_PLANE: mesh.url, AMIME_TOKEN: mesh.token, AMIME_ROOT_CERT: root } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "service/reviews\n");

  // Outside mesh.dir: its .amime/admin-token would be found from below.
  const project = await mkdtemp(join(tmpdir(), "amime-project-"));
  t.after(() => rm(project, { recursive: true, force: true }));
  const deep = join(project, "a", "b");
  await mkdir(join(project, ".amime"), { recursive: true });
  await mkdir(deep, { recursive: true });
  await writeFile(join(project, ".amime", "up.json"), JSON.stringify({ controlPlane: mesh.url, ingress: "http://127.0.0.1:1", pid: process.pid, dir: project }));
  await copyFile(root, join(project, ".amime", "root-cert.pem"));
  r = await amime(["get", "svc", "reviews", "-o", "name"], { cwd: deep });
  assert.equal(r.code, 1, "no admin-token beside up.json yet");
  assert.match(r.stderr, /control plane answered 401 to \/api\/v1\/resources\S*: missing credential.*no credential found/);
  await writeFile(join(project, ".amime", "admin-token"), `${mesh.token}\n`, { mode: 0o600 });
  r = await amime(["get", "svc", "reviews", "-o", "name"], { cwd: deep });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "service/reviews\n");
});

test("a wrong credential is refused (401) and the error names where it came from", async () => {
  const bad = join(mesh.dir, "bad-token");
  await writeFile(bad, "amime1.e30.AAAA\n");
  const r = await amime(["get", "vs", "--control-plane", mesh.url, "--token-file", bad], { env: { AMIME_ROOT_CERT: mesh.cp.rootCertFile as string } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /control plane answered 401 to \/api\/v1\/resources\S*: invalid or superseded credential \(credential from .*bad-token\)/);
});

test("discovery: no control plane anywhere, and a stale state file", async () => {
  const empty = join(mesh.dir, "empty");
  await mkdir(empty, { recursive: true });
  let r = await amime(["get", "vs"], { cwd: empty });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "amime get: no control plane: start one with `amime up -f DIR` or pass --control-plane URL\n");

  const stale = join(mesh.dir, "stale");
  await mkdir(join(stale, ".amime"), { recursive: true });
  await writeFile(join(stale, ".amime", "up.json"), JSON.stringify({ controlPlane: `http://127.0.0.1:${await closedPort()}` }));
  r = await amime(["apply", "-f", file("v1.yaml")], { cwd: stale });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach the control plane at http:\/\/127\.0\.0\.1:\d+ \(from .*up\.json\): ECONNREFUSED; is `amime up` still running\?/);
});

test("apply: a security policy Amime cannot fully enforce is accepted with an AMM1014 warning naming its file and line", async () => {
  await writeFile(file("deny-all.yaml"), "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: deny-all\nspec:\n  rules:\n  - when:\n    - key: connection.sni\n      values: [foo]\n");
  const r = await amime(["apply", "-f", file("deny-all.yaml"), ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "authorizationpolicy.security.istio.io/deny-all created\n");
  assert.match(r.stderr, new RegExp(`^WARNING \\[AMM1014\\] \\(AuthorizationPolicy default/deny-all\\) ${file("deny-all.yaml").replace(/[.]/g, "\\.")}:1:1 Partly enforced: connection\\.sni cannot be evaluated`, "m"));
  const del = await amime(["delete", "-f", file("deny-all.yaml"), ...cp]);
  assert.equal(del.code, 0, del.stderr);
});
