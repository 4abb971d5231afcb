// A pushed sidecar never loads node:http either (issue 15): `amime proxy --xds` takes its workload
// certificate from the control plane's CA, its config over the push stream, ACKs it (all over TLS),
// serves its admin listener and relays traffic; then Node's list of loaded built-ins
// (process.moduleLoadList, written by a preload when the test signals SIGUSR2) holds no `node:http`,
// `node:https` nor any `_http_*` part.
import { trustMeshRoot } from "../support/mesh-root.ts";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import type { ProxyStatus } from "../../src/model/wire.ts";
import { send } from "../proxy/sidecar-harness.ts";
import { adminAuth, register, reviewsMesh, spawnProxy, waitFor, type ReviewsMesh } from "./mesh-harness.ts";

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

  it("certificate, push, ACK (SYNCED), admin and traffic: process.moduleLoadList has no http module", async () => {
    const listFile = join(mesh.stateDir, "modules.json");
    const preload = join(mesh.stateDir, "module-list.mjs");
    writeFileSync(preload, `process.on("SIGUSR2", () => process.getBuiltinModule("node:fs").writeFileSync(${JSON.stringify(listFile)}, JSON.stringify(process.moduleLoadList)));\n`);
    for (const p of mesh.proxies) await register(cp, p);
    const [client, ...servers] = mesh.proxies;
    await Promise.all(servers.map((p) => spawnProxy(cp, p)));
    const ready = await spawnProxy(cp, client!, { NODE_OPTIONS: `--import ${preload}` }, [cp], 0);
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
  });
});
