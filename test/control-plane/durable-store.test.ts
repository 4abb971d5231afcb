// The embedded store is durable: a real `amime control-plane` process is killed with SIGKILL after
// applies and deletes through the CLI, restarted on the same state dir, and still holds every
// change with its resourceVersion. An interrupted write (a leftover temp file) recovers the last
// saved state; a damaged store file stops the start, naming the file, and is left untouched.
// Two CLI processes applying the same resource from the same base version: one wins, the other
// gets kubectl's conflict.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { amime } from "../cli/control-plane-cli.ts";
import { BIN, NODE, reviewsTo, SERVICES_YAML } from "./mesh-harness.ts";

interface Running {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** `amime control-plane -f services.yaml --port 0` in `project` (state dir ./.amime): resolves on its ready line. */
function startControlPlane(project: string): Promise<Running> {
  const child = spawn(NODE, [BIN, "control-plane", "-f", join(project, "services.yaml"), "--port", "0"], { cwd: project, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve({ child, url: (JSON.parse(out.slice(0, nl)) as { url: string }).url, stderr: () => stderr });
    });
    child.on("exit", (c) => reject(new Error(`control plane exited ${c}: ${stderr}`)));
  });
}

/** Exit code and stderr of a start that must fail. */
function failedStart(project: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(NODE, [BIN, "control-plane", "-f", join(project, "services.yaml"), "--port", "0"], { cwd: project, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.on("data", () => child.kill("SIGKILL"));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stderr })));
}

function kill9(r: Running): Promise<void> {
  return new Promise((resolve) => {
    r.child.on("exit", () => resolve());
    r.child.kill("SIGKILL");
  });
}

describe("durable embedded store", () => {
  let project: string;
  let cp: Running;
  const run = (args: string[], stdin?: string) => amime([...args, "--control-plane", cp.url], { cwd: project, ...(stdin !== undefined ? { stdin } : {}) });
  const getJson = async (what: string[]): Promise<{ code: number | null; body: Record<string, unknown> | null; stderr: string }> => {
    const r = await run(["get", ...what, "-o", "json"]);
    return { code: r.code, body: r.code === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : null, stderr: r.stderr };
  };
  const metaOf = (body: Record<string, unknown> | null) => body?.metadata as { resourceVersion: string; generation: number };
  const subsetOf = (body: Record<string, unknown> | null) => JSON.stringify(body?.spec).match(/"subset":"(\w+)"/)?.[1];
  const gateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
`;

  before(async () => {
    project = mkdtempSync(join(tmpdir(), "amime-durable-"));
    writeFileSync(join(project, "services.yaml"), SERVICES_YAML);
    writeFileSync(join(project, "vs-v1.yaml"), reviewsTo("v1"));
    writeFileSync(join(project, "vs-v2.yaml"), reviewsTo("v2"));
    writeFileSync(join(project, "gateway.yaml"), gateway);
    cp = await startControlPlane(project);
  });

  after(() => {
    cp.child.kill("SIGKILL");
    rmSync(project, { recursive: true, force: true });
  });

  it("keeps every applied change and delete across kill -9, with their resourceVersions", async () => {
    for (const f of ["vs-v1.yaml", "vs-v2.yaml", "gateway.yaml"]) {
      const r = await run(["apply", "-f", join(project, f)]);
      assert.equal(r.code, 0, r.stderr);
    }
    const del = await run(["delete", "-f", join(project, "gateway.yaml")]);
    assert.equal(del.code, 0, del.stderr);
    const before = await getJson(["vs", "reviews"]);
    assert.equal(subsetOf(before.body), "v2");
    assert.equal(metaOf(before.body).generation, 2);
    assert.match(metaOf(before.body).resourceVersion, /^\d+$/);

    await kill9(cp);
    cp = await startControlPlane(project);
    assert.match(cp.stderr(), /config store: 1 applied resource\(s\) restored from .*config-store\.json/);
    const afterRestart = await getJson(["vs", "reviews"]);
    assert.equal(subsetOf(afterRestart.body), "v2");
    assert.deepEqual(metaOf(afterRestart.body), metaOf(before.body));
    const annotations = (afterRestart.body?.metadata as { annotations: Record<string, string> }).annotations;
    assert.match(annotations["amime.io/changed-by"] ?? "", /^admin:/, "who changed it survives too");
    const gone = await getJson(["gw", "edge"]);
    assert.equal(gone.code, 1, "the delete survives");
    assert.match(gone.stderr, /NotFound/);
    // The file resources are still the files'.
    assert.equal((await getJson(["dr", "reviews"])).code, 0);
  });

  it("an interrupted write (a leftover temp file) recovers the last saved state", async () => {
    const storeFile = join(project, ".amime", "config-store.json");
    const good = readFileSync(storeFile, "utf8");
    await kill9(cp);
    writeFileSync(`${storeFile}.tmp`, good.slice(0, Math.floor(good.length / 2)));
    cp = await startControlPlane(project);
    assert.match(cp.stderr(), /discarded .*config-store\.json\.tmp, a write interrupted before it completed/);
    assert.equal(subsetOf((await getJson(["vs", "reviews"])).body), "v2");
  });

  it("a damaged store file stops the start, naming the file and the fault, and is kept as it is", async () => {
    const storeFile = join(project, ".amime", "config-store.json");
    const good = readFileSync(storeFile, "utf8");
    await kill9(cp);
    const torn = good.slice(0, good.length - 20);
    writeFileSync(storeFile, torn);
    const r = await failedStart(project);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`config store ${storeFile}: not valid JSON`), r.stderr);
    assert.equal(readFileSync(storeFile, "utf8"), torn, "not overwritten");
    writeFileSync(storeFile, good);
    cp = await startControlPlane(project);
    assert.equal(subsetOf((await getJson(["vs", "reviews"])).body), "v2");
  });

  it("refuses a stale resourceVersion with kubectl's conflict; of two racing applies from one base version, one wins", async () => {
    const current = await getJson(["vs", "reviews"]);
    const rv = metaOf(current.body).resourceVersion;
    const withVersion = (subset: string, v: string): string => reviewsTo(subset).replace("metadata: {name: reviews}", `metadata: {name: reviews, resourceVersion: "${v}"}`);
    const [a, b] = await Promise.all([run(["apply", "-f", "-"], withVersion("v1", rv)), run(["apply", "-f", "-"], withVersion("v2", rv).replace("subset: v2}", "subset: v2}\n    timeout: 3s"))]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 1], `${a.stderr}\n${b.stderr}`);
    const loser = a.code === 1 ? a : b;
    assert.ok(loser.stderr.includes('Error from server (Conflict): Operation cannot be fulfilled on virtualservices.networking.istio.io "reviews": the object has been modified; please apply your changes to the latest version and try again'), loser.stderr);
    const now = await getJson(["vs", "reviews"]);
    assert.equal(metaOf(now.body).generation, metaOf(current.body).generation + 1, "exactly one change was made");
    assert.equal(subsetOf(now.body), a.code === 0 ? "v1" : "v2", "the winner's");
    // Without a resourceVersion, apply is last-write-wins as before.
    const plain = await run(["apply", "-f", join(project, "vs-v1.yaml")]);
    assert.equal(plain.code, 0, plain.stderr);
    // A stale version after a restart is still stale: versions are never reused.
    await kill9(cp);
    cp = await startControlPlane(project);
    const stale = await run(["apply", "-f", "-"], withVersion("v2", rv));
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /\(Conflict\)/);
  });
});
