// The dashboard's server side on a real control plane (port 0, real HTTP): sign-in with a login
// code or the admin token into an HttpOnly SameSite=Strict session cookie that can read but not
// change config; the UI's files served as JavaScript; the live event stream; the config view, a
// service's detail and a dry run that shows what each proxy would receive and applies nothing.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { createDashboardHandler } from "../../src/dashboard/server/handler.ts";
import { adminAuth, meshProxy, register, reviewsTo, SERVICES_YAML } from "../control-plane/mesh-harness.ts";
import { trustMeshRoot } from "../support/mesh-root.ts";

const PRODUCTPAGE_YAML = `apiVersion: v1
kind: Service
metadata: {name: productpage}
spec:
  selector: {app: productpage}
  ports: [{name: http, port: 9080}]
`;

function scrape(reviewsV2: number): string {
  const l = 'reporter="destination",source_workload="productpage-v1",source_app="productpage",source_version="v1",source_workload_namespace="default",destination_service="reviews.default.svc.cluster.local",destination_service_namespace="default",destination_workload="reviews-v2",destination_workload_namespace="default",destination_app="reviews",destination_version="v2",request_protocol="http",response_code="200",connection_security_policy="mutual_tls"';
  return `# TYPE istio_requests_total counter\nistio_requests_total{${l}} ${reviewsV2}\n# TYPE istio_request_duration_milliseconds histogram\nistio_request_duration_milliseconds_bucket{${l},le="10"} ${reviewsV2}\nistio_request_duration_milliseconds_bucket{${l},le="+Inf"} ${reviewsV2}\n`;
}

describe("dashboard API", { timeout: 60_000 }, () => {
  let dir: string;
  let cp: ControlPlane;
  let cookie = "";
  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${cp.url}${path}`, { headers, redirect: "manual" });
  const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${cp.url}${path}`, { method: "POST", body, headers, redirect: "manual" });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "amime-dashboard-"));
    writeFileSync(join(dir, "services.yaml"), SERVICES_YAML + "---\n" + PRODUCTPAGE_YAML);
    cp = await ControlPlane.start({ dashboard: createDashboardHandler, port: 0, configPaths: [dir], debounceMs: 10, watch: false });
    // The control plane serves https with a certificate from the mesh CA: trust its root, as a browser would once told to.
    trustMeshRoot(cp.trustBundle);
    for (const [app, v] of [["productpage", "v1"], ["reviews", "v1"], ["reviews", "v2"]] as const) await register(cp, await meshProxy(app, v));
  });
  after(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends a browser without a session to the sign-in page", async () => {
    const r = await get("/dashboard/");
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("location"), "/dashboard/login");
    const page = await get("/dashboard/login");
    assert.equal(page.status, 200);
    assert.match(await page.text(), /name="token"/);
    assert.equal((await get("/dashboard/api/config")).status, 401);
  });

  it("a login code is single use and becomes a Secure, HttpOnly, SameSite=Strict session cookie", async () => {
    assert.equal((await post("/api/v1/dashboard/login-codes", "")).status, 401, "minting takes the admin credential");
    const minted = await post("/api/v1/dashboard/login-codes", "", adminAuth(cp));
    assert.equal(minted.status, 200);
    const { path } = (await minted.json()) as { path: string };
    const r = await get(path);
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("location"), "/dashboard/");
    const set = r.headers.get("set-cookie") ?? "";
    assert.match(set, /^amime_session=[A-Za-z0-9_-]{20,}; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    cookie = set.split(";")[0]!;
    assert.equal((await get(path)).status, 401, "second use");
    const home = await get("/dashboard/", { cookie });
    assert.equal(home.status, 200);
    const html = await home.text();
    assert.match(html, /importmap/);
    // CSP: scripts from the origin and the import map by its hash, nothing else inline.
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const csp = home.headers.get("content-security-policy") ?? "";
    assert.match(csp, new RegExp(`script-src 'self' 'sha256-${createHash("sha256").update(map).digest("base64").replace(/[+/]/g, "\\$&")}';`));
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
  });

  it("the admin token signs in through the form; anything else does not", async () => {
    const ok = await post("/dashboard/login", `token=${encodeURIComponent(cp.adminToken)}`, { "content-type": "application/x-www-form-urlencoded", origin: cp.url });
    assert.equal(ok.status, 303);
    assert.match(ok.headers.get("set-cookie") ?? "", /HttpOnly; SameSite=Strict/);
    const bad = await post("/dashboard/login", "token=amime1.nope.nope", { "content-type": "application/x-www-form-urlencoded" });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get("set-cookie"), null);
    const foreign = await post("/dashboard/login", `token=${encodeURIComponent(cp.adminToken)}`, { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" });
    assert.equal(foreign.status, 403, "cross-site form post");
  });

  it("a session reads but cannot change config", async () => {
    assert.equal((await get("/api/v1/resources", { cookie })).status, 200);
    const r = await post("/api/v1/apply", reviewsTo("v2"), { cookie, "content-type": "text/yaml" });
    assert.equal(r.status, 403);
    assert.equal(cp.resources({ kind: "VirtualService" }).items.length, 0);
  });

  it("serves the UI's modules as JavaScript with the types stripped, and the vendored libraries", async () => {
    const app = await get("/dashboard/assets/ui/app.ts");
    assert.equal(app.status, 200);
    assert.match(app.headers.get("content-type") ?? "", /^text\/javascript/);
    const js = await app.text();
    assert.match(js, /class Live/);
    assert.doesNotMatch(js, /interface LiveStatus|: Graph\)/);
    for (const f of ["cytoscape.esm.min.mjs", "uPlot.esm.js", "uPlot.min.css"]) assert.equal((await get(`/dashboard/vendor/${f}`)).status, 200, f);
    assert.equal((await get("/dashboard/assets/ui/..%2f..%2fcontrol-plane%2fserver.ts")).status, 404);
    assert.equal((await get("/dashboard/assets/control-plane/server.ts")).status, 404);
    assert.equal((await get("/dashboard/assets/shape/graph-elements.test.ts")).status, 404);
  });

  it("streams the graph as server-sent events", async () => {
    cp.telemetry.metrics.ingest("http://127.0.0.1:1/stats/prometheus", 0, scrape(0));
    cp.telemetry.metrics.ingest("http://127.0.0.1:1/stats/prometheus", 10_000, scrape(50));
    const ac = new AbortController();
    const r = await fetch(`${cp.url}/dashboard/api/events?window=1m`, { headers: { cookie }, signal: ac.signal });
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/event-stream/);
    const reader = r.body!.getReader();
    let text = "";
    while (!/event: status\ndata: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    const graph = JSON.parse(/event: graph\ndata: (.*)\n\n/.exec(text)![1]!) as { edges: { target: string; rps: number; mtls: boolean }[] };
    const toV2 = graph.edges.find((e) => e.target === "version:default/reviews/v2");
    assert.equal(toV2?.rps, 5);
    assert.equal(toV2?.mtls, true);
    assert.match(text, /"proxies":0/);
  });

  it("lists every resource with its source, and a service's instances and the config that applies", async () => {
    const c = (await (await get("/dashboard/api/config", { cookie })).json()) as { rows: { kind: string; name: string; source: { file: string; line: number } }[] };
    const dr = c.rows.find((r) => r.kind === "DestinationRule");
    assert.equal(dr?.source.file, join(dir, "services.yaml"));
    assert.equal(dr?.source.line, 8);
    const d = (await (await get("/dashboard/api/detail?service=reviews.default.svc.cluster.local", { cookie })).json()) as { instances: { name: string; proxy: unknown }[]; config: { kind: string; why: string }[]; rows: { version: string; rps: number }[] };
    assert.deepEqual(d.instances.map((i) => [i.name, i.proxy]), [["reviews-v1-0", null], ["reviews-v2-0", null]]);
    assert.deepEqual(d.config.map((x) => `${x.kind}: ${x.why}`), ["DestinationRule: host reviews"]);
    assert.deepEqual(d.rows.map((r) => [r.version, r.rps]), [["v2", 5]]);
    assert.equal((await get("/dashboard/api/detail", { cookie })).status, 400);
  });

  it("a dry run shows what each proxy would receive and applies nothing", async () => {
    const before = cp.version;
    const r = await post("/dashboard/api/dry-run", reviewsTo("v2"), { cookie, "content-type": "text/yaml", origin: cp.url });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { applied: boolean; changes: { resource: string; action: string }[]; proxies: { node: string; changes: { path: string; after?: unknown }[] }[] };
    assert.deepEqual(body.changes, [{ resource: "VirtualService default/reviews", action: "created" }]);
    assert.equal(body.applied, false);
    const nodes = body.proxies.map((p) => p.node).sort();
    assert.ok(nodes.includes("sidecar~productpage-v1-0.default"), JSON.stringify(nodes));
    const pp = body.proxies.find((p) => p.node === "sidecar~productpage-v1-0.default")!;
    assert.ok(pp.changes.some((c) => JSON.stringify(c).includes("outbound|9080|v2|reviews.default.svc.cluster.local")), JSON.stringify(pp.changes).slice(0, 2000));
    assert.equal(cp.version, before, "nothing applied");
    assert.equal(cp.resources({ kind: "VirtualService" }).items.length, 0);
    const bad = (await (await post("/dashboard/api/dry-run", "kind: VirtualService\nmetadata: {name: x}\nspec: {hosts: 7}\n", { cookie })).json()) as { diagnostics: { level: string }[]; proxies: unknown[] };
    assert.ok(bad.diagnostics.some((x) => x.level === "error"));
    assert.deepEqual(bad.proxies, []);
  });

  it("explain asks for a proxy the control plane has pushed to", async () => {
    const r = await post("/dashboard/api/explain", JSON.stringify({ node: "sidecar~productpage-v1-0.default", url: "http://reviews:9080/" }), { cookie });
    assert.equal(r.status, 404, "no sidecar connected: nothing pushed yet");
    assert.equal((await post("/dashboard/api/explain", "{}", { cookie })).status, 400);
  });
});
