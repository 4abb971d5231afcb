// A replica whose watch resumes from a revision etcd has compacted away (it was disconnected
// meanwhile) reads everything again instead of going deaf: against a real etcd, writes are made
// and compacted (etcdctl compact), then a watch from before them is opened: it is canceled by
// etcd, and the store hands over the full current state, then follows later writes again.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, it } from "node:test";
import { seededRandom } from "../../src/core/random.ts";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { EtcdStore, type EtcdState } from "../../src/control-plane/store/etcd/etcd-store.ts";
import { parseStoreUrl } from "../../src/control-plane/store/etcd/store-url.ts";
import type { ExternalChange } from "../../src/control-plane/store/config-store.ts";
import { EtcdCluster } from "../support/etcd-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { reviewsTo, SERVICES_YAML } from "./mesh-harness.ts";

let etcd: EtcdCluster;
const prefix = `/compaction-${process.pid}`;
before(async () => {
  etcd = await EtcdCluster.start(1);
});
after(async () => {
  await etcd?.close();
});

const etcdctl = (...args: string[]) => {
  const r = spawnSync("etcdctl", ["--endpoints", etcd.endpoints.join(","), ...args], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

it("a watch from a compacted revision reads the whole state again and follows on", async () => {
  const cp = await ControlPlane.start({ port: 0, watch: false, store: etcd.url(prefix) });
  const logs: string[] = [];
  const store = new EtcdStore({ url: parseStoreUrl(etcd.url(prefix)), random: seededRandom(1), log: (l) => logs.push(l) });
  try {
    assert.equal((await cp.apply(SERVICES_YAML, "s.yaml")).applied, true);
    const before = await store.load();
    assert.equal((await cp.apply(reviewsTo("v1"), "vs.yaml")).applied, true);
    assert.equal((await cp.apply(reviewsTo("v2"), "vs.yaml")).applied, true);
    const current = JSON.parse(etcdctl("endpoint", "status", "-w", "json")) as { Status: { header: { revision: number } } }[];
    etcdctl("compact", String(current[0]!.Status.header.revision));
    const resyncs: EtcdState[] = [];
    const batches: ExternalChange[] = [];
    await store.watch(before.readRevision, (b) => batches.push(b), (s) => resyncs.push(s));
    const state = await waitFor(() => resyncs[0], { what: "the store to read everything again", timeoutMs: 10_000 });
    assert.deepEqual([...state.batch.put.keys()].sort(), ["networking.istio.io|DestinationRule|default|reviews", "networking.istio.io|VirtualService|default|reviews", "|Service|default|reviews"].sort());
    assert.match(JSON.stringify(state.batch.put.get("networking.istio.io|VirtualService|default|reviews")!.resource.body), /"subset":"v2"/);
    assert.ok(logs.some((l) => /watch lost its place \(Watcher canceled/.test(l)), logs.join("\n"));
    assert.equal((await cp.apply(reviewsTo("v1"), "vs.yaml")).applied, true);
    await waitFor(() => batches.some((b) => b.put.has("networking.istio.io|VirtualService|default|reviews")), { what: "the resumed watch to see the next write", timeoutMs: 10_000 });
  } finally {
    await store.close();
    await cp.close();
  }
});
