import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseDocuments } from "../parse.ts";
import type { Json, JsonObject } from "../../model/resource.ts";
import { destinationRule, peerAuthentication, routeTo, service, serviceEntry, virtualService, workload } from "./harness.ts";
import { analyze, CHECKS, runChecks, withNamespace } from "./index.ts";

function load(docs: readonly JsonObject[]) {
  return parseDocuments(docs.map((d) => JSON.stringify(d, null, 2)).join("\n---\n"), "case.yaml").resources;
}

test("analyze reports schema errors too (analyze ⊇ validate)", () => {
  const ds = analyze(load([{ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "Bad_Name" }, spec: {} }]));
  assert.ok(ds.some((d) => d.code.startsWith("AMM0") && d.level === "error" && d.path === "metadata.name"), JSON.stringify(ds));
});

test("analyze does not judge resources with schema errors, but still finds what they define", () => {
  // The Service has a schema error (bad name) and the VirtualService refers to a host that does not exist.
  const badVs = virtualService("Bad_Name", { hosts: ["reviews"], http: [{ route: [routeTo("nowhere")] }] });
  const ds = analyze(load([badVs]));
  assert.equal(ds.filter((d) => d.code === "IST0101").length, 0);
  const badService = { ...service("reviews"), metadata: { name: "reviews", labels: { n: 1 } } };
  const ok = analyze(load([badService as JsonObject, virtualService("r", { hosts: ["reviews"], http: [{ route: [routeTo("reviews")] }] })]));
  assert.ok(ok.some((d) => d.code.startsWith("AMM0") && d.resource === "Service default/reviews"), JSON.stringify(ok));
  assert.equal(ok.filter((d) => d.code === "IST0101").length, 0, "a Service with a schema error still defines its host");
});

test("analyze: findings come in file order, then line order", () => {
  const a = parseDocuments(JSON.stringify(virtualService("a", { hosts: ["x"], http: [{ route: [routeTo("x")] }] }), null, 2), "b.yaml").resources;
  const b = parseDocuments(JSON.stringify(virtualService("b", { hosts: ["y"], http: [{ route: [routeTo("y")] }] }), null, 2), "a.yaml").resources;
  const ds = analyze([...a, ...b]).filter((d) => d.code === "IST0101");
  assert.deepEqual(ds.map((d) => d.source.file), ["b.yaml", "a.yaml"]);
});

test("a crashing check becomes an IST0001 error instead of an exception", () => {
  const boom = { name: "boom", run: () => { throw new Error("kaput"); } };
  const ds = analyze(load([service("reviews")]), {}, [boom]);
  assert.ok(ds.some((d) => d.code === "IST0001" && d.message.includes("kaput")));
});

// Start from sensible resources and replace random parts with random JSON: no check may throw.
const templates: JsonObject[] = [
  service("reviews"),
  workload("reviews-v1", { app: "reviews", version: "v1" }),
  serviceEntry("ext", { hosts: ["*.example.com"], endpoints: [{ address: "1.1.1.1", labels: { v: "1" } }], workloadSelector: { labels: { app: "x" } } }),
  destinationRule("reviews", "reviews", { v1: { version: "v1" } }, { trafficPolicy: { tls: { mode: "DISABLE" }, portLevelSettings: [{ port: { number: 80 }, tls: { mode: "SIMPLE" } }] } }),
  peerAuthentication("p", "STRICT", { selector: { app: "reviews" }, portLevelMtls: { "80": { mode: "DISABLE" } } }),
  virtualService("r", {
    hosts: ["reviews"], gateways: ["mesh", "gw"],
    http: [{ match: [{ uri: { prefix: "/" }, headers: { a: { exact: "b" } } }], route: [routeTo("reviews", "v1", 50), routeTo("ratings", "v2", 50)], mirror: { host: "m", subset: "s" }, mirrors: [{ destination: { host: "m" } }] }, { route: [routeTo("reviews")] }],
    tcp: [{ match: [{ port: 1 }], route: [routeTo("db")] }],
  }),
];

function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function setAt(root: JsonObject, path: (string | number)[], value: Json): void {
  let node: Json = root;
  for (const seg of path.slice(0, -1)) node = (node as Record<string, Json>)[seg] as Json;
  (node as Record<string | number, Json>)[path[path.length - 1] as string | number] = value;
}

test("property: no check throws on odd shapes, even when schema validation would have failed", () => {
  const mutation = fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>);
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(templates.length - 1), fc.array(mutation, { maxLength: 4 })), { minLength: 1, maxLength: 6 }), (picks) => {
    const docs = picks.map(([t, muts]) => {
      const doc = structuredClone(templates[t] as JsonObject);
      for (const [n, value] of muts) {
        const spec = doc.spec as Json;
        const ps = paths(spec).filter((p) => p.length > 0);
        if (ps.length === 0) continue;
        setAt(doc.spec as JsonObject, ps[n % ps.length] as (string | number)[], value);
      }
      return doc;
    });
    const resources = load(docs).map((r) => withNamespace(r, "default"));
    const ds = runChecks(resources, resources, {}, CHECKS);
    const internal = ds.filter((d) => d.code === "IST0001");
    assert.deepEqual(internal, [], JSON.stringify(docs));
  }), { numRuns: 300 });
});

test("analyze states a dead rule once, not once per validator warning and once per analyzer finding", () => {
  const jason = { headers: { "end-user": { exact: "jason" } } };
  const vs = virtualService("r", { hosts: ["reviews"], http: [{ match: [jason], route: [routeTo("reviews")] }, { match: [jason], route: [routeTo("reviews")] }, { route: [routeTo("reviews")] }, { route: [routeTo("reviews")] }] });
  const ds = analyze(load([service("reviews"), vs])).filter((d) => /not used/.test(d.message));
  assert.deepEqual(ds.map((d) => `${d.code} ${d.path}`), ["IST0130 spec.http[1]", "IST0130 spec.http[3]"]);
});
