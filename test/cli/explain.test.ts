// End to end: `amime explain` as a real process against a real control plane (bookinfo Services,
// destination-rule-all, virtual-service-reviews-test-v2 from files) with registered instances
// and productpage's push stream connected: jason goes to v2 and others fail on the header, with
// file:line of the rule; a 90-10 split applied later shows its shares; 404 NR says why.
import assert from "node:assert/strict";
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { amime, BOOKINFO, connectStream, register, registration, startMesh, type StreamClient, type TestMesh } from "./control-plane-cli.ts";
import { waitFor } from "../support/wait.ts";

let mesh: TestMesh;
let cp: string[];
let stream: StreamClient;
const PRODUCTPAGE = "sidecar~productpage-v1-0.default";

/** Until the config pushed to productpage is the control plane's current version. */
async function pushed(): Promise<void> {
  await waitFor(() => mesh.cp.proxyConfig(PRODUCTPAGE)?.version === mesh.cp.version, { what: "the current config to be pushed to productpage" });
}

before(async () => {
  mesh = await startMesh(["virtual-service-reviews-test-v2.yaml"]);
  cp = mesh.cliArgs;
  await register(mesh, registration("productpage", "v1", "127.0.0.11"));
  await register(mesh, registration("reviews", "v1", "127.0.0.21"));
  await register(mesh, registration("reviews", "v2", "127.0.0.22"));
  stream = await connectStream(mesh, PRODUCTPAGE);
  await pushed();
});
after(async () => {
  stream.close();
  await mesh.close();
});

test("end-user: jason matches rule 0 and goes to reviews v2; the rule's file:line is shown", async () => {
  const r = await amime(["explain", "productpage-v1", "http://reviews:9080/reviews/1", "-H", "end-user: jason", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  const file = join(mesh.dir, "config", "virtual-service-reviews-test-v2.yaml");
  assert.match(r.stdout, /Virtual host: reviews\.default\.svc\.cluster\.local:9080\n\s+chosen by domain "reviews:9080" for authority "reviews:9080" \(exact match\)/);
  assert.ok(r.stdout.includes(`#0 (unnamed): MATCHED  — VirtualService default/reviews http[0].match[0] (${file}:9)`), r.stdout);
  assert.match(r.stdout, /Selected route #0/);
  assert.match(r.stdout, /100%  outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local  \(weight 100; reviews\.default\.svc\.cluster\.local:9080, subset v2\)/);
  assert.match(r.stdout, /127\.0\.0\.22:9080\s+HEALTHY\s+candidate\s+reviews-v2\s*$/m);
  assert.doesNotMatch(r.stdout, /127\.0\.0\.21/);
  assert.match(r.stdout, /Result: forwarded: 100% to outbound\|9080\|v2\|/);
});

test("without the header rule 0 fails on end-user and rule 1 sends to v1", async () => {
  const r = await amime(["explain", "productpage-v1-0", "reviews:9080/reviews/1", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /#0 \(unnamed\): not matched .*http\[0\]\.match\[0\].*\n\s+✗ header end-user: expected exact "jason", got nothing/);
  assert.match(r.stdout, /#1 \(unnamed\): MATCHED .*http\[1\] \(.*virtual-service-reviews-test-v2\.yaml:17\)/);
  assert.match(r.stdout, /100%  outbound\|9080\|v1\|reviews/);
  assert.match(r.stdout, /127\.0\.0\.21:9080\s+HEALTHY\s+candidate\s+reviews-v1\s*$/m);
});

test("-o json carries the same facts as a structure", async () => {
  const r = await amime(["explain", PRODUCTPAGE, "http://reviews:9080/", "-H", "End-User: mary", "-o", "json", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    request: { headers: Record<string, string> };
    routes: { matched: boolean; failures: string[] }[];
    selected: { index: number; origin: { resource: string; ruleIndex: number } };
    destinations: { cluster: string; share: number; endpoints: { address: string; healthy: boolean }[] }[];
    outcome: { kind: string };
  };
  assert.deepEqual(report.request.headers, { "end-user": "mary" });
  assert.deepEqual(report.routes.map((x) => x.failures), [['header end-user: expected exact "jason", got "mary"'], []]);
  assert.deepEqual(report.selected.origin.ruleIndex, 1);
  assert.deepEqual(report.destinations.map((d) => [d.cluster, d.share, d.endpoints.map((e) => e.address)]), [["outbound|9080|v1|reviews.default.svc.cluster.local", 100, ["127.0.0.21"]]]);
  assert.equal(report.outcome.kind, "forward");
});

test("after applying 90-10, explain shows both destinations with their shares", async () => {
  const file = join(mesh.dir, "90-10.yaml");
  await copyFile(join(BOOKINFO, "networking", "virtual-service-reviews-90-10.yaml"), file);
  const a = await amime(["apply", "-f", file, ...cp]);
  assert.equal(a.stdout, "virtualservice.networking.istio.io/reviews configured\n", a.stderr);
  await pushed();
  const r = await amime(["explain", "productpage-v1", "http://reviews:9080/reviews/1", "-H", "end-user: jason", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, / 90%  outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local  \(weight 90;/);
  assert.match(r.stdout, / 10%  outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local  \(weight 10;/);
  assert.ok(r.stdout.includes(`(${file}:`), "origin names the applied file");
  assert.match(r.stdout, /Result: forwarded: 90% to .*v1.*, 10% to .*v2/);
});

test("no route: 404 NR and why (exit 1); unknown workload lists the known proxies", async () => {
  const file = join(mesh.dir, "ratings-only.yaml");
  await writeFile(file, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - match:
    - uri: {prefix: /ratings}
    route:
    - destination: {host: ratings, subset: v1}
`);
  assert.equal((await amime(["apply", "-f", file, ...cp])).code, 0);
  await pushed();
  let r = await amime(["explain", "productpage-v1", "http://ratings:9080/health", "-X", "POST", ...cp]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✗ uri: expected prefix "\/ratings", got "\/health"/);
  assert.match(r.stdout, /Result: no route of virtual host ratings\.default\.svc\.cluster\.local:9080 matches: 404 NR/);

  r = await amime(["explain", "nosuch", "http://ratings:9080/", ...cp]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `amime: no proxy matches "nosuch"; known proxies: ${PRODUCTPAGE}\n`);
  r = await amime(["explain", "productpage-v1", ...cp]);
  assert.equal(r.code, 2);
  r = await amime(["explain", "productpage-v1", "http://x/", "-H", "bad", ...cp]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /header "bad" must be "name: value"/);
});

test("authorization at the destination: the DENY policy and rule that would answer 403, from reviews-v1's pushed config", async () => {
  const file = join(mesh.dir, "deny-reviews.yaml");
  await writeFile(file, `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-reviews-1}
spec:
  selector: {matchLabels: {app: reviews}}
  action: DENY
  rules:
  - to:
    - operation: {paths: ["/reviews/1"]}
`);
  assert.equal((await amime(["apply", "-f", file, ...cp])).code, 0);
  const reviews = await connectStream(mesh, "sidecar~reviews-v1-0.default");
  try {
    await waitFor(() => mesh.cp.proxyConfig("sidecar~reviews-v1-0.default")?.version === mesh.cp.version, { what: "the current config to be pushed to reviews-v1" });
    let r = await amime(["explain", "productpage-v1", "http://reviews:9080/reviews/1", ...cp]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Authorization at the destination .*\n  sidecar~reviews-v1-0\.default \(inbound\|9080\): denied \(403 RBAC: access denied\) by ns\[default\]-policy\[deny-reviews-1\] rule 0\n/);
    assert.match(r.stdout, /\n  reviews-v2: not shown: its proxy is not connected to the control plane \(no pushed config to read\)\n/);
    r = await amime(["explain", "productpage-v1", "http://reviews:9080/reviews/2", ...cp]);
    assert.match(r.stdout, /sidecar~reviews-v1-0\.default \(inbound\|9080\): allowed: no ALLOW policy applies and no DENY policy matches/);
  } finally {
    reviews.close();
  }
});
