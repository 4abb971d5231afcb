// Control-plane replicas reach etcd over TLS (`--store etcds://…`, docs/control-plane.md "TLS to
// etcd"): a real etcd member serving clients over TLS only with --client-cert-auth, certificates
// made with the real openssl. A replica with the CA and a client certificate stores config there
// (etcdctl, over TLS too, reads it); without a client certificate, with a CA that did not sign
// etcd's certificate, or with a client certificate of another CA it does not start, naming etcd;
// files that are missing or not PEM are named with their flag before any connection.
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { amime } from "../cli/control-plane-cli.ts";
import { EtcdCluster } from "../support/etcd-cluster.ts";
import { makeEtcdCerts, type EtcdTestCerts } from "../support/etcd-tls-certs.ts";
import { BIN, NODE, SERVICES_YAML } from "./mesh-harness.ts";

const run = promisify(execFile);

describe("control plane → etcd over TLS", () => {
  let dir: string;
  let certs: EtcdTestCerts;
  let etcd: EtcdCluster;
  let proc: ChildProcess | null = null;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "amime-etcd-tls-"));
    certs = await makeEtcdCerts(dir);
    etcd = await EtcdCluster.start(1, { tls: certs });
  });
  after(async () => {
    proc?.kill("SIGKILL");
    await etcd?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `amime control-plane --store etcds://… FLAGS` in `dir`: its ready line, or its exit code and stderr. */
  const start = (flags: string[]): Promise<{ ready: { url: string } | null; code: number | null; stderr: string; child: ChildProcess }> => {
    const child = spawn(NODE, [BIN, "control-plane", "--store", etcd.url("/tls"), "--port", "0", ...flags], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => {
      child.stdout!.once("data", (d: Buffer) => resolve({ ready: JSON.parse(d.toString().split("\n")[0]!) as { url: string }, code: null, stderr, child }));
      child.once("exit", (code) => resolve({ ready: null, code, stderr, child }));
    });
  };

  it("with the CA and a client certificate: config is stored in etcd over TLS", async () => {
    const r = await start(["--store-cacert", certs.ca, "--store-cert", certs.clientCert, "--store-key", certs.clientKey]);
    proc = r.child;
    assert.ok(r.ready, r.stderr);
    const applied = await amime(["apply", "-f", "-", "--control-plane", r.ready.url], { cwd: dir, stdin: SERVICES_YAML });
    assert.equal(applied.code, 0, applied.stderr);
    const got = await run("etcdctl", ["--endpoints", etcd.endpoints.join(","), "--cacert", certs.ca, "--cert", certs.clientCert, "--key", certs.clientKey, "get", "--prefix", "/tls/resources/", "--keys-only"]);
    assert.match(got.stdout, /\/tls\/resources\/\|Service\|default\|reviews/);
  });

  for (const [what, flags, why] of [
    ["without a client certificate (etcd requires one)", () => ["--store-cacert", certs.ca], /etcd etcds:\/\/127\.0\.0\.1:\d+\/tls is unavailable/],
    ["with a CA that did not sign etcd's certificate", () => ["--store-cacert", certs.foreignCa, "--store-cert", certs.clientCert, "--store-key", certs.clientKey], /etcd etcds:\/\/127\.0\.0\.1:\d+\/tls is unavailable/],
    ["with a client certificate etcd's CA did not sign", () => ["--store-cacert", certs.ca, "--store-cert", certs.foreignCert, "--store-key", certs.foreignKey], /etcd etcds:\/\/127\.0\.0\.1:\d+\/tls is unavailable/],
  ] as const) {
    it(`${what}: the replica does not start, naming etcd`, async () => {
      const r = await start([...flags(), "--state-dir", join(dir, `s-${Math.random().toString(36).slice(2)}`)]);
      assert.equal(r.ready, null, "must not start");
      assert.equal(r.code, 1);
      assert.match(r.stderr, why);
    });
  }

  it("a missing or non-PEM file is named with its flag, before any connection", async () => {
    const notPem = join(dir, "not-pem.txt");
    writeFileSync(notPem, "hello\n");
    let r = await start(["--store-cacert", join(dir, "absent.pem")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--store-cacert \S+absent\.pem: ENOENT/);
    r = await start(["--store-cacert", certs.ca, "--store-cert", notPem, "--store-key", certs.clientKey]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--store-cert \S+not-pem\.txt: not a PEM certificate/);
  });

  it("usage errors: TLS files with a plaintext etcd:// store, a certificate without its key", async () => {
    let r = await amime(["control-plane", "--store", "etcd://127.0.0.1:2379", "--store-cacert", certs.ca], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--store-cacert needs a TLS store: etcds:\/\/…/);
    r = await amime(["control-plane", "--store", "etcds://127.0.0.1:2379", "--store-cert", certs.clientCert], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--store-cert needs --store-key/);
  });

  it("in-process: ControlPlane.start takes the files as storeTls", async () => {
    const cp = await ControlPlane.start({ port: 0, watch: false, store: etcd.url("/tls"), storeTls: { cacert: certs.ca, cert: certs.clientCert, key: certs.clientKey }, leaderTiming: { leaseTtlMs: 5_000, renewDeadlineMs: 3_500, retryPeriodMs: 500 } });
    try {
      assert.ok(cp.resources({ kind: "Service", name: "reviews" }).items.length === 1, "sees what the other replica stored");
    } finally {
      await cp.close({ drain: false });
    }
  });
});
