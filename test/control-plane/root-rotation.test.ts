// Root rotation under load: a real control plane (self-signed root in a state dir), two real
// `amime proxy --xds` sidecars talking auto mTLS, and a load loop through them counting every
// failed request while `amime ca rotate-root` adds a new root, reissues every workload and the
// control plane under it, and removes the old one. Zero failures; the served chains verify with
// openssl against the new root only; the CLI keeps reaching the control plane (its root file
// follows).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { amime } from "../cli/control-plane-cli.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { trustMeshRoot } from "../support/mesh-root.ts";
import { meshProxy, register, requestLoops, SERVICES_YAML, spawnProxy, stopProxy, waitFor, type MeshProxy } from "./mesh-harness.ts";

const fingerprint = (pem: string): string => execFileSync("openssl", ["x509", "-noout", "-fingerprint", "-sha256"], { input: pem, encoding: "utf8" }).replace(/^.*=/, "").replace(/:/g, "").trim().toLowerCase();

describe("root rotation", () => {
  let dir: string;
  let cp: ControlPlane;
  let app: Upstream;
  let client: MeshProxy;
  let server: MeshProxy;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "amime-rotate-"));
    writeFileSync(join(dir, "services.yaml"), SERVICES_YAML);
    cp = await ControlPlane.start({ port: 0, configPaths: [join(dir, "services.yaml")], watch: false, debounceMs: 5, stateDir: join(dir, ".amime") });
    trustMeshRoot(cp.trustBundle);
    app = await startUpstream("reviews-v1");
    client = await meshProxy("productpage", "v1");
    server = await meshProxy("reviews", "v1", { servicePort: 9080, appPort: app.port });
    for (const p of [client, server]) await register(cp, p);
    await Promise.all([spawnProxy(cp, client), spawnProxy(cp, server)]);
  });

  after(async () => {
    await Promise.all([client, server].map(stopProxy));
    await cp.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("amime ca rotate-root under load: zero failed requests, every workload reissued under the new root, the old root gone", async () => {
    const rootFile = join(dir, ".amime", "root-cert.pem");
    const oldRoot = fingerprint(readFileSync(rootFile, "utf8"));
    const first = await waitFor("the server's first certificate", () => cp.secret(server.nodeId));
    assert.equal(fingerprint(readFileSync(join(dir, ".amime", "ca", "root-cert.pem"), "utf8")), oldRoot);
    const r0 = await send(client.outboundPort, { host: "reviews:9080" });
    assert.equal(r0.status, 200, r0.body);
    const seenBefore = app.requests.length;

    // Four concurrent request loops through the client sidecar (a new downstream connection each).
    const loops = requestLoops(client.outboundPort, "reviews:9080");
    const cli = await amime(["ca", "rotate-root", "--control-plane", cp.url, "--token-file", cp.adminTokenFile as string]);
    await waitFor("requests after the rotation", () => loops.ok > 50);
    await loops.stop();
    const { ok, failures } = loops;

    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^root rotated: [0-9a-f]{16}… → [0-9a-f]{16}…, 2 proxies reissued\n$/);
    assert.deepEqual(failures, [], `${failures.length} failed of ${failures.length + ok}`);
    assert.ok(app.requests.length - seenBefore > 50);

    // The new root alone: in the CLI's root file and in the CA dir (a restart keeps it).
    const newRoot = fingerprint(readFileSync(rootFile, "utf8"));
    assert.notEqual(newRoot, oldRoot);
    assert.equal((readFileSync(rootFile, "utf8").match(/BEGIN CERTIFICATE/g) ?? []).length, 1);
    assert.equal(fingerprint(readFileSync(join(dir, ".amime", "ca", "root-cert.pem"), "utf8")), newRoot);
    // Both workloads hold certificates under it; the server's verifies with openssl against the new root only.
    for (const p of [client, server]) {
      const s = cp.secret(p.nodeId);
      assert.ok(s && s.issued >= 2, `${p.name} reissued`);
    }
    const now = cp.secret(server.nodeId);
    assert.notEqual(now?.certChain[0]?.serial, first.certChain[0]?.serial);
    // The control plane itself: its serving chain verifies against the new root file.
    // (async: the control plane answers from this process)
    const served = await new Promise<string>((resolve) => {
      const p = execFile("openssl", ["s_client", "-connect", `127.0.0.1:${cp.port}`, "-CAfile", rootFile, "-verify_return_error"], { encoding: "utf8", timeout: 10_000 }, (_e, out, err) => resolve(`${out}${err}`));
      p.stdin?.end();
    });
    assert.match(served, /Verify return code: 0 \(ok\)/);
    // Traffic still flows on fresh connections, and the CLI still reaches the control plane.
    assert.equal((await send(client.outboundPort, { host: "reviews:9080", headers: { connection: "close" } })).status, 200);
    const got = await amime(["proxy-status", "--control-plane", cp.url, "--token-file", cp.adminTokenFile as string]);
    assert.equal(got.code, 0, got.stderr);
  });
});
