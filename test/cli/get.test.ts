// End to end: `amime get` as a real process against a real control plane holding bookinfo's
// Services, destination-rule-all and virtual-service-reviews-test-v2 from files: each output
// format, namespaces, `all`, NotFound and unknown kinds.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { amime, startMesh, type TestMesh } from "./control-plane-cli.ts";

const SHOP_PA = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: shop}
spec:
  mtls: {mode: STRICT}
`;

let mesh: TestMesh;
let cp: string[];
before(async () => {
  mesh = await startMesh(["virtual-service-reviews-test-v2.yaml"], { "pa.yaml": SHOP_PA });
  cp = mesh.cliArgs;
});
after(() => mesh.close());

test("get vs: NAME, HOSTS, GATEWAYS, HTTP ROUTES; wide adds SOURCE file:line", async () => {
  let r = await amime(["get", "vs", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "NAME      HOSTS     GATEWAYS   HTTP ROUTES\nreviews   reviews   mesh       2\n");
  r = await amime(["get", "virtualservices.networking.istio.io", "-o", "wide", ...cp]);
  const file = join(mesh.dir, "config", "virtual-service-reviews-test-v2.yaml");
  assert.equal(r.stdout, `NAME      HOSTS     GATEWAYS   HTTP ROUTES   SOURCE\nreviews   reviews   mesh       2             ${file}:1\n`);
});

test("get dr and svc show their kind's columns", async () => {
  let r = await amime(["get", "dr", "reviews", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "NAME      HOST      SUBSETS    LOAD BALANCER\nreviews   reviews   v1,v2,v3   <default>\n");
  r = await amime(["get", "svc", ...cp]);
  const lines = r.stdout.trimEnd().split("\n");
  assert.deepEqual(lines[0]?.split(/\s{2,}/), ["NAME", "TYPE", "PORTS", "SELECTOR"]);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), ["details", "productpage", "ratings", "reviews"]);
  assert.match(r.stdout, /reviews\s+ClusterIP\s+9080\/http\s+app=reviews/);
});

test("-o yaml / json print the stored document; several as a List; -o name", async () => {
  let r = await amime(["get", "vs", "reviews", "-o", "yaml", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  const doc = parse(r.stdout) as { kind: string; metadata: { name: string }; spec: { http: { match?: { headers: Record<string, unknown> }[] }[] } };
  assert.equal(doc.kind, "VirtualService");
  assert.deepEqual(doc.spec.http[0]?.match?.[0]?.headers, { "end-user": { exact: "jason" } });
  r = await amime(["get", "dr", "-o", "json", ...cp]);
  const list = JSON.parse(r.stdout) as { kind: string; items: { metadata: { name: string } }[] };
  assert.equal(list.kind, "List");
  assert.deepEqual(list.items.map((i) => i.metadata.name), ["details", "productpage", "ratings", "reviews"]);
  r = await amime(["get", "vs/reviews", "-o", "name", ...cp]);
  assert.equal(r.stdout, "virtualservice.networking.istio.io/reviews\n");
});

test("namespaces: default by default, -n, -A adds NAMESPACE; empty lists are not errors", async () => {
  let r = await amime(["get", "pa", ...cp]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "No resources found in default namespace.\n");
  r = await amime(["get", "pa", "-n", "shop", ...cp]);
  assert.equal(r.stdout, "NAME     MODE     SELECTOR\nstrict   STRICT   <none>\n");
  r = await amime(["get", "peerauthentications", "-A", ...cp]);
  assert.equal(r.stdout, "NAMESPACE   NAME     MODE     SELECTOR\nshop        strict   STRICT   <none>\n");
});

test("get all: one table per kind, rows named kind.group/name", async () => {
  const r = await amime(["get", "all", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  const sections = r.stdout.split("\n\n");
  assert.equal(sections.length, 3, r.stdout);
  assert.match(sections[0] ?? "", /^NAME\s+HOSTS.*\nvirtualservice\.networking\.istio\.io\/reviews\s/);
  assert.match(sections[1] ?? "", /^NAME\s+HOST\s+SUBSETS.*\ndestinationrule\.networking\.istio\.io\/details\s/);
  assert.match(sections[2] ?? "", /\nservice\/reviews\s/);
  assert.doesNotMatch(r.stdout, /peerauthentication/);
});

test("NotFound exits 1 like kubectl; unknown kinds and bad flags exit 2", async () => {
  let r = await amime(["get", "dr", "nope", ...cp]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error from server (NotFound): destinationrules.networking.istio.io "nope" not found\n');
  r = await amime(["get", "pods", ...cp]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown kind "pods"; known kinds: virtualservices \(vs\), destinationrules \(dr\), gateways \(gw\)/);
  r = await amime(["get", "vs", "-o", "table", ...cp]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /-o: unknown value "table" \(use wide, yaml, json, name\)/);
  r = await amime(["get", "vs", "-n", "x", "-A", ...cp]);
  assert.equal(r.code, 2);
});
