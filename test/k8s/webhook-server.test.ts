// The admission webhooks served by `amime control-plane --webhook-port`, called with curl over
// HTTPS verified against the mesh root (as the API server does with the caBundle): an
// AdmissionReview for a valid VirtualService is allowed, an invalid one denied with the field
// path, malformed requests get 4xx with the reason. The real API server calling it: api-server-webhooks.test.ts.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { runTool, startControlPlane, type ControlPlaneProcess } from "./control-plane-process.ts";
import { tearDown } from "./teardown.ts";

let dir: string;
let cp: ControlPlaneProcess;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "amime-webhook-"));
  cp = await startControlPlane(["--port", "0", "--webhook-port", "0", "--state-dir", join(dir, "state"), "--allowed-host", "amime.istio-system.svc"]);
});
after(() => tearDown({ controlPlane: cp, dir }));

function review(weight: number): string {
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "3b7a6c38-0f5e-4c33-9a3e-6a1f2a7d1c00",
      kind: { group: "networking.istio.io", version: "v1", kind: "VirtualService" },
      resource: { group: "networking.istio.io", version: "v1", resource: "virtualservices" },
      namespace: "default",
      operation: "CREATE",
      object: { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "reviews", namespace: "default" }, spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews" }, weight }] }] } },
    },
  });
}

/** curl verifying the server against the mesh root, dialling `host` (resolved to 127.0.0.1). */
function curl(path: string, opts: { body?: string; type?: string; host?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const port = cp.ready.webhookPort as number;
  const host = opts.host ?? "127.0.0.1";
  const args = ["-sS", "--cacert", cp.ready.rootCertFile, "-w", "\n%{http_code}", "--resolve", `${host}:${port}:127.0.0.1`, `https://${host}:${port}${path}`];
  if (opts.body !== undefined) args.push("-H", `content-type: ${opts.type ?? "application/json"}`, "--data-binary", "@-");
  return runTool("curl", args, { stdin: opts.body ?? "" });
}

function parts(out: string): { body: string; status: number } {
  const nl = out.lastIndexOf("\n");
  return { body: out.slice(0, nl), status: Number(out.slice(nl + 1)) };
}

it("prints the webhook port in its ready line and is ready over TLS verified against the mesh root, by IP and by the Service name", async () => {
  assert.ok((cp.ready.webhookPort ?? 0) > 0);
  assert.notEqual(cp.ready.webhookPort, cp.ready.port);
  for (const host of ["127.0.0.1", "amime.istio-system.svc"]) {
    const r = await curl("/ready", { host });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parts(r.stdout), { body: "ok\n", status: 200 });
  }
});

it("allows a valid VirtualService and denies an invalid one with its field path", async () => {
  const ok = parts((await curl("/validate", { body: review(100) })).stdout);
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "3b7a6c38-0f5e-4c33-9a3e-6a1f2a7d1c00", allowed: true } });
  const bad = parts((await curl("/validate", { body: review(-5) })).stdout);
  assert.equal(bad.status, 200);
  const response = (JSON.parse(bad.body) as { response: { allowed: boolean; status: { message: string } } }).response;
  assert.equal(response.allowed, false);
  assert.equal(response.status.message, "configuration is invalid: spec.http[0].route[0].weight: weight -5 < 0 [AMM0012]");
});

it("answers malformed requests with 4xx and the reason, never a crash", async () => {
  assert.equal(parts((await curl("/validate", { body: "{not json" })).stdout).status, 400);
  const wrongKind = parts((await curl("/validate", { body: JSON.stringify({ apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview" }) })).stdout);
  assert.equal(wrongKind.status, 400);
  assert.match(wrongKind.body, /expected apiVersion admission\.k8s\.io\/v1/);
  assert.equal(parts((await curl("/validate", { body: review(1), type: "text/plain" })).stdout).status, 415);
  assert.equal(parts((await curl("/validate")).stdout).status, 405);
  assert.equal(parts((await curl("/nope", { body: review(1) })).stdout).status, 404);
  // Still serving after all of that.
  assert.equal(parts((await curl("/validate", { body: review(100) })).stdout).status, 200);
});
