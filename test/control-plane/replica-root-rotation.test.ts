// Root rotation across control-plane replicas on a real 3-member etcd (docs/security.md, "Root
// rotation"): two replicas sharing the root through etcd (--store-key-file), a client sidecar
// connected to one and the server sidecar to the other, auto mTLS between them, four request loops
// through them while `amime ca rotate-root` at the first replica moves every replica through the
// three steps together. Zero failed requests; a second rotation started meanwhile at the other
// replica gets the conflict; both workloads and both replicas end under the new root, which openssl
// verifies the other replica's served chain against; etcd holds the new root and no rotation.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { amime } from "../cli/control-plane-cli.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { EtcdCluster } from "../support/etcd-cluster.ts";
import { trustMeshRoot } from "../support/mesh-root.ts";
import { meshProxy, register, requestLoops, SERVICES_YAML, spawnProxy, stopProxy, waitFor, type MeshProxy } from "./mesh-harness.ts";

const run = promisify(execFile);
const fingerprint = (pem: string): string => execFileSync("openssl", ["x509", "-noout", "-fingerprint", "-sha256"], { input: pem, encoding: "utf8" }).replace(/^.*=/, "").replace(/:/g, "").trim().toLowerCase();
const serialOf = (pem: string): string => execFileSync("openssl", ["x509", "-noout", "-serial"], { input: pem, encoding: "utf8" }).replace(/^serial=/, "").trim().toLowerCase().replace(/^0+/, "");

describe("root rotation across replicas on etcd", () => {
  let etcd: EtcdCluster;
  let dir: string;
  const prefix = `/rotation-${process.pid}`;
  const replicas: { cp: ControlPlane; log: string[] }[] = [];
  let app: Upstream;
  let client: MeshProxy;
  let server: MeshProxy;

  before(async () => {
    etcd = await EtcdCluster.start(3);
    dir = mkdtempSync(join(tmpdir(), "amime-replica-rotate-"));
    writeFileSync(join(dir, "store.key"), randomBytes(32), { mode: 0o600 });
    for (const name of ["a", "b"]) {
      const log: string[] = [];
      const cp = await ControlPlane.start({ port: 0, watch: false, debounceMs: 5, stateDir: join(dir, name), store: etcd.url(prefix), storeKeyFile: join(dir, "store.key"), replicaName: name, log: (l) => log.push(l) });
      trustMeshRoot(cp.trustBundle);
      replicas.push({ cp, log });
    }
    const [a, b] = [replicas[0]!.cp, replicas[1]!.cp];
    assert.equal(a.trustBundle, b.trustBundle, "one root, shared through etcd");
    assert.equal((await a.apply(SERVICES_YAML)).applied, true);
    app = await startUpstream("reviews-v1");
    client = await meshProxy("productpage", "v1");
    server = await meshProxy("reviews", "v1", { servicePort: 9080, appPort: app.port });
    for (const p of [client, server]) await register(a, p);
    await waitFor("b to know both instances", () => [client, server].every((p) => b.registry.forNode(p.nodeId)));
    // The client streams from a, the server from b (and each renews there).
    await Promise.all([spawnProxy(a, client, {}, [a]), spawnProxy(b, server, {}, [b])]);
  });

  after(async () => {
    await Promise.all([client, server].map(stopProxy));
    await Promise.all(replicas.map((r) => r.cp.close({ drain: false })));
    await app?.close();
    await etcd?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("amime ca rotate-root at one replica under load: every replica moves together, zero failed requests", async (t) => {
    const [a, b] = [replicas[0]!.cp, replicas[1]!.cp];
    const oldRoot = fingerprint(a.trustBundle);
    await waitFor("both workloads' first certificates", () => a.secret(client.nodeId) && b.secret(server.nodeId));
    const r0 = await send(client.outboundPort, { host: "reviews:9080" });
    assert.equal(r0.status, 200, r0.body);

    const loops = requestLoops(client.outboundPort, "reviews:9080");

    const cli = amime(["ca", "rotate-root", "--control-plane", a.url, "--token-file", a.adminTokenFile as string]);
    await waitFor("step 1 at b", () => replicas[1]!.log.some((l) => l.includes("root rotation: step 1/3")), 30_000);
    await assert.rejects(b.rotateRoot("test"), (e: Error & { code?: string }) => e.code === "CA_ROTATION_IN_PROGRESS" && /driven by replica a/.test(e.message));
    const done = await cli;
    const okAtEnd = loops.ok;
    await waitFor("requests after the rotation", () => loops.ok > okAtEnd + 20);
    await loops.stop();
    const { ok, failures } = loops;

    assert.equal(done.code, 0, `${done.stderr}\n--- a ---\n${replicas[0]!.log.join("\n")}\n--- b ---\n${replicas[1]!.log.join("\n")}`);
    assert.match(done.stdout, /^root rotated: [0-9a-f]{16}… → [0-9a-f]{16}…, 2 proxies reissued\n$/);
    assert.deepEqual(failures, [], `${failures.length} failed of ${failures.length + ok}`);
    t.diagnostic(`${ok} requests through the two sidecars during and after the rotation, none failed`);
    for (const r of replicas) for (const step of [1, 2, 3]) assert.ok(r.log.some((l) => l.includes(`root rotation: step ${step}/3`)), `step ${step} at ${r.cp === a ? "a" : "b"}`);

    // One new root everywhere: both replicas' bundles and root files, etcd's shared root.
    const newPem = b.trustBundle;
    const newRoot = fingerprint(newPem);
    assert.notEqual(newRoot, oldRoot);
    assert.equal(a.trustBundle, newPem);
    for (const name of ["a", "b"]) assert.equal(readFileSync(join(dir, name, "root-cert.pem"), "utf8"), newPem);
    const keys = (await run("etcdctl", ["--endpoints", etcd.endpoints.join(","), "get", "--prefix", `${prefix}/ca`, "--keys-only"])).stdout.split("\n").filter((l) => l !== "");
    assert.deepEqual(keys, [`${prefix}/ca`], "the rotation's keys are gone");
    // Each workload's latest certificate chains to it (the client's issued at a, the server's at b).
    for (const [cp, p] of [[a, client], [b, server]] as const) assert.equal(cp.secret(p.nodeId)!.certChain.at(-1)!.serial.toLowerCase().replace(/^0+/, ""), serialOf(newPem), `${p.name} under the new root`);
    // b's own serving chain verifies with openssl against the new root alone.
    const rootFile = join(dir, "b", "root-cert.pem");
    const served = await new Promise<string>((resolve) => {
      const p = execFile("openssl", ["s_client", "-connect", `127.0.0.1:${b.port}`, "-CAfile", rootFile, "-verify_return_error", "-showcerts"], { encoding: "utf8", timeout: 10_000 }, (_e, out, err) => resolve(`${out}${err}`));
      p.stdin?.end();
    });
    assert.match(served, /Verify return code: 0 \(ok\)/);
    const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(served)![0];
    writeFileSync(join(dir, "leaf.pem"), `${leaf}\n`);
    const verified = await run("openssl", ["verify", "-CAfile", rootFile, join(dir, "leaf.pem")]);
    assert.match(verified.stdout, /leaf\.pem: OK/);
  });
});
