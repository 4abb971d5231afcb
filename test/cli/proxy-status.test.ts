// End to end: `amime proxy-status` and `amime proxy-config` as real processes against a real
// control plane, with one real `amime proxy --xds` sidecar (SYNCED), stream clients that NACK or
// never answer (NACK with its reason, STALE), a connected node with no registration (NOT SENT),
// and each proxy-config table looked up by node id, instance name and workload name.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { meshProxy, register as registerProxy, spawnProxy, stopProxy, type MeshProxy } from "../control-plane/mesh-harness.ts";
import { amime, connectStream, register, registration, startMesh, type StreamClient, type TestMesh } from "./control-plane-cli.ts";
import { waitFor } from "../support/wait.ts";

let mesh: TestMesh;
let cp: string[];
let sidecar: MeshProxy;
const streams: StreamClient[] = [];

before(async () => {
  mesh = await startMesh(["virtual-service-reviews-test-v2.yaml"]);
  cp = mesh.cliArgs;
  // A real sidecar process for productpage: connects, applies, ACKs.
  sidecar = await meshProxy("productpage", "v1");
  await registerProxy(mesh.cp, sidecar);
  await spawnProxy(mesh.cp, sidecar);
  await register(mesh, registration("reviews", "v1", "127.0.0.21"));
  await register(mesh, registration("reviews", "v2", "127.0.0.22", false));
  streams.push(await connectStream(mesh, "sidecar~reviews-v1-0.default", { nack: "route reviews: bad regex \"(\"" }));
  streams.push(await connectStream(mesh, "sidecar~reviews-v2-0.default", { silent: true }));
  // Connected, but registered nowhere: nothing to push.
  streams.push(await connectStream(mesh, "sidecar~ghost-0.default", { waitForConfig: false }));
  // Registrations bump the version; wait until the sidecar has ACKed the last one.
  const settled = (): boolean => mesh.cp.proxies().length === 4 && mesh.cp.proxies().some((p) => p.state === "SYNCED" && p.ackedVersion === mesh.cp.version);
  await waitFor(settled, { what: "four proxies known and the sidecar SYNCED at the current version" });
});
after(async () => {
  for (const s of streams) s.close();
  await stopProxy(sidecar);
  await mesh.close();
});

test("proxy-status: SYNCED, NACK with its reason, STALE and NOT SENT", async () => {
  const r = await amime(["proxy-status", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  const v = mesh.cp.version;
  const rows = r.stdout.trimEnd().split("\n").map((l) => l.split(/\s{3,}/));
  assert.deepEqual(rows, [
    ["NAME", "WORKLOAD", "CONNECTED", "VERSION", "STATE", "REASON"],
    ["sidecar~ghost-0.default", "ghost-0.default", "yes", "-", "NOT SENT"],
    ["sidecar~productpage-v1-0.default", "productpage-v1.default", "yes", v, "SYNCED"],
    ["sidecar~reviews-v1-0.default", "reviews-v1.default", "yes", "-", "NACK", 'route reviews: bad regex "("'],
    ["sidecar~reviews-v2-0.default", "reviews-v2.default", "yes", "-", "STALE"],
  ]);
});

test("proxy-status -o json and a WORKLOAD filter", async () => {
  let r = await amime(["proxy-status", "-o", "json", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { node: string; state: string; error?: string }[];
  assert.equal(list.find((p) => p.node === "sidecar~reviews-v1-0.default")?.error, 'route reviews: bad regex "("');
  r = await amime(["proxy-status", "reviews-v2", ...cp]);
  assert.equal(r.stdout.trimEnd().split("\n").length, 2);
  assert.match(r.stdout, /sidecar~reviews-v2-0\.default\s+reviews-v2\.default\s+yes\s+-\s+STALE/);
  r = await amime(["proxy-status", "nope", ...cp]);
  assert.equal(r.code, 1);
});

test("proxy-config clusters / endpoints / routes / listeners by workload, instance and node id", async () => {
  let r = await amime(["proxy-config", "clusters", "productpage-v1", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^SERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+TYPE\s+LB\n/);
  assert.match(r.stdout, /\nreviews\.default\.svc\.cluster\.local\s+9080\s+v2\s+outbound\s+EDS\s+LEAST_REQUEST\n/);

  r = await amime(["proxy-config", "endpoints", "productpage-v1-0", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\n127\.0\.0\.21:9080\s+HEALTHY\s+outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local\n/);
  assert.match(r.stdout, /\n127\.0\.0\.22:9080\s+UNHEALTHY\s+outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local\n/);

  r = await amime(["proxy-config", "routes", "sidecar~productpage-v1-0.default", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\noutbound\s+reviews\.default\.svc\.cluster\.local:9080\s+reviews\.default\.svc\.cluster\.local:9080 \+\d more\s+\/\* end-user=jason\s+reviews\.default\n/);

  r = await amime(["proxy-config", "listeners", "productpage-v1", ...cp]);
  assert.match(r.stdout, new RegExp(`\\noutbound\\s+127\\.0\\.0\\.1\\s+${sidecar.outboundPort}\\s+outbound\\s+HTTP\\s+Route: outbound\\n`));

  r = await amime(["proxy-config", "cluster", "productpage-v1", "-o", "json", ...cp]);
  const clusters = JSON.parse(r.stdout) as { name: string; lb: { policy: string } }[];
  assert.ok(clusters.some((c) => c.name === "outbound|9080|v2|reviews.default.svc.cluster.local"));

  r = await amime(["proxy-config", "bogus", "productpage-v1", ...cp]);
  assert.equal(r.code, 2);
  // The sidecar asks the mesh CA for its certificate when it starts.
  await waitFor(() => mesh.cp.secret(sidecar.nodeId), { what: "the sidecar's certificate" });
  r = await amime(["proxy-config", "secrets", "productpage-v1", ...cp]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\ndefault\s+Cert Chain\s+ACTIVE\s+true\s+[0-9a-f]{32}\s/);
  assert.match(r.stdout, /Identity: spiffe:\/\/cluster\.local\/ns\/default\/sa\/productpage\n/);
  r = await amime(["proxy-config", "clusters", "ghost-0", ...cp]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nothing pushed to sidecar~ghost-0\.default yet/);
});
