// Sidecars fail over between control-plane replicas. Two replicas share config through a real
// 3-member etcd cluster and one state dir (one CA, one token key); real `amime proxy --xds A,B`
// processes and real upstream apps; a load loop runs through a sidecar the whole time. The replica
// the sidecar is connected to is stopped abruptly (no drain): zero failed requests, and the
// sidecar is resynced at the other replica within 5 s. A replica stopping gracefully tells its
// proxies to move (drain) before it closes: they move without a broken stream.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { EtcdCluster } from "../support/etcd-cluster.ts";
import { trustMeshRoot } from "../support/mesh-root.ts";
import { meshProxy, register, reviewsTo, SERVICES_YAML, spawnProxy, stopProxy, waitFor, type MeshProxy } from "./mesh-harness.ts";

describe("sidecars fail over between control-plane replicas", () => {
  let etcd: EtcdCluster;
  let stateDir: string;
  let upstream: Upstream;
  const replicas: ControlPlane[] = [];
  let client: MeshProxy;
  let proxies: MeshProxy[];

  /** The port of the replica the first test stopped (the second starts one there again). */
  let stoppedPort = 0;
  const startReplica = async (port = 0): Promise<ControlPlane> => {
    const cp = await ControlPlane.start({ port, watch: false, debounceMs: 20, stateDir, store: etcd.url(`/failover-${process.pid}`) });
    trustMeshRoot(cp.trustBundle);
    replicas.push(cp);
    return cp;
  };
  /** The live replica `p`'s stream is open to, and its status there. */
  const connectedAt = (p: MeshProxy) => {
    for (const cp of replicas) {
      const s = cp.proxies().find((x) => x.node === p.nodeId && x.connected);
      if (s) return { cp, s };
    }
    return undefined;
  };
  const call = () => send(client.outboundPort, { host: "reviews:9080", path: "/steady" });

  /** Run `during` while a load loop runs through the client sidecar; returns the failures. */
  const underLoad = async (during: () => Promise<void>): Promise<{ failures: string[]; ok: number }> => {
    const failures: string[] = [];
    let ok = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        try {
          const r = await call();
          if (r.status === 200) ok++;
          else failures.push(`${r.status} ${r.body}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    const moreOk = (n: number, phase: string) => {
      const from = ok;
      return waitFor(`${n} successful requests ${phase}`, () => ok >= from + n || failures.length > 0);
    };
    try {
      await moreOk(20, "before");
      await during();
      await moreOk(20, "after");
    } finally {
      stop = true;
      await loop;
    }
    return { failures, ok };
  };

  before(async () => {
    etcd = await EtcdCluster.start(3);
    stateDir = mkdtempSync(join(tmpdir(), "amime-failover-state-"));
    upstream = await startUpstream("reviews-v1");
    // One after the other: the first creates the CA and token key in the shared state dir.
    const a = await startReplica();
    const b = await startReplica();
    const applied = await a.apply(`${SERVICES_YAML}---\n${reviewsTo("v1")}`, "mesh.yaml");
    assert.equal(applied.applied, true, JSON.stringify(applied.diagnostics));
    await waitFor("the second replica to adopt the config", () => b.resources({ kind: "VirtualService" }).items.length === 1, 20_000);
    client = await meshProxy("productpage", "v1");
    proxies = [client, await meshProxy("reviews", "v1", { servicePort: 9080, appPort: upstream.port })];
    // The instance registry is per replica: the runtime registers every instance with each.
    for (const cp of replicas) for (const p of proxies) await register(cp, p);
    await Promise.all(proxies.map((p) => spawnProxy(a, p, {}, replicas)));
  });

  after(async () => {
    await Promise.all((proxies ?? []).map(stopProxy));
    await Promise.all(replicas.map((cp) => cp.close({ drain: false })));
    await upstream?.close();
    await etcd?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("the replica a sidecar is connected to stops abruptly under load: zero failed requests, resynced at the other within 5 s", async () => {
    const first = await waitFor("the client sidecar to be SYNCED at a replica", () => {
      const at = connectedAt(client);
      return at?.s.state === "SYNCED" && at;
    });
    stoppedPort = first.cp.port;
    const { failures, ok } = await underLoad(async () => {
      await first.cp.close({ drain: false });
      const moved = await waitFor("the client sidecar to be SYNCED at the other replica", () => {
        const at = connectedAt(client);
        return at !== undefined && at.cp !== first.cp && at.s.state === "SYNCED" && at;
      }, 5_000);
      assert.notEqual(moved.cp, first.cp);
    });
    assert.deepEqual(failures, []);
    assert.ok(ok >= 40, `steady traffic (${ok} requests)`);
    assert.match(client.stderr, /control plane stream lost .*reconnecting to https:\/\/127\.0\.0\.1:\d+ \(was https:\/\/127\.0\.0\.1:\d+\)/);
  });

  it("a replica stopping gracefully tells its proxies to move (drain) before it closes", async () => {
    // Back on the stopped replica's port: the proxies know it (--xds A,B).
    const c = await startReplica(stoppedPort);
    for (const p of proxies) await register(c, p);
    const from = connectedAt(client)!;
    const { failures } = await underLoad(async () => {
      await from.cp.close();
      await waitFor("the client sidecar to be SYNCED at another replica", () => {
        const at = connectedAt(client);
        return at !== undefined && at.cp === c && at.s.state === "SYNCED";
      }, 5_000);
    });
    assert.deepEqual(failures, []);
    assert.match(client.stderr, /control plane https:\/\/127\.0\.0\.1:\d+ is stopping \(drain\); moving to another replica/);
  });
});
