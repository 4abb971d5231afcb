import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigStore } from "./config-store.ts";

const SERVICES = `apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

const vs = (subset: string, host = "reviews") => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: ${host}, subset: ${subset}}
`;

async function loaded(): Promise<ConfigStore> {
  const s = new ConfigStore(() => 1000);
  const r = await s.setFiles(new Map([["/cfg/services.yaml", SERVICES], ["/cfg/vs.yaml", vs("v1")]]));
  assert.equal(r.accepted, true, JSON.stringify(r.diagnostics));
  return s;
}

const subsetOf = (s: ConfigStore): unknown => {
  const v = s.resources().find((r) => r.kind === "VirtualService");
  return (v?.body as { spec: { http: { route: { destination: { subset: string } }[] }[] } }).spec.http[0]!.route[0]!.destination.subset;
};

describe("ConfigStore", () => {
  it("accepts a valid file set and keeps load order", async () => {
    const s = await loaded();
    assert.deepEqual(s.resources().map((r) => r.kind), ["Service", "DestinationRule", "VirtualService"]);
    assert.deepEqual(s.lastRefusals(), []);
  });

  it("refuses a file edit with a schema error: the last good resources stay and the diagnostics are kept", async () => {
    const s = await loaded();
    const before = s.resources();
    const bad = vs("v2").replace("hosts: [reviews]", "hosts: [reviews]\n  tcp: 7");
    const r = await s.setFiles(new Map([["/cfg/vs.yaml", bad]]));
    assert.equal(r.accepted, false);
    assert.equal(r.changed, false);
    const err = r.diagnostics.find((d) => d.level === "error");
    assert.ok(err, "an error diagnostic");
    assert.equal(err.source.file, "/cfg/vs.yaml");
    assert.ok(err.source.line > 0);
    assert.deepEqual(s.resources(), before);
    assert.equal(subsetOf(s), "v1");
    assert.equal(s.lastRefusals().length, 1);
    assert.equal(s.lastRefusals()[0]!.source, "/cfg/vs.yaml");
    // A later good edit of the same file is accepted and clears the refusal.
    const ok = await s.setFiles(new Map([["/cfg/vs.yaml", vs("v2")]]));
    assert.equal(ok.accepted, true);
    assert.equal(subsetOf(s), "v2");
    assert.deepEqual(s.lastRefusals(), []);
  });

  it("refuses a change that breaks a cross-resource check (unknown subset), even though each document is valid alone", async () => {
    const s = await loaded();
    const r = await s.apply(vs("v9"), "change.yaml");
    assert.equal(r.accepted, false);
    assert.ok(r.diagnostics.some((d) => d.code === "IST0101" && d.source.file === "change.yaml" && d.source.line > 0), JSON.stringify(r.diagnostics));
    assert.equal(subsetOf(s), "v1");
  });

  it("refuses a YAML syntax error", async () => {
    const s = await loaded();
    const r = await s.setFiles(new Map([["/cfg/vs.yaml", "kind: [unclosed"]]));
    assert.equal(r.accepted, false);
    assert.equal(subsetOf(s), "v1");
  });

  it("warnings do not refuse", async () => {
    const s = await loaded();
    // A subset no workload has is only a warning (IST0173 needs workloads; none are in config).
    const r = await s.apply(vs("v2"), "x.yaml");
    assert.equal(r.accepted, true);
    assert.equal(r.diagnostics.some((d) => d.level === "error"), false);
  });

  it("apply reports created / configured / unchanged and replaces a same-named file resource", async () => {
    const s = await loaded();
    const r1 = await s.apply(vs("v2"), "a.yaml");
    assert.deepEqual(r1.changes, [{ resource: "VirtualService default/reviews", action: "configured" }]);
    assert.equal(r1.changed, true);
    assert.equal(subsetOf(s), "v2");
    assert.equal(s.resources().filter((r) => r.kind === "VirtualService").length, 1);
    const r2 = await s.apply(vs("v2"), "a.yaml");
    assert.deepEqual(r2.changes, [{ resource: "VirtualService default/reviews", action: "unchanged" }]);
    assert.equal(r2.changed, false);
    // A second VirtualService for the same host would conflict (IST0109): refused.
    assert.equal((await s.apply(vs("v1").replace("name: reviews}", "name: other}"), "b.yaml")).accepted, false);
    const r3 = await s.apply(SERVICES.split("---")[0]!.replaceAll("reviews", "ratings"), "b.yaml");
    assert.deepEqual(r3.changes, [{ resource: "Service default/ratings", action: "created" }]);
    assert.equal(s.entries().find((e) => e.resource.metadata.name === "ratings")?.origin, "apply");
    assert.equal(s.entries().find((e) => e.resource.kind === "Service" && e.resource.metadata.name === "reviews")?.origin, "file");
  });

  it("delete removes applied resources and hides file ones until their file changes", async () => {
    const s = await loaded();
    const r = await s.delete(vs("v1"), "d.yaml");
    assert.equal(r.accepted, true);
    assert.deepEqual(r.changes, [{ resource: "VirtualService default/reviews", action: "deleted" }]);
    assert.equal(s.resources().some((x) => x.kind === "VirtualService"), false);
    const again = await s.delete(vs("v1"), "d.yaml");
    assert.deepEqual(again.changes, []);
    assert.ok(again.diagnostics.some((d) => /not found/.test(d.message)));
    await s.setFiles(new Map([["/cfg/vs.yaml", vs("v2")]]));
    assert.equal(subsetOf(s), "v2");
  });

  it("refuses a delete that would leave a dangling reference", async () => {
    const s = await loaded();
    const r = await s.delete(SERVICES.split("---")[1]!, "d.yaml");
    assert.equal(r.accepted, false, "the VirtualService's subset would no longer exist");
    assert.equal(s.resources().length, 3);
  });

  it("a removed file drops its resources", async () => {
    const s = await loaded();
    const r = await s.setFiles(new Map([["/cfg/vs.yaml", null]]));
    assert.equal(r.accepted, true);
    assert.deepEqual(r.changes, [{ resource: "VirtualService default/reviews", action: "deleted" }]);
    assert.deepEqual(s.fileNames(), ["/cfg/services.yaml"]);
  });

  it("an EnvoyFilter in the set is accepted with AMM1013 and the rest loads; a Telemetry provider resolves against the mesh's MeshConfig", async () => {
    const ef = "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: f, namespace: istio-system}\nspec:\n  configPatches:\n  - applyTo: CLUSTER\n    patch: {operation: REMOVE}\n";
    const s = new ConfigStore(() => 1000);
    const r = await s.setFiles(new Map([["/cfg/services.yaml", SERVICES], ["/cfg/ef.yaml", ef], ["/cfg/vs.yaml", vs("v1")]]));
    assert.equal(r.accepted, true, JSON.stringify(r.diagnostics));
    assert.deepEqual(r.diagnostics.map((d) => `${d.code} ${d.source.file}`), ["AMM1013 /cfg/ef.yaml"]);
    assert.deepEqual(s.resources().map((x) => x.kind), ["Service", "DestinationRule", "EnvoyFilter", "VirtualService"]);

    const tel = "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t, namespace: istio-system}\nspec:\n  tracing: [{providers: [{name: zipkin}]}]\n";
    assert.equal((await new ConfigStore(() => 1000).setFiles(new Map([["/cfg/t.yaml", tel]]))).accepted, false);
    const withMesh = new ConfigStore(() => 1000, { meshConfig: { extensionProviders: [{ name: "zipkin", zipkin: { service: "127.0.0.1", port: 9411 } }] } });
    assert.equal((await withMesh.setFiles(new Map([["/cfg/t.yaml", tel]]))).accepted, true);
  });
});
