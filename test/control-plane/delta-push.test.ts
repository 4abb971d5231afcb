// Delta push end to end: an in-process ControlPlane, real `amime proxy --xds` processes (which ask
// for delta push), real upstream apps. A VirtualService change reaches a proxy as that one virtual
// host and nothing else (the proxy's admin /stats counters say what it received); a delta
// the proxy rejects leaves it on its last good config, shown as NACK in proxy status; a proxy that
// reconnects gets its full state once.
import { trustMeshRoot } from "../support/mesh-root.ts";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import type { ApplyResult, ControlPlaneStatus, ProxyStatus } from "../../src/model/wire.ts";
import { send } from "../proxy/sidecar-harness.ts";
import { adminAuth, register, reviewsMesh, reviewsTo, spawnProxy, waitFor, type MeshProxy, type ReviewsMesh } from "./mesh-harness.ts";

describe("delta push to amime proxy --xds", () => {
  let mesh: ReviewsMesh;
  let cp: ControlPlane;
  let client: MeshProxy;
  let proxies: MeshProxy[];
  let admin: number;
  const logs: string[] = [];

  const start = async (port = 0): Promise<ControlPlane> => {
    const c = await ControlPlane.start({ port, configPaths: [mesh.dir], debounceMs: 20, stateDir: mesh.stateDir, log: (l) => logs.push(l) });
    trustMeshRoot(c.trustBundle);
    return c;
  };
  const call = (path: string) => send(client.outboundPort, { host: "reviews:9080", path });
  const statusOf = async (p: MeshProxy): Promise<ProxyStatus | undefined> =>
    ((await (await fetch(`${cp.url}/api/v1/proxies`, { headers: adminAuth(cp) })).json()) as ProxyStatus[]).find((s) => s.node === p.nodeId);
  const apply = async (text: string): Promise<ApplyResult> => {
    const r = await fetch(`${cp.url}/api/v1/apply`, { method: "POST", headers: { "content-type": "text/yaml", "x-amime-source": "t.yaml", ...adminAuth(cp) }, body: text });
    const body = (await r.json()) as ApplyResult;
    assert.equal(body.applied, true, JSON.stringify(body.diagnostics));
    return body;
  };
  const synced = (p: MeshProxy, version: string) =>
    waitFor(`${p.name} SYNCED at ${version}`, async () => {
      const s = await statusOf(p);
      return s?.state === "SYNCED" && s.connected && s.ackedVersion === version ? s : null;
    });
  /** The client proxy's control_plane.xds.* counters from its admin /stats. */
  const xds = async (): Promise<Record<string, number>> => {
    const text = await (await fetch(`http://127.0.0.1:${admin}/stats`)).text();
    const out: Record<string, number> = {};
    for (const line of text.split("\n")) {
      const m = /^control_plane\.xds\.(\S+): (\d+)$/.exec(line);
      if (m) out[m[1]!] = Number(m[2]);
    }
    return out;
  };
  const change = (before: Record<string, number>, now: Record<string, number>) =>
    Object.fromEntries(Object.keys(now).filter((k) => now[k] !== before[k]).map((k) => [k, now[k]! - (before[k] ?? 0)]));

  before(async () => {
    mesh = await reviewsMesh("amime-delta");
    ({ client, proxies } = mesh);
    cp = await start();
    for (const p of proxies) await register(cp, p);
    const ready = await Promise.all(proxies.map((p) => spawnProxy(cp, p, {}, [cp], p === client ? 0 : -1)));
    admin = ready[0]!.admin!;
    for (const p of proxies) await synced(p, cp.version);
  });

  after(async () => {
    await mesh.close();
    await cp.close();
  });

  it("the first message of the stream is the full state; proxy status lists each type's versions", async () => {
    const c = await xds();
    assert.equal(c.full_state, 1);
    assert.equal(c.delta, 0);
    assert.equal(c.config, 0, "no whole config: the control plane speaks delta");
    assert.ok(c["cluster.resources_updated"]! >= 3, "reviews v1, v2 and the service cluster at least");
    assert.equal(c["route.update_success"], 1);
    assert.ok(c["virtual_host.resources_updated"]! >= 2, "reviews and the inbound virtual host at least");
    const s = (await statusOf(client))!;
    assert.deepEqual(Object.keys(s.types ?? {}).sort(), ["bootstrap", "cluster", "endpoints", "listener", "route", "virtual_host"]);
    assert.equal(s.types!.route!.ackedVersion, cp.version);
    assert.match((await call("/first")).body, /^reviews-v1 GET \/first/);
  });

  it("a VirtualService change reaches each proxy as the one virtual host that changed, nothing else", async () => {
    const before = await xds();
    const was = (await statusOf(client))!.types!;
    const r = await apply(reviewsTo("v2"));
    for (const p of proxies) await synced(p, r.version);
    assert.deepEqual(change(before, await xds()), { delta: 1, "virtual_host.update_attempt": 1, "virtual_host.update_success": 1, "virtual_host.resources_updated": 1 });
    const s = (await statusOf(client))!;
    assert.equal(s.types!.virtual_host!.sentVersion, r.version);
    assert.deepEqual(s.types!.cluster, was.cluster, "clusters untouched: same version, same nonce");
    assert.deepEqual(s.types!.route, was.route, "the route configuration lists the same virtual hosts");
    assert.match((await call("/after")).body, /^reviews-v2 GET \/after/);
    const status = (await (await fetch(`${cp.url}/api/v1/status`, { headers: adminAuth(cp) })).json()) as ControlPlaneStatus;
    assert.ok(status.push!.deltas >= 3, "one delta per proxy");
    assert.equal(status.push!.configs, 0);
  });

  it("a delta the proxy rejects: NACK in proxy status and the control plane's log, the proxy stays on its last good config; the next change heals it", async () => {
    const good = (await statusOf(client))!.ackedVersion!;
    cp.beforePush = (node, cfg) => (node === client.nodeId ? { ...cfg, listeners: [...cfg.listeners, { ...cfg.listeners[0]!, name: "zz-broken", routeConfigName: "nowhere" }] } : cfg);
    const before = await xds();
    const bad = await apply(reviewsTo("v1"));
    const s = await waitFor("NACK", async () => {
      const st = await statusOf(client);
      return st?.state === "NACK" ? st : null;
    });
    assert.match(s.error ?? "", /routeConfigName: no route configuration named "nowhere"/);
    assert.equal(s.ackedVersion, good, "it runs its last good version");
    assert.equal(s.sentVersion, bad.version);
    assert.equal(s.types!.listener!.ackedVersion !== bad.version && s.types!.listener!.sentVersion === bad.version, true);
    assert.ok(logs.some((l) => l.includes(`proxy ${client.nodeId} rejected ${bad.version}`) && l.includes(`keeps its last good config (${good})`)), logs.join("\n"));
    assert.deepEqual(change(before, await xds()), {
      delta: 1, update_rejected: 1,
      "listener.update_attempt": 1, "listener.update_rejected": 1, "listener.resources_updated": 1,
      "virtual_host.update_attempt": 1, "virtual_host.update_rejected": 1, "virtual_host.resources_updated": 1,
    });
    assert.match((await call("/after-nack")).body, /^reviews-v2 /, "the last good config still routes");
    await synced(proxies[1]!, bad.version);
    assert.equal(((await (await fetch(`${cp.url}/api/v1/status`, { headers: adminAuth(cp) })).json()) as ControlPlaneStatus).push!.rejects, 1);

    cp.beforePush = undefined;
    const healed = await apply(reviewsTo("v1", "    timeout: 5s\n"));
    await synced(client, healed.version);
    const c = await xds();
    assert.equal(c["listener.resources_removed"], 1, "the broken listener removed by name");
    assert.match((await call("/healed")).body, /^reviews-v1 /);
  });

  it("a proxy that reconnects (control plane restarted) gets its full state once, then deltas again", async () => {
    const before = await xds();
    const port = cp.port;
    await cp.close();
    cp = await start(port);
    for (const p of proxies) await register(cp, p);
    for (const p of proxies) await synced(p, cp.version);
    const c = await xds();
    // Instances registered after the proxy reconnected reach it as deltas (their endpoints), not as another full state.
    assert.equal(c.full_state, before.full_state! + 1);
    const r = await apply(reviewsTo("v2"));
    await synced(client, r.version);
    assert.deepEqual(change(c, await xds()), { delta: 1, "virtual_host.update_attempt": 1, "virtual_host.update_success": 1, "virtual_host.resources_updated": 1 });
    assert.match((await call("/after-restart")).body, /^reviews-v2 /);
  });
});
