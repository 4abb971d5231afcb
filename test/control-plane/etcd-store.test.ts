// Config in etcd (`--store etcd://…`), against a real 3-member etcd cluster on loopback: two
// control-plane replicas share it. A change applied at one is adopted by the other with the same
// resourceVersion; two concurrent applies of the same resource at two replicas: one wins, the other
// gets kubectl's conflict; of different resources: both are taken. Killing an etcd member changes
// nothing; with all of etcd stopped, applies fail with a clear error while the replicas keep their
// config, and when etcd returns nothing is lost and changes flow again. A replica started later
// takes everything back from etcd. A revocation made at one replica is held by the other. With a
// store key file, replicas on different state dirs share one CA root, encrypted in etcd. The CLI
// refuses -f together with --store.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { CONFLICT_CODE, SAVE_FAILED_CODE } from "../../src/control-plane/store/config-store.ts";
import { amime } from "../cli/control-plane-cli.ts";
import { EtcdCluster } from "../support/etcd-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { reviewsTo, SERVICES_YAML } from "./mesh-harness.ts";

/** A ServiceEntry of its own (resources that do not touch each other). */
const entry = (name: string, port: number) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}}
spec:
  hosts: [${name}.example.com]
  ports: [{number: ${port}, name: http, protocol: HTTP}]
  resolution: DNS
`;

describe("config in etcd, shared by control-plane replicas", () => {
  let etcd: EtcdCluster;
  const replicas: ControlPlane[] = [];
  const logs = new Map<ControlPlane, string[]>();
  let url: string;

  const start = async (): Promise<ControlPlane> => {
    const lines: string[] = [];
    const cp = await ControlPlane.start({ port: 0, watch: false, store: url, log: (l) => lines.push(l) });
    logs.set(cp, lines);
    replicas.push(cp);
    return cp;
  };
  /** The resourceVersion of a resource and what it says (a VirtualService's subset, a ServiceEntry's port). */
  const versionOf = (cp: ControlPlane, name: string) => {
    const item = cp.resources({ kind: name === "reviews" ? "VirtualService" : "ServiceEntry", name }).items[0];
    if (item === undefined) return undefined;
    const meta = item.body.metadata as { resourceVersion: string; generation: number };
    const spec = JSON.stringify(item.body.spec);
    return { rv: meta.resourceVersion, says: spec.match(/"subset":"(\w+)"/)?.[1] ?? spec.match(/"number":(\d+)/)?.[1] };
  };
  const converged = (name: string, says: string | number) => waitFor(() => {
    const seen = replicas.map((cp) => versionOf(cp, name));
    return seen.every((v) => v?.says === String(says) && v.rv === seen[0]!.rv) && seen[0];
  }, { what: `every replica to hold ${name} (${says}) with one resourceVersion`, timeoutMs: 20_000 });

  before(async () => {
    etcd = await EtcdCluster.start(3);
    url = etcd.url(`/test-${process.pid}`);
    await start();
    await start();
  });
  after(async () => {
    await Promise.all(replicas.map((cp) => cp.close()));
    await etcd?.close();
  });

  it("a change applied at one replica is adopted and pushed by the other, with the same resourceVersion", async () => {
    const [a, b] = replicas as [ControlPlane, ControlPlane];
    const r = await a.apply(`${SERVICES_YAML}---\n${reviewsTo("v1")}`, "first.yaml", "admin:alice");
    assert.equal(r.applied, true, JSON.stringify(r.diagnostics));
    const v = await converged("reviews", "v1");
    assert.match(v.rv, /^\d+$/);
    const before = b.version;
    const next = await b.apply(reviewsTo("v2"), "second.yaml", "admin:bob");
    assert.equal(next.applied, true, JSON.stringify(next.diagnostics));
    const v2 = await converged("reviews", "v2");
    assert.ok(Number(v2.rv) > Number(v.rv), "a change takes a newer resourceVersion");
    assert.notEqual(b.version, before);
    const annotations = a.resources({ kind: "VirtualService", name: "reviews" }).items[0]!.body.metadata as { annotations: Record<string, string> };
    assert.equal(annotations.annotations["amime.io/changed-by"], "admin:bob", "the change log travels with the resource");
    assert.ok(logs.get(a)!.some((l) => /etcd revision \d+ by admin:bob: VirtualService default\/reviews configured/.test(l)), logs.get(a)!.join("\n"));
  });

  it("two concurrent applies of the same resource at two replicas: one wins, the other gets a conflict", async () => {
    const [a, b] = replicas as [ControlPlane, ControlPlane];
    await converged("reviews", "v2");
    const [ra, rb] = await Promise.all([a.apply(reviewsTo("v1"), "alice.yaml", "admin:alice"), b.apply(reviewsTo("v2", "    timeout: 3s\n"), "bob.yaml", "admin:bob")]);
    assert.equal([ra, rb].filter((r) => r.applied).length, 1, JSON.stringify([ra.diagnostics, rb.diagnostics]));
    const loser = ra.applied ? rb : ra;
    const conflict = loser.diagnostics.find((d) => d.code === CONFLICT_CODE);
    assert.match(conflict?.message ?? JSON.stringify(loser.diagnostics), /Operation cannot be fulfilled on VirtualService default\/reviews: the object has been modified/);
    await converged("reviews", ra.applied ? "v1" : "v2");
  });

  it("concurrent applies of different resources at two replicas are both taken (judged again on the newer state)", async () => {
    const [a, b] = replicas as [ControlPlane, ControlPlane];
    const [ra, rb] = await Promise.all([a.apply(entry("left", 1001), "l.yaml"), b.apply(entry("right", 2001), "r.yaml")]);
    assert.equal(ra.applied, true, JSON.stringify(ra.diagnostics));
    assert.equal(rb.applied, true, JSON.stringify(rb.diagnostics));
    await converged("left", 1001);
    await converged("right", 2001);
  });

  it("a revocation made at one replica is denied by every replica (the deny list lives in etcd)", async () => {
    const [a, b] = replicas as [ControlPlane, ControlPlane];
    const identity = "spiffe://cluster.local/ns/default/sa/ratings";
    assert.equal(await a.revoke({ identity }, "admin:alice"), true);
    await waitFor(async () => (await b.revocations()).some((r) => r.identity === identity), { what: "the other replica to hold the revocation", timeoutMs: 20_000 });
    assert.ok(logs.get(b)!.some((l) => /revocation list changed in etcd \(1 entries\)/.test(l)), logs.get(b)!.join("\n"));
    assert.equal(await b.unrevoke({ identity }, "admin:bob"), true);
    await waitFor(async () => (await a.revocations()).length === 0, { what: "the un-revoke to reach the first replica", timeoutMs: 20_000 });
  });

  it("killing an etcd member changes nothing", async () => {
    const [a] = replicas as [ControlPlane];
    await etcd.kill(0);
    const r = await a.apply(entry("left", 1002), "l.yaml");
    assert.equal(r.applied, true, JSON.stringify(r.diagnostics));
    await converged("left", 1002);
    await etcd.restart(0);
  });

  it("with all of etcd stopped, applies fail clearly and replicas keep their config; when etcd returns nothing is lost", async () => {
    const [a, b] = replicas as [ControlPlane, ControlPlane];
    const held = versionOf(b, "right");
    await etcd.stopAll();
    const r = await a.apply(entry("right", 2002), "r.yaml");
    assert.equal(r.applied, false);
    assert.match(r.diagnostics.find((d) => d.code === SAVE_FAILED_CODE)?.message ?? JSON.stringify(r.diagnostics), /could not be saved, so it was not made: etcd etcd:\/\/.* is unavailable/);
    assert.deepEqual(versionOf(a, "right"), held, "the replica that refused keeps its config");
    assert.deepEqual(versionOf(b, "right"), held);
    await etcd.restartAll();
    const again = await waitFor(async () => {
      const x = await b.apply(entry("right", 2002), "r.yaml");
      return x.applied && x;
    }, { what: "an apply to succeed once etcd is back", timeoutMs: 30_000, everyMs: 200 });
    assert.equal(again.applied, true);
    await converged("right", 2002);
    await converged("left", 1002);
  });

  it("a replica started later takes back everything from etcd, with the same versions", async () => {
    const [a] = replicas as [ControlPlane];
    const c = await start();
    for (const name of ["reviews", "left", "right"]) assert.deepEqual(versionOf(c, name), versionOf(a, name), name);
    assert.equal(c.resources({ kind: "Service" }).items.length, 1);
  });

  it("with --store-key-file, replicas on different state dirs share one CA root, kept encrypted in etcd; another key cannot read it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "amime-shared-ca-"));
    try {
      const keyFile = join(dir, "store.key");
      writeFileSync(keyFile, randomBytes(32));
      const prefix = `/shared-ca-${process.pid}`;
      const startWith = (name: string, key: string) => ControlPlane.start({ port: 0, watch: false, store: etcd.url(prefix), stateDir: join(dir, name), storeKeyFile: key });
      const one = await startWith("one", keyFile);
      const two = await startWith("two", keyFile);
      try {
        assert.equal(two.trustBundle, one.trustBundle, "one root");
        assert.equal(readFileSync(join(dir, "two", "ca", "ca-cert.pem"), "utf8"), readFileSync(join(dir, "one", "ca", "ca-cert.pem"), "utf8"));
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
      const stored = spawnSync("etcdctl", ["--endpoints", etcd.endpoints.join(","), "get", `${prefix}/ca`, "--print-value-only"], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } });
      assert.equal(stored.status, 0, stored.stderr);
      assert.match(stored.stdout, /"format":"amime\.io\/shared-ca\/v1"/);
      assert.doesNotMatch(stored.stdout, /PRIVATE KEY|BEGIN/);
      const otherKey = join(dir, "other.key");
      writeFileSync(otherKey, randomBytes(32));
      await assert.rejects(startWith("three", otherKey), /cannot decrypt the CA root in etcd key .*\/ca with --store-key-file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the CLI refuses -f with --store, and a store URL it cannot read", async () => {
    const both = await amime(["control-plane", "-f", "x.yaml", "--store", url, "--port", "0"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /-f cannot be combined with --store/);
    const bad = await amime(["control-plane", "--store", "redis://127.0.0.1:1", "--port", "0"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /only etcd:\/\/ and etcds:\/\/ stores are supported/);
  });
});
