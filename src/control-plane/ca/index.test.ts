import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { x509 } from "../../core/x509.ts";
import type { ProxyPrincipal } from "../auth/token.ts";
import { BootstrapLedger } from "./bootstrap-ledger.ts";
import { IdentityIssuer } from "./index.ts";
import { SigningCA, type CaError } from "./signing-ca.ts";

const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const T0 = Date.UTC(2026, 0, 1);
const proxy: ProxyPrincipal = { kind: "proxy", node: "sidecar~reviews-v1-0.default", namespace: "default", serviceAccount: "bookinfo-reviews", jti: "credential-1" };

async function csr(): Promise<string> {
  const keys = (await crypto.subtle.generateKey(EC, false, ["sign", "verify"])) as CryptoKeyPair;
  return (await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: EC })).toString("pem");
}

/** A CA on `dir` at the time `clock.now` (a new instance is a control-plane restart). */
function issuer(dir: string, clock: { now: number }): IdentityIssuer {
  return new IdentityIssuer({ trustDomain: "cluster.local", caDir: dir, now: () => clock.now });
}

const spent = (e: CaError): boolean => e.code === "CA_BOOTSTRAP_SPENT";

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "amime-issuer-"));
  try {
    await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("a lost answer's retry (the same CSR) gets the same certificate from a restarted CA; another CSR with the credential is refused", () =>
  withDir(async (dir) => {
    const clock = { now: T0 };
    const request = await csr();
    const first = await issuer(dir, clock).issue(proxy, { csr: request, ttlSeconds: 3600 });
    const file = join(dir, "bootstrap-spent.json");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const restarted = issuer(dir, clock);
    const again = await restarted.issue(proxy, { csr: request, ttlSeconds: 3600 });
    assert.equal(again.serial, first.serial);
    assert.deepEqual(again.certChain, first.certChain);
    assert.deepEqual(again.trustBundle, first.trustBundle);
    assert.equal(restarted.secret(proxy.node)?.issued, 1);
    // The same CSR rewrapped (other line breaks) is the same request: the DER is compared.
    const rewrapped = request.replace(/\n/g, "\r\n");
    assert.equal((await restarted.issue(proxy, { csr: rewrapped })).serial, first.serial);
    await assert.rejects(restarted.issue(proxy, { csr: await csr() }), spent);
    // What is kept is public: the CSR's SHA-256 and the certificate.
    const kept = JSON.parse(await readFile(file, "utf8")) as Record<string, { csrSha256: string; certificate: { certChain: string[] } }>;
    assert.match(kept["credential-1"]?.csrSha256 ?? "", /^[0-9a-f]{64}$/);
    assert.deepEqual(kept["credential-1"]?.certificate.certChain, first.certChain);
    assert.doesNotMatch(JSON.stringify(kept), /PRIVATE KEY/);
  }));

test("requests with one credential arriving together (a retry while the first is still signed): one certificate", () =>
  withDir(async (dir) => {
    const clock = { now: T0 };
    const ca = issuer(dir, clock);
    const request = await csr();
    const same = await Promise.all([ca.issue(proxy, { csr: request }), ca.issue(proxy, { csr: request })]);
    assert.equal(same[1].serial, same[0].serial);
    const other = { ...proxy, jti: "credential-2" };
    const results = await Promise.allSettled([ca.issue(other, { csr: await csr() }), ca.issue(other, { csr: await csr() })]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected"]);
    assert.equal(((results[1] as PromiseRejectedResult).reason as CaError).code, "CA_BOOTSTRAP_SPENT");
  }));

test("a stored certificate that expired is not answered again, and the next record drops it (the credential stays spent)", () =>
  withDir(async (dir) => {
    const clock = { now: T0 };
    const request = await csr();
    await issuer(dir, clock).issue(proxy, { csr: request, ttlSeconds: 3600 });
    clock.now = T0 + 3600_000;
    const later = issuer(dir, clock);
    await assert.rejects(later.issue(proxy, { csr: request }), spent);
    await later.issue({ ...proxy, jti: "credential-2" }, { csr: await csr(), ttlSeconds: 3600 });
    const kept = JSON.parse(await readFile(join(dir, "bootstrap-spent.json"), "utf8")) as Record<string, unknown>;
    assert.equal(typeof kept["credential-1"], "string", "only the serial is left");
    assert.equal(typeof kept["credential-2"], "object");
  }));

test("after its serial is revoked the credential gets one new certificate, whose request is the one answered again", () =>
  withDir(async (dir) => {
    const clock = { now: T0 };
    const request = await csr();
    const ca = issuer(dir, clock);
    const first = await ca.issue(proxy, { csr: request });
    await (await ca.revocations()).add({ serial: first.serial }, "test", new Date(T0));
    const replacement = await csr();
    const second = await ca.issue(proxy, { csr: replacement });
    assert.notEqual(second.serial, first.serial);
    const restarted = issuer(dir, clock);
    await assert.rejects(restarted.issue(proxy, { csr: request }), spent, "the revoked certificate's request is not answered again");
    assert.equal((await restarted.issue(proxy, { csr: replacement })).serial, second.serial);
    // The replacement revoked too: its request is not answered with it either, but is the rule's one new certificate.
    await (await restarted.revocations()).add({ serial: second.serial }, "test", new Date(T0));
    const third = await restarted.issue(proxy, { csr: replacement });
    assert.notEqual(third.serial, second.serial);
    // A revoked identity gets nothing, not even the same certificate again.
    await (await restarted.revocations()).add({ identity: third.identity }, "test", new Date(T0));
    await assert.rejects(issuer(dir, clock).issue(proxy, { csr: replacement }), (e: CaError) => e.code === "CA_REVOKED");
  }));

test("the same certificate again only while its root is trusted (a root rotation keeps the old root until proxies moved)", () =>
  withDir(async (dir) => {
    const clock = { now: T0 };
    const request = await csr();
    const ca = issuer(dir, clock);
    const first = await ca.issue(proxy, { csr: request });
    const next = await SigningCA.selfSigned(null, "cluster.local", () => clock.now);
    ca.replace(next.withRoots([...first.trustBundle, ...next.roots]));
    const during = await ca.issue(proxy, { csr: request });
    assert.equal(during.serial, first.serial);
    assert.deepEqual(during.trustBundle, [...first.trustBundle, ...next.roots], "with today's trust bundle");
    ca.replace(next);
    await assert.rejects(ca.issue(proxy, { csr: request }), spent, "the old root is gone");
  }));

test("a plug-in CA whose cert-chain.pem stops below the root answers the same request again too", () =>
  withDir(async (dir) => {
    const f = (n: string): string => join(dir, n);
    const openssl = (args: string[]): void => void execFileSync("openssl", args, { stdio: "ignore" });
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/O=Example Corp/CN=Root", "-days", "30", "-keyout", f("root.key"), "-out", f("root-cert.pem"), "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/O=Example Corp/CN=Mesh", "-keyout", f("ca-key.pem"), "-out", f("int.csr")]);
    await writeFile(f("ext.cnf"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n");
    openssl(["x509", "-req", "-in", f("int.csr"), "-CA", f("root-cert.pem"), "-CAkey", f("root.key"), "-CAcreateserial", "-days", "10", "-extfile", f("ext.cnf"), "-out", f("ca-cert.pem")]);
    await writeFile(f("cert-chain.pem"), await readFile(f("ca-cert.pem")));
    const plugIn = (): IdentityIssuer => new IdentityIssuer({ trustDomain: "cluster.local", cacertsDir: dir, caDir: join(dir, "state"), now: Date.now });
    const request = await csr();
    const first = await plugIn().issue(proxy, { csr: request });
    assert.equal(first.certChain.length, 2, "leaf and intermediate, no root");
    assert.equal((await plugIn().issue(proxy, { csr: request })).serial, first.serial);
  }));

test("a damaged bootstrap-spent.json is a clear error naming the file and the field, not a crash", () =>
  withDir(async (dir) => {
    const file = join(dir, "bootstrap-spent.json");
    await writeFile(file, "{not json");
    await assert.rejects(BootstrapLedger.load(file), (e: Error) => e.message.startsWith(`${file} is not valid JSON`));
    await writeFile(file, JSON.stringify({ old: "0a", bad: { serial: "0b", csrSha256: "ab", certificate: {} } }));
    await assert.rejects(BootstrapLedger.load(file), (e: Error) => e.message.startsWith(`${file}: "bad".csrSha256 must be 64 lower-case hex digits`));
    await writeFile(file, JSON.stringify({ bad: { serial: "0b", csrSha256: "a".repeat(64), certificate: { identity: "i", serial: "0b", notBefore: "x", notAfter: "2026-01-01T00:00:00Z", certChain: [] } } }));
    await assert.rejects(BootstrapLedger.load(file), (e: Error) => e.message.includes(`"bad".certificate.certChain must be a non-empty list of PEM certificates`));
    await writeFile(file, JSON.stringify({ old: "0a" }));
    assert.equal((await BootstrapLedger.load(file)).spent("old")?.serial, "0a", "the first format (a bare serial) still reads");
  }));
