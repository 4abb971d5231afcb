// A sidecar's credentials work the same at every control-plane replica on etcd (docs/control-plane.md,
// "Config in etcd"): two replicas share one state dir (one CA, one token key) and a real 3-member
// etcd. A bootstrap credential gets one certificate across replicas, also when two replicas are
// asked at once (the spent-credential ledger lives in etcd, written create-only), while the same
// request again (a lost answer's retry) gets the same certificate at either replica; a real sidecar
// whose certificate one replica issued renews it at the other once the first has stopped, and the
// other knows whose certificate it renewed (the serial → node index in etcd). The instance
// registry is shared too: a sidecar registered at one replica is served by the other.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { ProxyPrincipal } from "../../src/control-plane/auth/token.ts";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { x509 } from "../../src/core/x509.ts";
import { EtcdCluster } from "../support/etcd-cluster.ts";
import { trustMeshRoot } from "../support/mesh-root.ts";
import { meshProxy, register, spawnProxy, stopProxy, waitFor, type MeshProxy } from "./mesh-harness.ts";

const run = promisify(execFile);
const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

async function csr(): Promise<string> {
  const keys = (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
  return (await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: KEY_ALGORITHM })).toString("pem");
}

describe("proxy credentials across control-plane replicas on etcd", () => {
  let etcd: EtcdCluster;
  let stateDir: string;
  const prefix = `/credentials-${process.pid}`;
  const replicas: ControlPlane[] = [];
  let sidecar: MeshProxy | null = null;

  before(async () => {
    etcd = await EtcdCluster.start(3);
    stateDir = mkdtempSync(join(tmpdir(), "amime-credentials-state-"));
    // One after the other: the first creates the CA and token key in the shared state dir.
    for (let i = 0; i < 2; i++) {
      const cp = await ControlPlane.start({ port: 0, watch: false, debounceMs: 20, stateDir, store: etcd.url(prefix) });
      trustMeshRoot(cp.trustBundle);
      replicas.push(cp);
    }
  });

  after(async () => {
    if (sidecar) await stopProxy(sidecar);
    await Promise.all(replicas.map((cp) => cp.close({ drain: false })));
    await etcd?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const principal = (jti: string): ProxyPrincipal => ({ kind: "proxy", node: "sidecar~ratings-v1-0.default", namespace: "default", serviceAccount: "ratings", jti });

  it("a bootstrap credential spent at one replica gets no second certificate at the other", async () => {
    const [a, b] = replicas as [ControlPlane, ControlPlane];
    const first = await a.issueCertificate(principal("jti-one"), { csr: await csr() });
    await assert.rejects(b.issueCertificate(principal("jti-one"), { csr: await csr() }), (e: Error & { code?: string }) => e.code === "CA_BOOTSTRAP_SPENT" && e.message.includes(first.serial.toLowerCase().replace(/^0+/, "")));
    const stored = await run("etcdctl", ["--endpoints", etcd.endpoints.join(","), "get", `${prefix}/bootstrap/jti-one`, "--print-value-only"]);
    assert.equal((JSON.parse(stored.stdout) as { node: string }).node, "sidecar~ratings-v1-0.default");
  });

  it("the same credential at both replicas at once: exactly one certificate", async () => {
    const [a, b] = replicas as [ControlPlane, ControlPlane];
    const [ca, cb] = [await csr(), await csr()];
    const results = await Promise.allSettled([a.issueCertificate(principal("jti-race"), { csr: ca }), b.issueCertificate(principal("jti-race"), { csr: cb })]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1, JSON.stringify(results.map((r) => r.status)));
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.equal((refused.reason as { code?: string }).code, "CA_BOOTSTRAP_SPENT");
    // The loser wrote nothing: the winner's request is the one answered again, at either replica.
    const won = results.findIndex((r) => r.status === "fulfilled");
    const serial = (results[won] as PromiseFulfilledResult<{ serial: string }>).value.serial;
    for (const cp of [a, b]) assert.equal((await cp.issueCertificate(principal("jti-race"), { csr: won === 0 ? ca : cb })).serial, serial);
    await assert.rejects(a.issueCertificate(principal("jti-race"), { csr: won === 0 ? cb : ca }), (e: Error & { code?: string }) => e.code === "CA_BOOTSTRAP_SPENT");
  });

  it("a request whose answer was lost, retried at the other replica, gets the same certificate there (kept in etcd on the certificate's lease)", async () => {
    const [a, b] = replicas as [ControlPlane, ControlPlane];
    const request = await csr();
    const first = await a.issueCertificate(principal("jti-lost"), { csr: request });
    const again = await b.issueCertificate(principal("jti-lost"), { csr: request });
    assert.equal(again.serial, first.serial);
    assert.deepEqual(again.certChain, first.certChain);
    assert.equal(b.secret("sidecar~ratings-v1-0.default")?.certChain[0]?.serial, first.serial);
    await assert.rejects(b.issueCertificate(principal("jti-lost"), { csr: await csr() }), (e: Error & { code?: string }) => e.code === "CA_BOOTSTRAP_SPENT");
    const endpoints = ["--endpoints", etcd.endpoints.join(",")];
    const got = await run("etcdctl", [...endpoints, "get", `${prefix}/bootstrap-answers/jti-lost`, "-w", "json"]);
    const kv = (JSON.parse(got.stdout) as { kvs: { value: string }[] }).kvs[0]!;
    const kept = JSON.parse(Buffer.from(kv.value, "base64").toString()) as { csrSha256: string; certificate: { serial: string } };
    // A lease id is a 64-bit integer: read as digits, not as a JSON number.
    const leaseId = BigInt(/"lease":(\d+)/.exec(got.stdout)?.[1] ?? "0");
    assert.notEqual(leaseId, 0n, "the answer is on a lease");
    assert.equal(kept.certificate.serial, first.serial);
    assert.match(kept.csrSha256, /^[0-9a-f]{64}$/);
    const lease = await run("etcdctl", [...endpoints, "lease", "timetolive", leaseId.toString(16), "-w", "json"]);
    const ttl = (JSON.parse(lease.stdout) as { "granted-ttl": number })["granted-ttl"];
    assert.ok(Math.abs(ttl - (Date.parse(first.notAfter) - Date.now()) / 1000) < 600, `the answer's lease lasts as long as the certificate (${ttl} s)`);
  });

  it("a damaged record in etcd is a clear error naming the key, not a crash", async () => {
    const endpoints = ["--endpoints", etcd.endpoints.join(",")];
    await run("etcdctl", [...endpoints, "put", `${prefix}/bootstrap/jti-damaged`, JSON.stringify({ serial: "0a", node: "n" })]);
    await run("etcdctl", [...endpoints, "put", `${prefix}/bootstrap-answers/jti-damaged`, JSON.stringify({ csrSha256: "x" })]);
    await assert.rejects(replicas[1]!.issueCertificate(principal("jti-damaged"), { csr: await csr() }), (e: Error) => e.message.includes(`key ${prefix}/bootstrap-answers/jti-damaged.csrSha256 must be 64 lower-case hex digits`));
    await run("etcdctl", [...endpoints, "put", `${prefix}/bootstrap/jti-damaged`, "{"]);
    await assert.rejects(replicas[1]!.issueCertificate(principal("jti-damaged"), { csr: await csr() }), (e: Error) => e.message.includes(`key ${prefix}/bootstrap/jti-damaged is not valid JSON`));
  });

  it("an instance registered or removed at one replica is registered or removed at the other (etcd)", async () => {
    const [a, b] = replicas as [ControlPlane, ControlPlane];
    const p = await meshProxy("ratings", "v1");
    await register(a, p);
    await waitFor("the other replica to know the instance", () => b.registry.forNode(p.nodeId));
    const stored = await run("etcdctl", ["--endpoints", etcd.endpoints.join(","), "get", `${prefix}/instances/default/${p.name}`, "--print-value-only"]);
    assert.equal((JSON.parse(stored.stdout) as { nodeId: string }).nodeId, p.nodeId);
    assert.equal(a.deregister("default", p.name), true);
    await waitFor("the other replica to forget the instance", () => b.registry.forNode(p.nodeId) === undefined);
  });

  it("a sidecar registered at one replica fails over to the other, is pushed its config there and renews its certificate there", async () => {
    sidecar = await meshProxy("details", "v1");
    // The runtime tells one replica only: the other learns it through etcd.
    await register(replicas[0]!, sidecar);
    await waitFor("the other replica to know the instance", () => replicas[1]!.registry.forNode(sidecar!.nodeId));
    const node = sidecar.nodeId;
    // A 4 s certificate: renewed at half its lifetime.
    await spawnProxy(replicas[0]!, sidecar, { SECRET_TTL: "4s" }, replicas);
    const issuer = await waitFor("a replica to issue the sidecar's certificate", () => replicas.find((cp) => cp.secret(node) !== null), 15_000);
    const other = replicas.find((cp) => cp !== issuer)!;
    const firstSerial = issuer.secret(node)!.certChain[0]!.serial;
    assert.equal(other.secret(node), null, "the other replica issued nothing yet");
    await issuer.close();
    const renewed = await waitFor("the other replica to renew the sidecar's certificate", () => other.secret(node), 15_000);
    assert.notEqual(renewed.certChain[0]!.serial, firstSerial);
    assert.equal(renewed.identity, "spiffe://cluster.local/ns/default/sa/details");
    // Whose certificate it was came from etcd: the renewal is the node's, not the bare identity's.
    assert.equal(renewed.node, node);
    await waitFor("the sidecar to be SYNCED at the other replica", () => other.proxies().find((x) => x.node === node && x.connected && x.state === "SYNCED"));
  });
});
