// `amime control-plane` as a real process: the ready line, the API, SIGTERM → exit 0; refusing
// to start on invalid config (exit 1, file:line); usage errors (exit 2).
import { trustMeshRootFile } from "../support/mesh-root.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import type { ControlPlaneStatus } from "../../src/model/wire.ts";
import { BIN, NODE, reviewsTo, SERVICES_YAML } from "./mesh-harness.ts";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "amime-cp-cli-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { child: ReturnType<typeof spawn>; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(NODE, [BIN, "control-plane", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  return { child, out: () => out, err: () => err, exit };
}

it("prints its URL when ready, serves the API, exits 0 on SIGTERM", async () => {
  const good = join(dir, "good");
  mkdirSync(good);
  writeFileSync(join(good, "services.yaml"), SERVICES_YAML);
  writeFileSync(join(good, "vs.yaml"), reviewsTo("v1"));
  const p = run(["-f", good, "--port", "0", "--state-dir", join(dir, "state")]);
  try {
    const line = await new Promise<string>((resolve, reject) => {
      p.child.stdout!.on("data", () => {
        const nl = p.out().indexOf("\n");
        if (nl >= 0) resolve(p.out().slice(0, nl));
      });
      p.exit.then((c) => reject(new Error(`exited ${c}: ${p.err()}`)));
    });
    const ready = JSON.parse(line) as { ready: boolean; url: string; port: number; version: string; tokenFile: string; rootCertFile: string };
    assert.equal(ready.ready, true);
    assert.ok(ready.port > 0);
    assert.equal(ready.url, `https://127.0.0.1:${ready.port}`);
    assert.equal(ready.tokenFile, join(dir, "state", "admin-token"));
    assert.equal(ready.rootCertFile, join(dir, "state", "root-cert.pem"));
    trustMeshRootFile(ready.rootCertFile);
    const auth = { authorization: `Bearer ${readFileSync(ready.tokenFile, "utf8").trim()}` };
    const status = (await (await fetch(`${ready.url}/api/v1/status`, { headers: auth })).json()) as ControlPlaneStatus;
    assert.equal(status.resources, 3);
    assert.equal(status.version, ready.version);
    p.child.kill("SIGTERM");
    assert.equal(await p.exit, 0);
  } finally {
    if (p.child.exitCode === null) p.child.kill("SIGKILL");
  }
});

it("refuses to start on invalid config: exit 1 with file:line", async () => {
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, SERVICES_YAML + "---\n" + reviewsTo("v3"));
  const p = run(["-f", bad, "--port", "0"]);
  assert.equal(await p.exit, 1);
  assert.match(p.err(), /ERROR \[IST0101\] \(VirtualService default\/reviews\) .*bad\.yaml:24:36 spec\.http\[0\]\.route\[0\]\.destination\.subset/);
  assert.equal(p.out(), "");
});

it("usage errors exit 2", async () => {
  const p = run(["--port", "x"]);
  assert.equal(await p.exit, 2);
  assert.match(p.err(), /--port needs a port number/);
});

it("--mesh-config: a MeshConfig with errors stops the start with file:line and field path; a Telemetry naming its provider is then accepted", async () => {
  const mesh = join(dir, "mesh-bad.yaml");
  writeFileSync(mesh, "extensionProviders:\n- name: zipkin\n  zipkin:\n    service: zipkin.example.com\n    port: 94111\n");
  const bad = run(["--mesh-config", mesh, "--port", "0", "--state-dir", join(dir, "state-m1")]);
  assert.equal(await bad.exit, 1);
  assert.match(bad.err(), new RegExp(`ERROR \\[AMM0012\\] \\(MeshConfig istio-system/istio\\) ${mesh.replace(/[.]/g, "\\.")}:5:5 extensionProviders\\[0\\]\\.zipkin\\.port: port number 94111 must be in the range 1\\.\\.65535`));
  assert.match(bad.err(), /the mesh config .* has errors; not starting/);

  const telemetry = join(dir, "telemetry.yaml");
  writeFileSync(telemetry, "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: mesh, namespace: istio-system}\nspec:\n  tracing: [{providers: [{name: zipkin}]}]\n");
  const without = run(["-f", telemetry, "--port", "0", "--state-dir", join(dir, "state-m2")]);
  assert.equal(await without.exit, 1);
  assert.match(without.err(), /AMM1011.*Unknown provider "zipkin"/);

  writeFileSync(mesh, "extensionProviders:\n- name: zipkin\n  zipkin:\n    service: zipkin.example.com\n    port: 9411\n");
  const good = run(["-f", telemetry, "--mesh-config", mesh, "--port", "0", "--state-dir", join(dir, "state-m3")]);
  try {
    await new Promise<void>((resolve, reject) => {
      good.child.stdout!.on("data", () => good.out().includes("\n") && resolve());
      good.exit.then((c) => reject(new Error(`exited ${c}: ${good.err()}`)));
    });
    assert.match(good.out(), /"ready":true/);
    good.child.kill("SIGTERM");
    assert.equal(await good.exit, 0);
  } finally {
    if (good.child.exitCode === null) good.child.kill("SIGKILL");
  }
});
