// A pushed sidecar never loads node:http either (issue 15): `amime proxy --xds` takes its workload
// certificate from the control plane's CA, its config over the push stream, ACKs it (all over TLS),
// serves its admin listener and relays traffic (mutual TLS to the peer's sidecar); then Node's list
// of loaded built-ins (process.moduleLoadList, written by a preload when the test signals SIGUSR2)
// holds no `node:http`, `node:https` nor any `_http_*` part. Started as the runtimes start it (the
// bundle, the sidecar's flags), it loads no built-in at all beyond what a bare Node process loads to
// take `node:tls` (the 17 `internal/crypto/*` and `crypto` come with it): not `os` (the host's name
// is read from /proc, core/host-name.ts), not `internal/fs/read/context` (its root and token are
// read synchronously, not with fs.readFile). Each one Node loads is kept for the process's life: its
// compiled code, a code cache of it (≈ 7 kB each), the pages of its source (docs/performance.md,
// "Session 18: the builtins and native state of the push").
import { trustMeshRoot } from "../support/mesh-root.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { SIDECAR_NODE_FLAGS } from "../../src/core/sidecar-node-flags.ts";
import { sidecarLaunch } from "../../src/runtime/js-build/sidecar-launch.ts";
import type { ProxyStatus } from "../../src/model/wire.ts";
import { send } from "../proxy/sidecar-harness.ts";
import { adminAuth, register, reviewsMesh, spawnProxy, waitFor, type ReviewsMesh } from "./mesh-harness.ts";

const root = join(import.meta.dirname, "..", "..");

describe("a pushed sidecar without node:http", () => {
  let mesh: ReviewsMesh;
  let cp: ControlPlane;
  before(async () => {
    mesh = await reviewsMesh("amime-no-http");
    cp = await ControlPlane.start({ port: 0, configPaths: [mesh.dir], debounceMs: 20, stateDir: mesh.stateDir });
    trustMeshRoot(cp.trustBundle);
  });
  after(async () => {
    await mesh.close();
    await cp.close();
  });

  it("certificate, push, ACK (SYNCED), admin and traffic: process.moduleLoadList has no http module, and nothing beyond a bare Node process with node:tls", async () => {
    const listFile = join(mesh.stateDir, "modules.json");
    const preload = join(mesh.stateDir, "module-list.mjs");
    writeFileSync(preload, `process.on("SIGUSR2", () => process.getBuiltinModule("node:fs").writeFileSync(process.env.MODULE_LIST_FILE, JSON.stringify(process.moduleLoadList)));\n`);
    const withPreload = (file: string): Record<string, string> => ({ NODE_OPTIONS: `--import ${preload}`, MODULE_LIST_FILE: file });
    for (const p of mesh.proxies) await register(cp, p);
    const [client, ...servers] = mesh.proxies;
    await Promise.all(servers.map((p) => spawnProxy(cp, p)));
    const launch = await sidecarLaunch(root);
    assert.ok(launch.built, "the sidecar runs the bundle, as the runtimes start it");
    const ready = await spawnProxy(cp, client!, withPreload(listFile), [cp], 0, launch);
    await waitFor("the client sidecar SYNCED (its ACK arrived)", async () => {
      const all = (await (await fetch(`${cp.url}/api/v1/proxies`, { headers: adminAuth(cp) })).json()) as ProxyStatus[];
      return all.find((s) => s.node === client!.nodeId)?.state === "SYNCED";
    });
    const r = await send(client!.outboundPort, { host: "reviews:9080", path: "/no-http" });
    assert.equal(r.status, 200);
    assert.match(r.body, /^reviews-v1 GET \/no-http/);
    assert.equal(await (await fetch(`http://127.0.0.1:${ready.admin}/ready`)).text(), "LIVE\n");

    client!.child!.kill("SIGUSR2");
    await waitFor("the module list", () => existsSync(listFile));
    const loaded = JSON.parse(readFileSync(listFile, "utf8")) as string[];
    assert.ok(loaded.includes("NativeModule tls"), "the list is the pushed sidecar's (TLS to the control plane)");
    assert.deepEqual(
      loaded.filter((m) => /^NativeModule (http|https|_http_\w+|internal\/http)$/.test(m)),
      [],
    );

    // The same Node, flags and preload on a script that takes node:tls and nothing else.
    const bareFile = join(mesh.stateDir, "bare-modules.json");
    const bareScript = join(mesh.stateDir, "bare-tls.mjs");
    writeFileSync(bareScript, `process.getBuiltinModule("node:tls");\nprocess.emit("SIGUSR2");\n`);
    const bare = spawn(launch.command, [...SIDECAR_NODE_FLAGS, bareScript], { stdio: "ignore", env: { ...process.env, ...withPreload(bareFile) } });
    assert.equal(await new Promise((resolve) => bare.on("exit", resolve)), 0);
    const bareLoaded = new Set(JSON.parse(readFileSync(bareFile, "utf8")) as string[]);
    assert.ok(bareLoaded.has("NativeModule internal/tls/wrap"), "the bare process took node:tls");
    assert.deepEqual(
      loaded.filter((m) => !bareLoaded.has(m)),
      [],
      "built-ins (and bindings) the pushed sidecar loads beyond a bare process with node:tls",
    );
  });
});
