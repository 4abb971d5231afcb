// `amime up` end to end on a small mesh (test/e2e/fixtures/mini: front → back v1/v2, a client,
// an ingress Gateway): real processes, real sockets. Every test bounds its waits and kills
// whatever `amime up` started in `after`.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { eventually, get, postYaml, randomPortBase, ROOT, sleep, survivors, UpRun } from "./up-harness.ts";

const MINI = join(ROOT, "test", "e2e", "fixtures", "mini");

const ONLY_V2 = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: back}
spec:
  host: back
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: back}
spec:
  hosts: [back]
  http: [{route: [{destination: {host: back, subset: v2}}]}]
`;

describe("amime up (mini mesh)", { timeout: 120_000 }, () => {
  let run: UpRun;
  let state: UpState;

  before(async () => {
    run = new UpRun(["-f", MINI, "--port-base", String(await randomPortBase())]);
    state = await run.waitStarted();
  });
  after(() => run.cleanup());

  it("prints the ingress, the control plane and one status line per instance, and writes the state file", () => {
    assert.match(run.output, /Ingress: +http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(run.output, /Control plane: +https:\/\/127\.0\.0\.1:\d+\/api\/v1\/status/);
    for (const name of ["front-0", "back-v1-0", "back-v2-0", "client-0"]) assert.match(run.output, new RegExp(`default/${name} +1/1 +ready`));
    assert.match(run.output, /4\/4 instances ready/);
    assert.equal(state.pid, run.child.pid);
    assert.deepEqual(state.instances.map((i) => i.name).sort(), ["back-v1-0", "back-v2-0", "client-0", "front-0"]);
    const front = state.instances.find((i) => i.name === "front-0");
    assert.ok(front?.appPort && front.inboundPort && front.appPort !== front.inboundPort);
  });

  it("routes ingress → front → back through the sidecars, across both versions", async () => {
    assert.ok(state.ingress);
    const seen = new Set<string>();
    for (let i = 0; i < 20 && seen.size < 2; i++) {
      const r = await get(`${state.ingress}/call?url=http://back:9080/`);
      assert.equal(r.status, 200, r.body);
      assert.match(r.body, /^front-0 -> 200 back-v[12]-0 v[12]/);
      seen.add(r.body.includes("v1") ? "v1" : "v2");
    }
    assert.deepEqual([...seen].sort(), ["v1", "v2"]);
  });

  it("sidecars talk mutual TLS by default (auto mTLS): the back sidecars' inbound listeners count handshakes, none refused; plaintext is still accepted (PERMISSIVE)", async () => {
    const stats: string[] = [];
    for (const name of ["back-v1-0", "back-v2-0", "front-0"]) {
      const i = state.instances.find((x) => x.name === name);
      assert.ok(i);
      const r = await get(`http://127.0.0.1:${i.adminPort}/stats`);
      stats.push(r.body);
      const handshakes = [...r.body.matchAll(/^listener\.inbound\|\d+\.ssl\.handshake: (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      assert.ok(handshakes >= 1, `${name}: no mTLS handshake on its inbound listener:\n${r.body.split("\n").filter((l) => l.includes("ssl")).join("\n")}`);
      assert.doesNotMatch(r.body, /ssl\.connection_error: [1-9]/, name);
    }
    const back = state.instances.find((x) => x.name === "back-v1-0");
    const plain = await get(`http://127.0.0.1:${back?.inboundPort}/`);
    assert.equal(plain.status, 200);
  });

  it("starts every sidecar and the gateway as Node with the sidecar's V8 flags on the bundle of the built JavaScript tree (dist/bundle/run-proxy.js), not the TypeScript sources", () => {
    const entry = join(ROOT, "dist", "bundle", "run-proxy.js");
    assert.ok(existsSync(entry), "amime up did not build dist/bundle/");
    assert.doesNotMatch(readFileSync(join(ROOT, "dist", "cli", "proxy.js"), "utf8"), /from "\.{1,2}\/[^"]*\.ts"/);
    const guards = [...state.instances.map((i) => i.sidecarPid), state.gatewayPid];
    for (const guard of guards) {
      assert.ok(guard);
      // The runtime's /bin/sh guard (spawn.ts) runs the sidecar as its child.
      const [pid] = readFileSync(`/proc/${guard}/task/${guard}/children`, "utf8").trim().split(/\s+/);
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      assert.deepEqual(argv.slice(1, 12), ["--max-semi-space-size=1", "--expose-gc", "--no-maglev", "--v8-pool-size=1", "--use-openssl-ca", "--no-sparkplug", "--max-inlined-bytecode-size-cumulative=230", "--no-node-snapshot", "--concurrent-recompilation-queue-length=1", entry, "proxy"], argv.join(" "));
      // And the sidecar's environment (SIDECAR_ENV), which glibc and OpenSSL read at the process's
      // start; NODE_EXTRA_CA_CERTS, which Node would parse at start, only under the sidecar's own name.
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      for (const v of ["MALLOC_MMAP_THRESHOLD_=131072", "SSL_CERT_FILE=/dev/null", "SSL_CERT_DIR=/dev/null"]) assert.ok(environ.includes(v), `${pid}: no ${v}`);
      assert.ok(!environ.some((v) => v.startsWith("NODE_EXTRA_CA_CERTS=")), `${pid}: NODE_EXTRA_CA_CERTS passed on`);
    }
  });

  it("amime exec runs a command with the client's sidecar as HTTP proxy and passes its exit code on", () => {
    const r = run.amime(["exec", "client", "--", "curl", "-s", "-m", "5", "http://front:9080/"]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /warning/, "exec reads the control plane with the admin token beside up.json");
    assert.equal(r.stdout, "front-0\n");
    const env = run.amime(["exec", "client-0", "--", "sh", "-c", 'echo "$AMIME_WORKLOAD $AMIME_NAMESPACE $NODE_USE_ENV_PROXY $HTTP_PROXY"; exit 7']);
    assert.equal(env.status, 7);
    assert.equal(env.stdout.trim(), `client default 1 http://127.0.0.1:${state.instances.find((i) => i.name === "client-0")?.outboundPort}`);
    // From a subdirectory, as `amime get` and `apply` find the mesh.
    const sub = join(run.cwd, "src", "deep");
    mkdirSync(sub, { recursive: true });
    const below = run.amime(["exec", "client", "--", "curl", "-s", "-m", "5", "http://front:9080/"], sub);
    assert.equal(below.status, 0, below.stderr);
    assert.equal(below.stdout, "front-0\n");
    const missing = run.amime(["exec", "nope", "--", "true"]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no instance or workload "nope"/);
  });

  it("the control plane takes the admin token amime up wrote (0600), the CLI finds it, sidecars use their own", async () => {
    const tokenFile = join(run.cwd, ".amime", "admin-token");
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal((await get(`${state.controlPlane}/api/v1/status`)).status, 401);
    const status = run.amime(["proxy-status"]);
    assert.equal(status.status, 0, status.stderr);
    const rows = status.stdout.trim().split("\n").slice(1);
    assert.ok(rows.length >= 5 && rows.every((r) => /\bSYNCED\b/.test(r)), status.stdout);
    // Each sidecar got its own credential in its environment; the apps did not.
    const front = state.instances.find((i) => i.name === "front-0");
    assert.match(readFileSync(`/proc/${front?.sidecarPid}/environ`, "latin1"), /(^|\0)AMIME_PROXY_TOKEN=amime1\./);
    assert.doesNotMatch(readFileSync(`/proc/${front?.pid}/environ`, "latin1"), /AMIME_PROXY_TOKEN/);
  });

  it("applies routing changes live through the control plane API", async () => {
    const applied = await postYaml(`${state.controlPlane}/api/v1/apply`, ONLY_V2, run.auth());
    assert.equal(applied.status, 200, applied.body);
    try {
      const onlyV2 = async (): Promise<boolean> => {
        for (let i = 0; i < 6; i++) if (!(await get(`${state.ingress}/call?url=http://back:9080/`)).body.includes("back-v2-0")) return false;
        return true;
      };
      assert.ok(await eventually(onlyV2, 10_000), "all calls go to v2 after the VirtualService is applied");
    } finally {
      await postYaml(`${state.controlPlane}/api/v1/delete`, ONLY_V2, run.auth());
    }
  });

  it("restarts a crashed app, keeps it out of rotation meanwhile, and traffic recovers", async () => {
    const before = state.instances.find((i) => i.name === "front-0")?.pid;
    const r = await get(`${state.ingress}/crash`);
    assert.equal(r.body, "bye\n");
    await run.waitOutput(/front-0: app exited with code 3; out of rotation, restarting in 1 s/, 5000);
    await run.waitOutput(/front-0: ready, back in rotation/, 15_000);
    assert.ok(await eventually(async () => (await get(`${state.ingress}/`)).body === "front-0\n", 10_000));
    const after = run.state().instances.find((i) => i.name === "front-0")?.pid;
    assert.ok(after && after !== before, "a new process");
  });

  it("SIGINT stops everything: exit 0, state file and Prometheus targets removed, no process left", async () => {
    run.state();
    assert.equal(existsSync(join(run.cwd, ".amime", "prometheus-targets.json")), true, "written while the mesh runs");
    const groups = [...run.groups];
    assert.ok(groups.length >= 9, `apps, sidecars and the gateway (${groups.length})`);
    const code = await run.stop("SIGINT");
    assert.equal(code, 0, run.output);
    assert.match(run.output, /amime up: stopped/);
    assert.equal(existsSync(join(run.cwd, ".amime", "up.json")), false);
    assert.equal(existsSync(join(run.cwd, ".amime", "prometheus-targets.json")), false, "no targets left for an external Prometheus to scrape");
    assert.deepEqual(survivors([...groups, run.child.pid ?? 0]), []);
  });
});

describe("amime up: failures", { timeout: 60_000 }, () => {
  const runs: UpRun[] = [];
  after(() => runs.forEach((r) => r.cleanup()));

  it("refuses an invalid config with file:line and starts nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "amime-bad-"));
    writeFileSync(join(dir, "mesh.yaml"), "apiVersion: amime.dev/v1alpha1\nkind: Workload\nmetadata: {name: w}\nspec:\n  replicas: -1\n  command: [node, x.ts]\n");
    const run = new UpRun(["-f", dir, "--port-base", String(await randomPortBase())]);
    runs.push(run);
    const code = await Promise.race([run.exited, sleep(20_000).then(() => "timeout")]);
    assert.equal(code, 1, run.output);
    assert.match(run.output, /mesh\.yaml:5:\d+ spec\.replicas/);
    assert.match(run.output, /nothing was started/);
  });

  it("children exit by themselves when amime up is SIGKILLed", async () => {
    const run = new UpRun(["-f", MINI, "--port-base", String(await randomPortBase())]);
    runs.push(run);
    await run.waitStarted();
    const groups = [...run.groups];
    assert.ok(groups.length >= 9);
    process.kill(run.child.pid ?? 0, "SIGKILL");
    // The guards poll once a second, then SIGTERM; the apps exit at once.
    assert.ok(await eventually(async () => survivors(groups).length === 0, 10_000), survivors(groups).join("\n"));
  });
});
