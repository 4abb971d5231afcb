// The list/watch client (src/control-plane/kubernetes/reflector.ts) against the rig's real
// kube-apiserver, with the API server's own watch timeout shortened (timeoutSeconds) so a watch
// ends and is resumed within a test:
// - 410 Gone: with the API server's watch cache off (watches served by etcd), etcd compacted past
//   the version the reflector would resume from: the resumed watch is refused with 410, the
//   reflector lists again and keeps watching (a later deletion arrives).
// - Bookmarks: with the watch cache on, the API server sends a BOOKMARK before the watch's timeout;
//   the version a resumed watch starts from moves up to it although nothing in the collection
//   changed (so a resume after a quiet period does not start from a compacted version).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { systemClock } from "../../src/core/clock.ts";
import { findKubeConfig } from "../../src/control-plane/kubernetes/kube-config.ts";
import { Reflector } from "../../src/control-plane/kubernetes/reflector.ts";
import { KubeCluster } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { runTool } from "./control-plane-process.ts";
import { tearDown } from "./teardown.ts";

function watchConfigMaps(kube: KubeCluster, log: string[], names: Set<string>): Reflector {
  return new Reflector(findKubeConfig(kube.kubeconfig), "/api/v1/namespaces/watched/configmaps", {
    upsert: (o) => names.add(o.metadata.name),
    remove: (o) => names.delete(o.metadata.name),
  }, systemClock, (l) => log.push(l), { watchTimeoutSeconds: 3 });
}

describe("a resumed watch refused with 410 Gone lists again", () => {
  let kube: KubeCluster;
  let reflector: Reflector | null = null;
  const log: string[] = [];
  const names = new Set<string>();

  before(async () => {
    kube = await KubeCluster.start({ apiServerArgs: ["--watch-cache=false"] });
    await kube.kubectl(["create", "namespace", "watched"]);
    await kube.kubectl(["-n", "watched", "create", "configmap", "a"]);
  });
  after(() => tearDown({ reflector, cluster: kube }));

  it("relists after etcd compacted the version it would resume from, and watches on", async () => {
    const r = watchConfigMaps(kube, log, names);
    reflector = r;
    await r.start();
    await kube.kubectl(["-n", "watched", "create", "configmap", "b"]);
    await waitFor(() => names.has("b"), { what: "configmap b by the watch" });
    assert.equal(r.lists, 1);
    // Move etcd on elsewhere and compact past b's version: nothing in the watched collection changes.
    await kube.kubectl(["create", "namespace", "elsewhere"]);
    await kube.kubectl(["-n", "elsewhere", "create", "configmap", "x"]);
    const endpoints = kube.etcdEndpoints.join(",");
    const status = JSON.parse((await runTool("etcdctl", ["--endpoints", endpoints, "endpoint", "status", "-w", "json"])).stdout) as { Status: { header: { revision: number } } }[];
    const revision = status[0]!.Status.header.revision;
    // A compaction at N keeps N: the resume (from the version after the reflector's) must be older.
    assert.ok(revision > Number(r.version) + 1, `etcd at ${revision}, the reflector at ${r.version}`);
    const compact = await runTool("etcdctl", ["--endpoints", endpoints, "compact", String(revision)]);
    assert.equal(compact.code, 0, compact.stderr);
    await waitFor(() => r.lists >= 2, { what: "the reflector to list again after its resumed watch is refused", timeoutMs: 30_000, everyMs: 50 }).catch((e: Error) => {
      throw new Error(`${e.message}; version ${r.version}, lists ${r.lists}, log:\n${log.join("\n")}`);
    });
    assert.ok(log.some((l) => /410/.test(l) && l.includes("listing again")), log.join("\n"));
    assert.deepEqual([...names].sort(), ["a", "b"]);
    await kube.kubectl(["-n", "watched", "delete", "configmap", "a"]);
    await waitFor(() => !names.has("a"), { what: "the deletion of a by the watch after the relist", timeoutMs: 20_000 });
  });
});

describe("watch bookmarks", () => {
  let kube: KubeCluster;
  let reflector: Reflector | null = null;
  const log: string[] = [];

  before(async () => {
    kube = await KubeCluster.start();
    await kube.kubectl(["create", "namespace", "watched"]);
  });
  after(() => tearDown({ reflector, cluster: kube }));

  it("move the version a resumed watch starts from, with no change in the collection", async () => {
    const r = watchConfigMaps(kube, log, new Set());
    reflector = r;
    await r.start();
    const listed = Number(r.version);
    // A ConfigMap of another namespace: the API server's cache of ConfigMaps moves on, the watched namespace does not change.
    await kube.kubectl(["create", "namespace", "elsewhere"]);
    await kube.kubectl(["-n", "elsewhere", "create", "configmap", "x"]);
    await waitFor(() => r.bookmarks >= 1 && Number(r.version) > listed, { what: "a bookmark past the listed version", timeoutMs: 30_000, everyMs: 50 }).catch((e: Error) => {
      throw new Error(`${e.message}; listed ${listed}, version ${r.version}, bookmarks ${r.bookmarks}, lists ${r.lists}, log:\n${log.join("\n")}`);
    });
    assert.equal(r.lists, 1, log.join("\n"));
  });
});
