// Registrations whose proxy never comes back are removed by the leader (docs/control-plane.md,
// "Config in etcd"), as istiod cleans up auto-registered WorkloadEntries after
// PILOT_WORKLOAD_ENTRY_GRACE_PERIOD (10 s). First the reaper alone on a fake clock against a real
// 3-member etcd (the grace period counted exactly, reconnects, instances without a sidecar, a
// proxy connected at another replica, a follower); then two replicas with real sidecars: a
// sidecar killed is forgotten at both replicas, one connected to the other replica and an
// instance without a sidecar are kept.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { RegistrationReaper } from "../../src/control-plane/leader/registration-reaper.ts";
import { ControlPlane } from "../../src/control-plane/server.ts";
import type { InstanceRegistration } from "../../src/model/wire.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { EtcdCluster } from "../support/etcd-cluster.ts";
import { trustMeshRoot } from "../support/mesh-root.ts";
import { meshProxy, register, spawnProxy, waitFor, type MeshProxy } from "./mesh-harness.ts";

const run = promisify(execFile);

/** kill -9 of a sidecar; resolves once it is gone. */
function kill9(p: MeshProxy): Promise<void> {
  const child = p.child!;
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

describe("stale registrations are removed by the leader", () => {
  let etcd: EtcdCluster;
  let client: Etcd3;

  before(async () => {
    etcd = await EtcdCluster.start(3);
    client = new Etcd3({ hosts: etcd.endpoints, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 5_000 }) });
  });

  after(async () => {
    client?.close();
    await etcd?.close();
  });

  describe("the reaper (fake clock, real etcd)", () => {
    const prefix = `/reaper-${process.pid}/`;
    const reg = (name: string): InstanceRegistration => ({ instance: { name, namespace: "default", labels: {}, serviceAccount: name, address: "127.0.0.1", ready: true }, nodeId: `sidecar~${name}.default`, node: { id: `sidecar~${name}.default`, kind: "sidecar", workload: name, namespace: "default", labels: {}, serviceAccount: name, trustDomain: "cluster.local", ip: "127.0.0.1" }, outboundPort: 0 });
    const put = (key: string, value: string) => client.put(prefix + key).value(value).exec();
    const registered = async (name: string) => (await client.get(`${prefix}instances/default/${name}`).string()) !== null;
    const streamOpened = (name: string) => put(`streams/${encodeURIComponent(`sidecar~${name}.default`)}`, "r1");

    it("removes a registration whose proxy had no stream for the grace period, and only such", async () => {
      const clock = new FakeClock(0);
      const log: string[] = [];
      let leading = true;
      const reaper = new RegistrationReaper({ client, prefix, clock, graceMs: 10_000, leading: () => leading, log: (l) => log.push(l) });
      for (const name of ["gone", "moved", "legacy", "back"]) await put(`instances/default/${name}`, JSON.stringify(reg(name)));
      // gone, moved and back had streams; moved's is open at replica r2 now; legacy never had a sidecar.
      for (const name of ["gone", "moved", "back"]) await streamOpened(name);
      await put(`connected/${encodeURIComponent("sidecar~moved.default")}/r2`, "r2");

      assert.deepEqual(await reaper.sweep(), [], "t = 0: gone is missing from now on");
      clock.advance(5_000);
      await streamOpened("back"); // back reconnected (and left again) between two sweeps: counted afresh
      assert.deepEqual(await reaper.sweep(), []);
      clock.advance(4_999);
      assert.deepEqual(await reaper.sweep(), [], "9.999 s: within the grace period");
      leading = false;
      clock.advance(1);
      assert.deepEqual(await reaper.sweep(), [], "a replica that does not lead removes nothing");
      leading = true;
      assert.deepEqual(await reaper.sweep(), ["default/gone"], "10 s");
      assert.equal(await registered("gone"), false);
      assert.equal(await client.get(`${prefix}streams/${encodeURIComponent("sidecar~gone.default")}`).string(), null);
      assert.match(log.join("\n"), /registration cleanup: removed default\/gone: proxy sidecar~gone\.default has had no stream at any replica for 10 s \(grace period 10 s\)/);
      clock.advance(5_000);
      assert.deepEqual(await reaper.sweep(), ["default/back"], "back: 10 s after the sweep that saw its reconnect");
      clock.advance(60_000);
      assert.deepEqual(await reaper.sweep(), []);
      assert.equal(await registered("moved"), true, "its proxy has a stream at r2");
      assert.equal(await registered("legacy"), true, "no sidecar ever connected: not auto-registered, never removed");
    });

    it("a registration changed after the sweep read it is not removed (the transaction's revision check)", async () => {
      const clock = new FakeClock(0);
      // The re-registration lands between the sweep's reads and its transaction: every read of `instances/` is followed by it.
      const racing = new Proxy(client, {
        get(target, p, recv) {
          if (p !== "getAll") return Reflect.get(target, p, recv) as unknown;
          return () => {
            const b = target.getAll();
            return new Proxy(b, {
              get(bt, bp, br) {
                if (bp !== "prefix") return Reflect.get(bt, bp, br) as unknown;
                return (pre: string) => {
                  const built = bt.prefix(pre);
                  if (!pre.endsWith("instances/")) return built;
                  return { exec: async () => {
                    const res = await built.exec();
                    await put("instances/default/racing", JSON.stringify({ ...reg("racing"), outboundPort: 1 }));
                    return res;
                  } };
                };
              },
            });
          };
        },
      });
      const reaper = new RegistrationReaper({ client: racing, prefix, clock, graceMs: 1_000, leading: () => true, log: () => {} });
      await put("instances/default/racing", JSON.stringify(reg("racing")));
      await streamOpened("racing");
      await reaper.sweep();
      clock.advance(1_000);
      assert.deepEqual(await reaper.sweep(), []);
      assert.equal(await registered("racing"), true);
    });
  });

  describe("two replicas and real sidecars", () => {
    const prefix = `/cleanup-${process.pid}`;
    let stateDir: string;
    const replicas: { cp: ControlPlane; log: string[] }[] = [];
    const sidecars: MeshProxy[] = [];

    before(async () => {
      stateDir = mkdtempSync(join(tmpdir(), "amime-cleanup-state-"));
      for (const name of ["a", "b"]) {
        const log: string[] = [];
        const cp = await ControlPlane.start({ port: 0, watch: false, debounceMs: 20, stateDir, store: etcd.url(prefix), replicaName: name, registrationCleanupGraceMs: 1_000, log: (l) => log.push(l) });
        trustMeshRoot(cp.trustBundle);
        replicas.push({ cp, log });
      }
    });

    after(async () => {
      await Promise.all(sidecars.filter((p) => p.child !== undefined && p.child.exitCode === null && p.child.signalCode === null).map(kill9));
      await Promise.all(replicas.map((r) => r.cp.close({ drain: false })));
      rmSync(stateDir, { recursive: true, force: true });
    });

    it("a sidecar that is gone is forgotten at every replica; one connected elsewhere and an instance without a sidecar stay", async () => {
      const [a, b] = [replicas[0]!.cp, replicas[1]!.cp];
      const stays = await meshProxy("ratings", "v1");
      const leaves = await meshProxy("details", "v1");
      const legacy = await meshProxy("legacy", "v1");
      legacy.registration.instance.sidecar = false;
      sidecars.push(stays, leaves);
      // Registered at a; ratings' sidecar streams from b only, details' from a.
      for (const p of [stays, leaves, legacy]) await register(a, p);
      await waitFor("b to know every instance", () => [stays, leaves, legacy].every((p) => b.registry.forNode(p.nodeId)));
      await spawnProxy(b, stays, {}, [b]);
      await spawnProxy(a, leaves, {}, [a]);
      const mark = async (p: MeshProxy) => (await run("etcdctl", ["--endpoints", etcd.endpoints.join(","), "get", "--prefix", `${prefix}/connected/${encodeURIComponent(p.nodeId)}/`, "--keys-only"])).stdout.trim();
      await waitFor("ratings' mark to name replica b", async () => (await mark(stays)) === `${prefix}/connected/${encodeURIComponent(stays.nodeId)}/b`);

      await kill9(leaves);
      await waitFor("details to be forgotten at both replicas", () => [a, b].every((cp) => cp.registry.forNode(leaves.nodeId) === undefined), 15_000);
      assert.equal(await mark(leaves), "", "its mark went with its stream");
      const leader = replicas.find((r) => r.cp.leader!.status().leading)!;
      assert.ok(leader.log.some((l) => /registration cleanup: removed default\/details-v1-0: proxy sidecar~details-v1-0\.default has had no stream at any replica for \d+ s \(grace period 1 s\)/.test(l)), leader.log.join("\n"));
      // The same sweeps saw ratings (its stream is at b, whichever replica leads) and legacy (never connected).
      for (const cp of [a, b]) {
        assert.ok(cp.registry.forNode(stays.nodeId), "ratings' proxy is connected to b");
        assert.ok(cp.registry.forNode(legacy.nodeId), "an instance without a sidecar is never cleaned up");
      }

      // ratings' sidecar dies too: registered at a, streamed from b, forgotten at both.
      await kill9(stays);
      await waitFor("ratings to be forgotten at both replicas", () => [a, b].every((cp) => cp.registry.forNode(stays.nodeId) === undefined), 15_000);
      assert.ok(a.registry.forNode(legacy.nodeId));
    });
  });
});
