// Leader election among control-plane replicas on a real 3-member etcd cluster (docs/control-plane.md,
// "Leader election"). One replica is a real `amime control-plane` process (so it can be killed with
// SIGKILL, as a crash), two run in this process. Exactly one leads and the others name it; only the
// leader compacts etcd's history; the killed leader's lease ends and another replica takes over; a
// replica stopping gracefully hands over at once; with etcd gone the leader steps down on its own
// and leading resumes once etcd is back. The step-down deadline itself is checked on a fake clock
// against the real etcd (below): the logic, not wall-clock bounds.
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { LeaderElection } from "../../src/control-plane/leader/leader-election.ts";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { amime } from "../cli/control-plane-cli.ts";
import { EtcdCluster } from "../support/etcd-cluster.ts";
import { trustMeshRoot } from "../support/mesh-root.ts";
import { adminAuth, BIN, NODE, waitFor } from "./mesh-harness.ts";

const run = promisify(execFile);

/** The `amime_control_plane_leader` sample of `cp`'s /metrics. */
async function leaderGauge(cp: ControlPlane): Promise<string> {
  trustMeshRoot(cp.trustBundle);
  const r = await fetch(`${cp.url}/metrics`, { headers: adminAuth(cp) });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return (await r.text()).split("\n").find((l) => l.startsWith("amime_control_plane_leader{")) ?? "(none)";
}
/** Short, so the test does not wait 15 s for a dead leader's lease (etcd's floor here is 3 s). */
const TIMING = { leaseTtlMs: 5_000, renewDeadlineMs: 3_500, retryPeriodMs: 500 };
const TIMING_FLAGS = ["--leader-elect-lease-duration", "5s", "--leader-elect-renew-deadline", "3500ms", "--leader-elect-retry-period", "500ms"];

/** `p`, failing with the replica's log appended. */
async function withLog<T>(log: () => string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- replica log ---\n${log().split("\n").filter((l) => !l.includes("watch disconnected")).slice(-40).join("\n")}`);
  }
}

describe("leader election among control-plane replicas", () => {
  let etcd: EtcdCluster;
  let stateDir: string;
  let proc: ChildProcess;
  let procLog = "";
  const prefix = `/leader-${process.pid}`;
  const inProcess: { name: string; cp: ControlPlane; log: string[] }[] = [];

  const startReplica = async (name: string): Promise<void> => {
    const log: string[] = [];
    const cp = await ControlPlane.start({ port: 0, watch: false, stateDir, store: etcd.url(prefix), replicaName: name, leaderTiming: TIMING, compactionIntervalMs: 300, log: (l) => log.push(l) });
    inProcess.push({ name, cp, log });
  };
  const leaderKey = async (): Promise<string> => (await run("etcdctl", ["--endpoints", etcd.endpoints.join(","), "get", `${prefix}/leader`, "--print-value-only"])).stdout.trim();
  const live = () => inProcess.filter((r) => r.cp.leader !== null && !closed.has(r.name));
  const closed = new Set<string>();

  before(async () => {
    etcd = await EtcdCluster.start(3);
    stateDir = mkdtempSync(join(tmpdir(), "amime-leader-state-"));
    proc = spawn(NODE, [BIN, "control-plane", "--store", etcd.url(prefix), "--port", "0", "--state-dir", stateDir, "--replica-name", "proc", "--store-compaction-interval", "300ms", ...TIMING_FLAGS], { stdio: ["ignore", "pipe", "pipe"] });
    proc.stderr!.on("data", (d: Buffer) => (procLog += d.toString()));
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.once("data", () => resolve());
      proc.once("exit", (c) => reject(new Error(`amime control-plane exited ${c}:\n${procLog}`)));
    });
    // The process leads before the others start (one leader, and it is the one to kill).
    await waitFor("the control-plane process to lead", async () => (await leaderKey()) === "proc", 15_000);
    await startReplica("a");
    await startReplica("b");
  });

  after(async () => {
    proc.kill("SIGKILL");
    for (const r of inProcess) await r.cp.close({ drain: false });
    await etcd?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("exactly one replica leads, every replica names it, and only it compacts etcd's history", async () => {
    await waitFor("a and b to name proc as leader", () => inProcess.every((r) => r.cp.status().leader === "proc"));
    for (const r of inProcess) {
      assert.equal(r.cp.leader!.status().leading, false, `${r.name} must not lead`);
      assert.equal(r.cp.status().replica, r.name);
    }
    assert.match(procLog, /leader election: this replica \(proc\) leads/);
    const ps = await amime(["proxy-status", "--control-plane", inProcess[0]!.cp.url, "--token-file", join(stateDir, "admin-token")]);
    assert.equal(ps.code, 0, ps.stderr);
    assert.equal(ps.stdout.split("\n")[0], "CONTROL PLANE a (leader: proc)");
    // A write, then a compaction past it: the revisions before that are gone from etcd.
    const applied = await inProcess[0]!.cp.apply("apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: default}\nspec: {ports: [{port: 9080, name: http}]}\n");
    assert.equal(applied.applied, true);
    const written = Number((inProcess[0]!.cp.resources({ name: "reviews" }).items[0]!.body.metadata as { resourceVersion: string }).resourceVersion);
    const compacted = await withLog(() => procLog, waitFor(`the leader to compact up to the write (revision ${written})`, () => [...procLog.matchAll(/etcd history compacted to revision (\d+)/g)].map((m) => Number(m[1])).find((r) => r >= written)));
    await assert.rejects(run("etcdctl", ["--endpoints", etcd.endpoints.join(","), "get", `${prefix}/revision`, "--rev", String(compacted - 1)]), /required revision has been compacted/);
    for (const r of inProcess) assert.ok(!r.log.some((l) => l.includes("compacted")), `${r.name} is no leader and compacts nothing`);
    for (const r of inProcess) assert.equal(await leaderGauge(r.cp), `amime_control_plane_leader{replica="${r.name}"} 0`);
  });

  it("kill -9 of the leader: another replica takes over once its lease ends", async (t) => {
    const killedAt = performance.now();
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      proc.kill("SIGKILL");
    });
    const next = await waitFor("a or b to lead", () => live().find((r) => r.cp.leader!.status().leading), TIMING.leaseTtlMs + 10_000);
    t.diagnostic(`takeover ${Math.round(performance.now() - killedAt)} ms after the kill (lease TTL ${TIMING.leaseTtlMs} ms; load-affected)`);
    assert.equal(live().filter((r) => r.cp.leader!.status().leading).length, 1);
    assert.equal(await leaderKey(), next.name);
    await waitFor("the other replica to name the new leader", () => live().every((r) => r.cp.status().leader === next.name));
    for (const r of live()) assert.equal(await leaderGauge(r.cp), `amime_control_plane_leader{replica="${r.name}"} ${r === next ? 1 : 0}`);
  });

  it("a leader stopping gracefully revokes its lease: the other leads without waiting for the TTL", async () => {
    const leader = live().find((r) => r.cp.leader!.status().leading)!;
    const other = live().find((r) => r !== leader)!;
    closed.add(leader.name);
    await leader.cp.close({ drain: false });
    assert.ok(leader.log.some((l) => l.includes(`this replica (${leader.name}) steps down: this replica is stopping`)));
    await waitFor(`${other.name} to lead`, () => other.cp.leader!.status().leading, TIMING.leaseTtlMs);
    assert.equal(await leaderKey(), other.name);
  });

  it("etcd gone: the leader steps down on its own; once etcd is back a replica leads again", async () => {
    const leader = live()[0]!;
    assert.equal(leader.cp.leader!.status().leading, true);
    await etcd.stopAll();
    await withLog(() => leader.log.join("\n"), waitFor("the leader to step down", () => leader.log.some((l) => l.includes(`steps down: no keepalive answered for ${TIMING.renewDeadlineMs} ms`)), TIMING.leaseTtlMs + 5_000));
    assert.equal(leader.cp.leader!.status().leading, false);
    assert.equal(leader.cp.status().leader, null);
    await etcd.restartAll();
    await waitFor("a leader again once etcd is back", () => leader.cp.leader!.status().leading, 30_000);
  });
});

describe("the leader's step-down deadline (fake clock, real etcd)", () => {
  let etcd: EtcdCluster;
  let client: Etcd3;
  before(async () => {
    etcd = await EtcdCluster.start(1);
    client = new Etcd3({ hosts: etcd.endpoints, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 2_000 }) });
  });
  after(async () => {
    client?.close();
    await etcd?.close();
  });

  it("leads until renewDeadline after the last answered keepalive was sent, never up to the lease TTL", async () => {
    const clock = new FakeClock(0);
    const timing = { leaseTtlMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
    const changes: boolean[] = [];
    const renewals: number[] = [];
    const election = new LeaderElection({ client, key: "/fake-clock/leader", replica: "r1", clock, timing, log: () => {}, onChange: (l) => changes.push(l), onRenewed: (at) => renewals.push(at) });
    try {
      election.start();
      await waitFor("r1 to win the campaign", () => election.leading);
      assert.deepEqual(renewals, [0]);
      // One keepalive at t = 2 s, answered by etcd: the term now ends at 2 s + 10 s.
      clock.advance(timing.retryPeriodMs);
      await waitFor("the keepalive at 2 s to be answered", () => renewals.length === 2);
      assert.deepEqual(renewals, [0, 2_000]);
      // etcd goes away: no keepalive is answered from now on.
      await etcd.stopAll();
      for (let t = 2_000; t < 11_000; t += 1_000) {
        clock.advance(1_000);
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(clock.now(), 11_000);
      assert.equal(election.leading, true, "still within the term (ends at 12 s)");
      assert.deepEqual(changes, [true]);
      clock.advance(999);
      assert.equal(election.leading, true);
      clock.advance(1);
      assert.equal(election.leading, false, "stepped down at 12 s");
      assert.deepEqual(changes, [true, false]);
      // etcd keeps the lease until at least 2 s + 15 s = 17 s: 5 s after this replica stopped leading.
      assert.ok(clock.now() + (timing.leaseTtlMs - timing.renewDeadlineMs) <= renewals.at(-1)! + timing.leaseTtlMs);
    } finally {
      await election.close();
    }
  });
});
