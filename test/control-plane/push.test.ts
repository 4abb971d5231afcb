// The control plane end to end: in-process ControlPlane, real `amime proxy --xds` processes, real
// upstream apps. Initial push and ACK, a routing change by apply, a refused apply, a NACKed push,
// live file edits, and a control plane outage under steady traffic.
import { trustMeshRoot } from "../support/mesh-root.ts";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { systemClock, type Clock, type TimerHandle } from "../../src/core/clock.ts";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import type { ApplyResult, ControlPlaneStatus, ProxyStatus } from "../../src/model/wire.ts";
import { send } from "../proxy/sidecar-harness.ts";
import { adminAuth, register, reviewsMesh, reviewsTo, spawnProxy, waitFor, type MeshProxy, type ReviewsMesh } from "./mesh-harness.ts";

describe("control plane → amime proxy --xds", () => {
  let mesh: ReviewsMesh;
  let dir: string;
  let cp: ControlPlane;
  let v1: ReviewsMesh["v1"];
  let client: MeshProxy;
  let proxies: MeshProxy[];
  const logs: string[] = [];

  let stateDir: string;
  // The state dir keeps the token key, so the proxies' credentials outlive a control-plane restart.
  const start = async (port = 0, registrationGraceMs?: number, clock?: Clock): Promise<ControlPlane> => {
    const c = await ControlPlane.start({ port, configPaths: [dir], debounceMs: 20, stateDir, log: (l) => logs.push(l), ...(registrationGraceMs !== undefined ? { registrationGraceMs } : {}), ...(clock ? { clock } : {}) });
    trustMeshRoot(c.trustBundle);
    return c;
  };
  const call = (path = "/r") => send(client.outboundPort, { host: "reviews:9080", path });
  const statuses = async (): Promise<ProxyStatus[]> => (await fetch(`${cp.url}/api/v1/proxies`, { headers: adminAuth(cp) })).json() as Promise<ProxyStatus[]>;
  const statusOf = async (p: MeshProxy): Promise<ProxyStatus | undefined> => (await statuses()).find((s) => s.node === p.nodeId);
  const post = async (what: "apply" | "delete", text: string, source: string): Promise<{ status: number; body: ApplyResult }> => {
    const r = await fetch(`${cp.url}/api/v1/${what}`, { method: "POST", headers: { "content-type": "text/yaml", "x-amime-source": source, ...adminAuth(cp) }, body: text });
    return { status: r.status, body: (await r.json()) as ApplyResult };
  };
  /** Wait until `p` ACKed a push at least as new as `version` and is SYNCED. */
  const synced = (p: MeshProxy, version?: string) =>
    waitFor(`${p.name} SYNCED${version ? ` at ${version}` : ""}`, async () => {
      const s = await statusOf(p);
      return s && s.state === "SYNCED" && s.connected && (!version || s.ackedVersion === version) ? s : null;
    });

  before(async () => {
    mesh = await reviewsMesh("amime-cp");
    ({ dir, stateDir, v1, client, proxies } = mesh);
    cp = await start();
  });

  after(async () => {
    await mesh.close();
    await cp.close();
  });

  it("a proxy that connects before its instance is registered waits; after registration: pushed, ACKed, traffic flows", async () => {
    const early = spawnProxy(cp, client);
    await waitFor("client stream open", async () => (await statusOf(client))?.connected);
    assert.equal((await statusOf(client))?.state, "NOT SENT");
    for (const p of proxies) await register(cp, p);
    const others = proxies.slice(1).map((p) => spawnProxy(cp, p));
    const ready = await early;
    assert.equal(ready.ready, true);
    assert.equal(ready.listeners.outbound, client.outboundPort);
    await Promise.all(others);
    for (const p of proxies) await synced(p, cp.version);
    const r = await call("/first");
    assert.equal(r.status, 200);
    assert.match(r.body, /^reviews-v1 GET \/first/);
    assert.equal(v1.requests.at(-1)?.url, "/first", "reached the app through the reviews-v1 sidecar");
    const status = (await (await fetch(`${cp.url}/api/v1/status`, { headers: adminAuth(cp) })).json()) as ControlPlaneStatus;
    assert.equal(status.instances, 3);
    assert.equal(status.proxies, 3);
    assert.equal(status.version, cp.version);
    const pushed = (await (await fetch(`${cp.url}/api/v1/proxies/${encodeURIComponent(client.nodeId)}/config`, { headers: adminAuth(cp) })).json()) as ProxyConfig;
    assert.equal(pushed.node.id, client.nodeId);
    assert.ok(pushed.clusters.some((c) => c.name === "outbound|9080|v1|reviews.default.svc.cluster.local"));
  });

  it("apply of a VirtualService change re-routes traffic; status is SYNCED at the new version", async () => {
    const { status, body } = await post("apply", reviewsTo("v2"), "canary.yaml");
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.applied, true);
    assert.deepEqual(body.changes, [{ resource: "VirtualService default/reviews", action: "configured" }]);
    const s = await synced(client, body.version);
    assert.equal(s.sentVersion, body.version);
    const r = await call("/after-apply");
    assert.match(r.body, /^reviews-v2 GET \/after-apply/);
    const resources = (await (await fetch(`${cp.url}/api/v1/resources?kind=VirtualService`, { headers: adminAuth(cp) })).json()) as { items: { origin: string; name: string }[] };
    assert.deepEqual(resources.items.map((i) => `${i.name} ${i.origin}`), ["reviews apply"]);
  });

  it("an invalid apply is refused with 422 and diagnostics with file:line; nothing changes", async () => {
    const before = cp.version;
    const { status, body } = await post("apply", reviewsTo("v9"), "bad.yaml");
    assert.equal(status, 422);
    assert.equal(body.applied, false);
    const err = body.diagnostics.find((d) => d.level === "error");
    assert.ok(err, JSON.stringify(body.diagnostics));
    assert.equal(err.source.file, "bad.yaml");
    assert.equal(err.source.line, 8, "the line of the destination host");
    assert.equal(body.version, before);
    assert.equal(cp.version, before);
    assert.match((await call("/after-bad")).body, /^reviews-v2 /);
    assert.equal((await statusOf(client))?.state, "SYNCED");
  });

  it("a push the proxy rejects → NACK with its reason; the proxy keeps serving its last good config", async () => {
    const good = (await statusOf(client))!.ackedVersion;
    cp.beforePush = (node, cfg) => (node === client.nodeId ? { ...cfg, listeners: [...cfg.listeners, { ...cfg.listeners[0]!, name: "zz-broken", routeConfigName: "nowhere" }] } : cfg);
    const { body } = await post("apply", reviewsTo("v1"), "back.yaml");
    assert.equal(body.applied, true);
    const s = await waitFor("NACK", async () => {
      const st = await statusOf(client);
      return st?.state === "NACK" ? st : null;
    });
    assert.match(s.error ?? "", /routeConfigName: no route configuration named "nowhere"/);
    assert.equal(s.ackedVersion, good);
    assert.equal(s.sentVersion, body.version);
    assert.match((await call("/after-nack")).body, /^reviews-v2 /, "old config still routes");
    // The other proxies took the same version.
    await synced(proxies[1]!, body.version);
    cp.beforePush = undefined;
    const next = await post("apply", reviewsTo("v1", "    timeout: 5s\n"), "fixed.yaml");
    assert.equal(next.body.applied, true, JSON.stringify(next.body.diagnostics));
    await synced(client, next.body.version);
    assert.equal((await statusOf(client))?.error, undefined);
    assert.match((await call("/after-fix")).body, /^reviews-v1 /);
  });

  it("a live file edit is picked up; a bad edit is refused and kept in status", async () => {
    // Applied resources win over files. Delete removes the applied one and hides the file's until
    // that file changes: no VirtualService, so reviews is round-robin over both versions.
    const del = await post("delete", reviewsTo("v1"), "del.yaml");
    assert.equal(del.body.applied, true, JSON.stringify(del.body));
    assert.deepEqual(del.body.changes, [{ resource: "VirtualService default/reviews", action: "deleted" }]);
    const list = (await (await fetch(`${cp.url}/api/v1/resources?kind=VirtualService`, { headers: adminAuth(cp) })).json()) as { items: unknown[] };
    assert.equal(list.items.length, 0);
    // Without a VirtualService half the calls reach v2 anyway: wait for the edit itself (a new
    // version with the file's VirtualService, pushed to the client), then check the routing.
    const afterDelete = cp.version;
    writeFileSync(join(dir, "reviews-vs.yaml"), reviewsTo("v2"));
    const version = await waitFor("the edited file loaded", async () => {
      const items = ((await (await fetch(`${cp.url}/api/v1/resources?kind=VirtualService`, { headers: adminAuth(cp) })).json()) as { items: unknown[] }).items;
      return cp.version !== afterDelete && items.length === 1 ? cp.version : null;
    });
    await synced(client, version);
    for (let i = 0; i < 4; i++) assert.match((await call(`/edit-${i}`)).body, /^reviews-v2 /, "the edit routes every call to v2");
    writeFileSync(join(dir, "reviews-vs.yaml"), reviewsTo("v7"));
    const st = await waitFor("refusal in status", async () => {
      const s = (await (await fetch(`${cp.url}/api/v1/status`, { headers: adminAuth(cp) })).json()) as ControlPlaneStatus;
      return s.refused?.find((r) => r.source.endsWith("reviews-vs.yaml")) ?? null;
    });
    assert.ok(st.diagnostics.some((d) => d.level === "error" && d.source.file.endsWith("reviews-vs.yaml") && d.source.line === 8));
    assert.equal(cp.version, version);
    assert.ok(logs.some((l) => /reviews-vs\.yaml: refused/.test(l)));
    assert.match((await call("/after-bad-edit")).body, /^reviews-v2 /);
    // Reverting the file to its last good text clears the refusal.
    writeFileSync(join(dir, "reviews-vs.yaml"), reviewsTo("v2"));
    await waitFor("refusal cleared", async () => {
      const s = (await (await fetch(`${cp.url}/api/v1/status`, { headers: adminAuth(cp) })).json()) as ControlPlaneStatus;
      return (s.refused ?? []).length === 0;
    });
    assert.equal(cp.version, version, "same text as the last good one: no new version");
  });

  it("control plane outage under steady traffic: zero failed requests; a restarted control plane resyncs every proxy", async () => {
    const port = cp.port;
    const failures: string[] = [];
    let ok = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        try {
          const r = await call("/steady");
          if (r.status === 200) ok++;
          else failures.push(`${r.status} ${r.body}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    /** Wait until `n` more requests than now succeeded (traffic flows in this phase). */
    const moreOk = (n: number, phase: string) => {
      const from = ok;
      return waitFor(`${n} successful requests ${phase}`, () => ok >= from + n || failures.length > 0);
    };
    try {
      await moreOk(10, "before the outage");
      await cp.close();
      await waitFor("every proxy to notice the outage", () => proxies.every((p) => /stream lost/.test(p.stderr)));
      await moreOk(10, "while the control plane is away");
      cp = await start(port);
      // The registrations of the last run come back from the state dir (provisionally), so the
      // reconnecting proxies are pushed the endpoints they had, not an empty view; the runtime then
      // registers them again, which changes nothing.
      assert.equal(cp.status().instances, proxies.length, "registrations restored from the state dir");
      for (const p of proxies) await register(cp, p);
      for (const p of proxies) await synced(p, cp.version);
      await moreOk(10, "after the resync");
    } finally {
      stop = true;
      await loop;
    }
    assert.deepEqual(failures, []);
    assert.ok(ok >= 30, `steady traffic (${ok} requests)`);
    assert.match((await call("/after-restart")).body, /^reviews-v2 /);
  });

  it("a restored registration that is not registered again within the grace period is dropped", async () => {
    const port = cp.port;
    await cp.close();
    // The grace period ends when the test says, after the re-registrations: with a real 300 ms timer
    // a loaded machine let it end between two of them, and more than one was dropped.
    const grace = new HeldTimerClock(GRACE_MS);
    cp = await start(port, GRACE_MS, grace);
    assert.equal(cp.status().instances, proxies.length);
    const [, ...kept] = proxies;
    for (const p of kept) await register(cp, p);
    assert.equal(cp.status().instances, proxies.length, "nothing dropped before the grace period ends");
    grace.fire();
    await waitFor("the grace period to drop the one not registered again", () => cp.status().instances === kept.length);
    assert.ok(logs.some((l) => /dropped 1 restored registration\(s\) not registered again: default\//.test(l)), logs.join("\n"));
  });
});

const GRACE_MS = 987_654;

/** The system clock, except that a timer of `heldMs` fires only when `fire()` is called. */
class HeldTimerClock implements Clock {
  private held: (() => void) | null = null;
  private readonly heldMs: number;
  constructor(heldMs: number) {
    this.heldMs = heldMs;
  }
  now(): number {
    return systemClock.now();
  }
  wallNow(): number {
    return systemClock.wallNow();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (ms !== this.heldMs) return systemClock.setTimeout(fn, ms);
    this.held = fn;
    const handle: TimerHandle = { cancel: () => void (this.held = null), unref: () => handle };
    return handle;
  }
  fire(): void {
    const fn = this.held;
    assert.ok(fn, "the grace timer is armed");
    this.held = null;
    fn();
  }
}
