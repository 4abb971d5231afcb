// The mesh CA end to end, checked with openssl: a real `amime control-plane` creates and keeps a
// self-signed root (key 0600) and signs a CSR made by openssl for the identity of the credential
// that sent it (SAN, validity, usages as Istio's), refuses a CSR for another identity; a plug-in
// intermediate in Istio's cacerts layout signs chains that verify to the outside root; and a real
// `amime proxy --xds` with a short SECRET_TTL gets a new certificate before the old one expires
// (its keys and CSRs made without loading the CA's X.509 library or any npm module).
// The bootstrap credential gets one certificate; renewals are authenticated by the current one
// (curl presents it as its client certificate); a revoked or foreign certificate renews nothing.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import type { CertificateResponse, SecretStatus } from "../../src/model/wire.ts";
import { amime } from "../cli/control-plane-cli.ts";
import { meshRootFile, trustMeshRoot, trustMeshRootFile } from "../support/mesh-root.ts";
import { BIN, meshProxy, NODE, register, SERVICES_YAML, spawnProxy, stopProxy, waitFor, type MeshProxy } from "./mesh-harness.ts";

const openssl = (args: string[], input?: string): string => execFileSync("openssl", args, { encoding: "utf8", ...(input !== undefined ? { input } : {}), stdio: ["pipe", "pipe", "pipe"] });

/** Start `amime control-plane ARGS`; resolves with its ready line, or rejects with its stderr on exit. */
function startControlPlane(args: string[]): Promise<{ child: ReturnType<typeof spawn>; ready: { url: string; tokenFile: string; rootCertFile: string }; stderr: () => string }> {
  const child = spawn(NODE, [BIN, "control-plane", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      const ready = JSON.parse(out.slice(0, nl)) as { url: string; tokenFile: string; rootCertFile: string };
      // Its API is https with a certificate from the mesh CA: this process trusts the root it wrote.
      trustMeshRootFile(ready.rootCertFile);
      resolve({ child, ready, stderr: () => err });
    });
    child.on("exit", (c) => reject(Object.assign(new Error(`control plane exited ${c}: ${err}`), { code: c, stderr: err })));
  });
}

/** curl POST with a client certificate and no credential (a renewal); status and JSON body. */
function renewWith(base: string, root: string, cert: string, key: string, body: unknown, path = "/ca/v1/certificates"): { status: number; json: Record<string, unknown> } {
  const r = spawnSync("curl", ["-sS", "--max-time", "10", "--cacert", root, "--cert", cert, "--key", key, "-w", "\n%{http_code}", ...(body !== undefined ? ["-X", "POST", "-H", "content-type: application/json", "--data-binary", JSON.stringify(body)] : []), `${base}${path}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`curl exited ${r.status}: ${r.stderr}`);
  const out = r.stdout;
  const nl = out.lastIndexOf("\n");
  const text = out.slice(0, nl);
  return { status: Number(out.slice(nl + 1)), json: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function post(url: string, token: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

describe("mesh CA", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "amime-ca-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** An EC key and a CSR made by openssl; `san` adds a subjectAltName. */
  const csr = (name: string, san?: string): { key: string; csr: string } => {
    const key = join(dir, `${name}.key`);
    const out = join(dir, `${name}.csr`);
    openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/", "-keyout", key, "-out", out, ...(san ? ["-addext", `subjectAltName=${san}`] : [])]);
    return { key, csr: readFileSync(out, "utf8") };
  };

  it("self-signed root kept in the state dir; a CSR signed for the caller's identity, verified by openssl", async () => {
    const state = join(dir, "state");
    let cp = await startControlPlane(["--state-dir", state]);
    try {
      const root = join(state, "ca", "root-cert.pem");
      assert.equal(statSync(join(state, "ca", "ca-key.pem")).mode & 0o777, 0o600);
      const rootText = openssl(["x509", "-in", root, "-noout", "-text"]);
      assert.match(rootText, /Subject: O\s*=\s*cluster\.local/);
      assert.match(rootText, /CA:TRUE/);
      assert.match(rootText, /Public-Key: \(2048 bit\)/);

      const admin = readFileSync(cp.ready.tokenFile, "utf8").trim();
      const cred = await post(`${cp.ready.url}/api/v1/credentials`, admin, { node: "sidecar~reviews-v1-0.default", namespace: "default", serviceAccount: "bookinfo-reviews" });
      const token = cred.json.token as string;
      const mine = csr("reviews");
      const r = await post(`${cp.ready.url}/ca/v1/certificates`, token, { csr: mine.csr });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const issued = r.json as unknown as CertificateResponse;
      assert.equal(issued.identity, "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
      const leaf = join(dir, "leaf.pem");
      writeFileSync(leaf, issued.certChain[0] as string);
      assert.equal(openssl(["verify", "-CAfile", root, leaf]).trim(), `${leaf}: OK`);
      const text = openssl(["x509", "-in", leaf, "-noout", "-text"]);
      assert.match(text, /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-reviews\s/);
      assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(text, /CA:FALSE/);
      assert.match(text, /Digital Signature, Key Encipherment/);
      const dates = openssl(["x509", "-in", leaf, "-noout", "-startdate", "-enddate"]);
      const [, start, end] = /notBefore=(.+)\nnotAfter=(.+)/.exec(dates) ?? [];
      assert.equal(Date.parse(end as string) - Date.parse(start as string), (24 * 3600 + 120) * 1000, "24 h, NotBefore 2 min back");
      assert.equal(openssl(["x509", "-in", leaf, "-noout", "-pubkey"]), openssl(["pkey", "-in", mine.key, "-pubout"]), "the CSR's key, which never left the requester");
      assert.equal(openssl(["x509", "-in", leaf, "-noout", "-serial"]).trim().toLowerCase(), `serial=${issued.serial}`);

      // The bootstrap credential is good for the first certificate only.
      const spent = await post(`${cp.ready.url}/ca/v1/certificates`, token, { csr: csr("second").csr });
      assert.equal(spent.status, 403);
      assert.equal(spent.json.code, "CA_BOOTSTRAP_SPENT");
      // The same request again (a proxy whose answer was lost): the same certificate, not a second one.
      const retried = await post(`${cp.ready.url}/ca/v1/certificates`, token, { csr: mine.csr });
      assert.equal(retried.status, 200, JSON.stringify(retried.json));
      assert.equal((retried.json as unknown as CertificateResponse).serial, issued.serial);
      assert.deepEqual((retried.json as unknown as CertificateResponse).certChain, issued.certChain);
      // Renewals are authenticated by the current certificate: curl presents it as its client certificate, no credential.
      const chain = join(dir, "chain.pem");
      writeFileSync(chain, issued.certChain.join(""));
      const renewal = csr("renewal");
      const renewed = renewWith(cp.ready.url, root, chain, mine.key, { csr: renewal.csr });
      assert.equal(renewed.status, 200, JSON.stringify(renewed.json));
      const next = renewed.json as unknown as CertificateResponse;
      assert.equal(next.identity, issued.identity);
      assert.notEqual(next.serial, issued.serial);
      writeFileSync(leaf, next.certChain[0] as string);
      assert.equal(openssl(["verify", "-CAfile", root, leaf]).trim(), `${leaf}: OK`);
      assert.equal(openssl(["x509", "-in", leaf, "-noout", "-pubkey"]), openssl(["pkey", "-in", renewal.key, "-pubout"]));
      const foreign = renewWith(cp.ready.url, root, chain, mine.key, { csr: csr("forged", "URI:spiffe://cluster.local/ns/istio-system/sa/istiod").csr });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.json.code, "CA_IDENTITY_MISMATCH");
      // A certificate proves nothing else: not the admin API, and one from another CA is no one.
      assert.equal(renewWith(cp.ready.url, root, chain, mine.key, undefined, "/api/v1/status").status, 401);
      openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/", "-days", "1", "-keyout", join(dir, "foreign-ca.key"), "-out", join(dir, "foreign-ca.pem"), "-addext", "subjectAltName=URI:spiffe://cluster.local/ns/default/sa/bookinfo-reviews"]);
      assert.equal(renewWith(cp.ready.url, root, join(dir, "foreign-ca.pem"), join(dir, "foreign-ca.key"), { csr: csr("outsider").csr }).status, 401);
      assert.equal((await post(`${cp.ready.url}/ca/v1/certificates`, admin, { csr: mine.csr })).status, 403, "the admin is not a workload");
      assert.equal((await fetch(`${cp.ready.url}/ca/v1/certificates`, { method: "POST", body: JSON.stringify({ csr: mine.csr }) })).status, 401);

      // A restart keeps the root and the spent credentials; the current certificate still renews.
      const rootBefore = readFileSync(root, "utf8");
      cp.child.kill("SIGTERM");
      await new Promise((r) => cp.child.once("exit", r));
      cp = await startControlPlane(["--state-dir", state]);
      assert.equal(readFileSync(root, "utf8"), rootBefore);
      assert.equal((await post(`${cp.ready.url}/ca/v1/certificates`, token, { csr: csr("third").csr })).json.code, "CA_BOOTSTRAP_SPENT", "still spent after a restart");
      // The lost answer's retry still gets its certificate (kept with the spent mark), not a second one.
      const afterRestart = await post(`${cp.ready.url}/ca/v1/certificates`, token, { csr: mine.csr });
      assert.equal(afterRestart.status, 200, JSON.stringify(afterRestart.json));
      assert.equal((afterRestart.json as unknown as CertificateResponse).serial, issued.serial);
      assert.deepEqual((afterRestart.json as unknown as CertificateResponse).certChain, issued.certChain);
      writeFileSync(chain, next.certChain.join(""));
      const again = renewWith(cp.ready.url, root, chain, renewal.key, { csr: mine.csr });
      assert.equal(again.status, 200, JSON.stringify(again.json));
      writeFileSync(leaf, (again.json as unknown as CertificateResponse).certChain[0] as string);
      assert.equal(openssl(["verify", "-CAfile", root, leaf]).trim(), `${leaf}: OK`);
      cp.child.kill("SIGTERM");
      await new Promise((r) => cp.child.once("exit", r));
      // A damaged ledger stops the start with the file and the field, not a crash.
      const ledger = join(state, "ca", "bootstrap-spent.json");
      const kept = JSON.parse(readFileSync(ledger, "utf8")) as Record<string, { certificate: { certChain: unknown } }>;
      for (const record of Object.values(kept)) record.certificate.certChain = "leaf";
      writeFileSync(ledger, JSON.stringify(kept));
      const damaged = await startControlPlane(["--state-dir", state]).then(() => null, (e: { code: number; stderr: string }) => e);
      assert.equal(damaged?.code, 1);
      assert.match(damaged?.stderr ?? "", /bootstrap-spent\.json: ".+"\.certificate\.certChain must be a non-empty list of PEM certificates/);
    } finally {
      cp.child.kill("SIGKILL");
    }
  });

  it("plug-in cacerts: an intermediate of an outside root signs; an incomplete bundle stops the start", async () => {
    const pki = join(dir, "pki");
    const cacerts = join(dir, "cacerts");
    mkdirSync(pki);
    mkdirSync(cacerts);
    const f = (n: string): string => join(pki, n);
    openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/O=Example Corp/CN=Example Root CA", "-days", "30", "-keyout", f("root.key"), "-out", f("root.pem"), "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/O=Example Corp/CN=Mesh Intermediate", "-keyout", f("int.key"), "-out", f("int.csr")]);
    writeFileSync(f("ext.cnf"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n");
    openssl(["x509", "-req", "-in", f("int.csr"), "-CA", f("root.pem"), "-CAkey", f("root.key"), "-CAcreateserial", "-days", "10", "-extfile", f("ext.cnf"), "-out", f("int.pem")]);
    writeFileSync(join(cacerts, "ca-cert.pem"), readFileSync(f("int.pem")));
    writeFileSync(join(cacerts, "ca-key.pem"), readFileSync(f("int.key")), { mode: 0o600 });
    writeFileSync(join(cacerts, "root-cert.pem"), readFileSync(f("root.pem")));

    const incomplete = await startControlPlane(["--state-dir", join(dir, "state-plug"), "--cacerts", cacerts]).then(() => null, (e: { code: number; stderr: string }) => e);
    assert.equal(incomplete?.code, 1);
    assert.match(incomplete?.stderr ?? "", /incomplete signing CA bundle .*missing cert-chain\.pem/);

    writeFileSync(join(cacerts, "cert-chain.pem"), readFileSync(f("int.pem"), "utf8") + readFileSync(f("root.pem"), "utf8"));
    const cp = await startControlPlane(["--state-dir", join(dir, "state-plug"), "--cacerts", cacerts]);
    try {
      const admin = readFileSync(cp.ready.tokenFile, "utf8").trim();
      const token = (await post(`${cp.ready.url}/api/v1/credentials`, admin, { node: "sidecar~ratings-v1-0.default", namespace: "default", serviceAccount: "bookinfo-ratings" })).json.token as string;
      const r = await post(`${cp.ready.url}/ca/v1/certificates`, token, { csr: csr("ratings").csr, ttlSeconds: 600 });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const issued = r.json as unknown as CertificateResponse;
      assert.equal(issued.certChain.length, 3, "leaf, intermediate, root");
      writeFileSync(f("leaf.pem"), issued.certChain[0] as string);
      writeFileSync(f("bundle.pem"), issued.trustBundle.join(""));
      assert.equal(openssl(["verify", "-CAfile", f("bundle.pem"), "-untrusted", join(cacerts, "ca-cert.pem"), f("leaf.pem")]).trim(), `${f("leaf.pem")}: OK`);
      assert.match(openssl(["x509", "-in", f("leaf.pem"), "-noout", "-issuer"]), /CN\s*=\s*Mesh Intermediate/);
    } finally {
      cp.child.kill("SIGKILL");
    }
  });

  it("a sidecar rotates its certificate at half its lifetime: a new serial before the old one expires", async () => {
    const config = join(dir, "rotation");
    mkdirSync(config);
    writeFileSync(join(config, "services.yaml"), SERVICES_YAML);
    const cp = await ControlPlane.start({ port: 0, configPaths: [config], watch: false, debounceMs: 5, mesh: { trustDomain: "example.org" } });
    trustMeshRoot(cp.trustBundle);
    let p: MeshProxy | null = null;
    try {
      p = await meshProxy("productpage", "v1");
      await register(cp, p);
      // Every module the sidecar loads, written at its exit (a load hook, preloaded as a runtime's flags would be).
      const loadedFile = join(config, "loaded.json");
      const preload = join(config, "record-modules.mjs");
      writeFileSync(preload, `import { registerHooks } from "node:module";\nconst urls = [];\nregisterHooks({ load(url, context, next) { urls.push(url); return next(url, context); } });\nprocess.on("exit", () => process.getBuiltinModule("node:fs").writeFileSync(${JSON.stringify(loadedFile)}, JSON.stringify(urls)));\n`);
      await spawnProxy(cp, p, { SECRET_TTL: "6s", NODE_OPTIONS: `--import=${preload}` });
      const node = p.nodeId;
      const seen: SecretStatus[] = [];
      await waitFor("two certificates", () => {
        const s = cp.secret(node);
        if (s && seen.at(-1)?.certChain[0]?.serial !== s.certChain[0]?.serial) seen.push(s);
        return seen.length >= 2;
      }, 20_000);
      const [first, second] = seen as [SecretStatus, SecretStatus];
      assert.equal(first.identity, "spiffe://example.org/ns/default/sa/productpage");
      assert.notEqual(second.certChain[0]?.serial, first.certChain[0]?.serial);
      assert.ok(Date.parse(second.issuedAt) < Date.parse(first.certChain[0]?.notAfter as string), `renewed at ${second.issuedAt}, before ${first.certChain[0]?.notAfter}`);
      // The sidecar has it: it logs each certificate it puts in place.
      const proxy = p;
      await waitFor("the sidecar's log of the new serial", () => proxy.stderr.includes(`workload certificate spiffe://example.org/ns/default/sa/productpage serial ${second.certChain[0]?.serial}`));

      const shown = await amime(["proxy-config", "secret", "productpage-v1-0", "--control-plane", cp.url], { env: { AMIME_TOKEN: cp.adminToken, AMIME_ROOT_CERT: meshRootFile(cp) } });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^RESOURCE NAME\s+TYPE\s+STATUS\s+VALID CERT\s+SERIAL NUMBER\s+NOT AFTER\s+NOT BEFORE\n/);
      assert.match(shown.stdout, /\ndefault\s+Cert Chain\s+ACTIVE\s+true\s+[0-9a-f]{32}\s/);
      assert.match(shown.stdout, /\nROOTCA\s+CA\s+ACTIVE\s+true\s/);
      assert.match(shown.stdout, /Identity: spiffe:\/\/example\.org\/ns\/default\/sa\/productpage/);

      // Two keys and CSRs made with node:crypto alone: the CA's X.509 library stays out of sidecars
      // (≈ 3 MB of RSS, docs/performance.md, "Session 9: the 1,000-service start").
      assert.equal(await stopProxy(p), 0);
      const loaded = JSON.parse(readFileSync(loadedFile, "utf8")) as string[];
      assert.ok(loaded.some((u) => u.endsWith("/src/proxy/identity/workload-certificate.ts")), "the list is the sidecar's");
      assert.deepEqual(loaded.filter((u) => /\/node_modules\/|\/src\/control-plane\/|\/src\/core\/x509\.ts$/.test(u)), []);
    } finally {
      if (p) await stopProxy(p);
      await cp.close();
    }
  });

  it("revocation: a revoked serial is pushed to proxies and its sidecar gets a new one; a revoked identity gets no certificate until un-revoked", async () => {
    const config = join(dir, "revocation");
    mkdirSync(config);
    writeFileSync(join(config, "services.yaml"), SERVICES_YAML);
    const state = join(dir, "state-revocation");
    const cp = await ControlPlane.start({ port: 0, configPaths: [config], watch: false, debounceMs: 5, stateDir: state });
    trustMeshRoot(cp.trustBundle);
    const cli = (args: string[]) => amime(["ca", ...args, "--control-plane", cp.url], { env: { AMIME_TOKEN: cp.adminToken, AMIME_ROOT_CERT: meshRootFile(cp) } });
    let p: MeshProxy | null = null;
    try {
      p = await meshProxy("productpage", "v1");
      await register(cp, p);
      await spawnProxy(cp, p);
      const node = p.nodeId;
      const first = await waitFor("the first certificate", () => cp.secret(node));
      const serial = first.certChain[0]?.serial as string;

      const revoked = await cli(["revoke", "--serial", serial.toUpperCase()]);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal(revoked.stdout, `serial ${serial.toUpperCase()} revoked\n`);
      await waitFor("the deny list pushed and ACKed", () => cp.proxyConfig(node)?.revocations?.serials.includes(serial) && cp.proxies().find((s) => s.node === node)?.state === "SYNCED");
      const renewed = await waitFor("a new certificate", () => {
        const s = cp.secret(node);
        return s && s.certChain[0]?.serial !== serial ? s : null;
      });
      assert.equal(renewed.identity, "spiffe://cluster.local/ns/default/sa/productpage");
      assert.match(p.stderr, new RegExp(`workload certificate serial ${serial} was revoked; requesting a new one`));
      // The new one came with the bootstrap credential (a revoked certificate cannot renew itself);
      // the sidecar renews with the new certificate after that (SECRET_TTL is 24 h here: not within the test).

      const identity = "spiffe://cluster.local/ns/default/sa/productpage";
      assert.equal((await cli(["revoke", "--identity", identity])).code, 0);
      const token = cp.mintProxyToken({ node: "sidecar~productpage-v1-1.default", namespace: "default", serviceAccount: "productpage" });
      const request = { csr: csr("revoked").csr };
      const refused = await post(`${cp.url}/ca/v1/certificates`, token, request);
      assert.equal(refused.status, 403);
      assert.equal(refused.json.code, "CA_REVOKED");
      assert.deepEqual(cp.proxyConfig(node)?.revocations?.identities, [identity]);

      const list = await cli(["list"]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, new RegExp(`^REVOKED\\s+BY\\s+AT\\nserial ${serial}\\s+admin:\\S+\\s+\\d{4}-.*\\nidentity spiffe://cluster\\.local/ns/default/sa/productpage\\s+admin:`));
      assert.equal(JSON.parse(readFileSync(join(state, "ca", "revoked.json"), "utf8")).length, 2, "kept in the state dir");
      assert.equal((await cli(["revoke", "--identity", "productpage"])).code, 1, "not a SPIFFE ID");
      assert.equal((await cli(["revoke"])).code, 2);

      assert.equal((await cli(["unrevoke", "--identity", identity])).stdout, `identity ${identity} un-revoked\n`);
      assert.equal((await post(`${cp.url}/ca/v1/certificates`, token, request)).status, 200);
    } finally {
      if (p) await stopProxy(p);
      await cp.close();
    }
  });
});
