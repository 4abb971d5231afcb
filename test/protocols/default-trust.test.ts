// The default trust of a sidecar as its launchers start it (SIDECAR_NODE_FLAGS: --use-openssl-ca;
// sidecarEnv: OpenSSL's default store at /dev/null, NODE_EXTRA_CA_CERTS moved to our own variable):
// `amime proxy --config` as a real process, originating TLS (DestinationRule SIMPLE without
// caCertificates) to node:https servers whose certificates two openssl-made CAs signed. As in Istio
// (`file-root:system`), the system CA bundle verifies them — here a temp bundle named by
// AMIME_CA_BUNDLE holding CA A — plus the user's NODE_EXTRA_CA_CERTS; a server of another CA is a
// connect failure (503, `connection failure`); no bundle is a connect failure and a warning in the
// log, never a trust of nothing or of everything. A cluster with caCertificates does not need it.
// Remote JWKS and HTTPS exporters take the same default trust (called in this process).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import { SIDECAR_NODE_FLAGS, sidecarEnv } from "../../src/core/sidecar-node-flags.ts";
import { httpJwksFetch } from "../../src/proxy/http/filters/jwt-authn/jwks.ts";
import { postBody } from "../../src/proxy/telemetry/export/http-post.ts";
import { resetDefaultTrust } from "../../src/proxy/tls/default-trust.ts";
import { closeServer, listen, originationConfig, run } from "./harness.ts";
import { makePki, type Pki } from "./pki.ts";

const HOST = "api.example.test";
const root = join(import.meta.dirname, "..", "..");
const node = join(root, "node_modules", ".bin", "node");
const bin = join(root, "bin", "amime.js");

interface Proxy {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

function startProxy(configFile: string, env: Record<string, string | undefined>): Promise<Proxy> {
  const child = spawn(node, [...SIDECAR_NODE_FLAGS, bin, "proxy", "--config", configFile, "--admin-port", "0"], { env: sidecarEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve({ child, port: (JSON.parse(out.slice(0, nl)) as { listeners: Record<string, number> }).listeners.outbound as number, stderr: () => err });
    });
    child.on("exit", (code) => reject(new Error(`amime proxy exited ${code}: ${err}`)));
  });
}

function stop(p: Proxy | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (p === undefined || p.child.exitCode !== null) return resolve();
    p.child.once("exit", () => resolve());
    p.child.kill("SIGTERM");
  });
}

/** The environment a user starts `amime up` from, minus this machine's trust settings (the test says which it adds). */
function baseEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of ["NODE_EXTRA_CA_CERTS", "AMIME_CA_BUNDLE", "AMIME_EXTRA_CA_CERTS", "NODE_OPTIONS"]) delete env[k];
  return { ...env, ...extra };
}

describe("default trust of a launched sidecar: the system CA bundle and NODE_EXTRA_CA_CERTS, read when a config needs them", () => {
  let pkiA: Pki;
  let pkiB: Pki;
  let serverA: Server;
  let serverB: Server;
  let configFile = "";
  let bundle = "";
  let portA = 0;
  let portB = 0;
  const proxies: Proxy[] = [];

  before(async () => {
    pkiA = await makePki({ api: [HOST, "localhost"], client: [] });
    pkiB = await makePki({ api: [HOST, "localhost"] });
    const answer = (req: IncomingMessage, res: ServerResponse): void => void res.end(req.url === "/jwks" ? JSON.stringify({ keys: [] }) : `ok ${req.url}`);
    const a = pkiA.leaf("api");
    const b = pkiB.leaf("api");
    serverA = createServer({ cert: readFileSync(a.cert), key: readFileSync(a.key) }, answer);
    serverB = createServer({ cert: readFileSync(b.cert), key: readFileSync(b.key) }, answer);
    portA = await listen(serverA);
    portB = await listen(serverB);
    bundle = join(pkiA.dir, "system-bundle.pem");
    writeFileSync(bundle, readFileSync(pkiA.ca));
    const clusters: [string, number, Record<string, unknown>][] = [
      ["ca-a", portA, { mode: "SIMPLE", sni: HOST, subjectAltNames: [], insecureSkipVerify: false }],
      ["ca-b", portB, { mode: "SIMPLE", sni: HOST, subjectAltNames: [], insecureSkipVerify: false }],
      ["ca-b-configured", portB, { mode: "SIMPLE", sni: HOST, caCertificates: pkiB.ca, subjectAltNames: [], insecureSkipVerify: false }],
    ];
    configFile = join(pkiA.dir, "config.json");
    writeFileSync(configFile, JSON.stringify(originationConfig(clusters)));
  });

  after(async () => {
    for (const p of proxies) await stop(p);
    await closeServer(serverA);
    await closeServer(serverB);
    pkiA.cleanup();
    pkiB.cleanup();
  });

  const started = async (env: Record<string, string>): Promise<Proxy> => {
    const p = await startProxy(configFile, baseEnv(env));
    proxies.push(p);
    return p;
  };
  const get = async (p: Proxy, host: string): Promise<string> => (await run("curl", ["--silent", "--include", "--max-time", "5", "-H", `Host: ${host}`, `http://127.0.0.1:${p.port}/hello`])).stdout;

  it("SIMPLE without caCertificates verifies against the system bundle: its CA's server is reached, another CA's refused", async () => {
    const p = await started({ AMIME_CA_BUNDLE: bundle });
    const ok = await get(p, "ca-a");
    assert.match(ok, /^HTTP\/1\.1 200 /);
    assert.ok(ok.endsWith("ok /hello"), ok);
    const refused = await get(p, "ca-b");
    assert.match(refused, /^HTTP\/1\.1 503 /);
    assert.match(refused, /connection failure/);
    // A cluster that names its CA is verified against it alone.
    assert.match(await get(p, "ca-b-configured"), /^HTTP\/1\.1 200 /);
  });

  it("the user's NODE_EXTRA_CA_CERTS is trusted by default as well (passed on under AMIME_EXTRA_CA_CERTS)", async () => {
    const p = await started({ AMIME_CA_BUNDLE: bundle, NODE_EXTRA_CA_CERTS: pkiB.ca });
    assert.match(await get(p, "ca-a"), /^HTTP\/1\.1 200 /);
    assert.match(await get(p, "ca-b"), /^HTTP\/1\.1 200 /);
  });

  it("remote JWKS and HTTPS exporters (in this process) verify against the default trust too; an exporter adds the mesh roots", async () => {
    process.env.AMIME_CA_BUNDLE = bundle;
    resetDefaultTrust();
    try {
      assert.deepEqual(await httpJwksFetch(`https://localhost:${portA}/jwks`, 5000), { keys: [] });
      await assert.rejects(httpJwksFetch(`https://localhost:${portB}/jwks`, 5000), /certificate/);
      const post = (port: number, meshRoots?: string): Promise<string> => postBody({ endpoint: `https://localhost:${port}/v1/traces`, headers: {}, timeoutMs: 5000, meshRoots: () => meshRoots }, "{}", "application/json");
      assert.equal(await post(portA), "ok");
      assert.equal(await post(portB), "retry");
      assert.equal(await post(portB, readFileSync(pkiB.ca, "utf8")), "ok");
      // A collector DestinationRule with a client certificate and no caCertificates: the default trust as well.
      const c = pkiA.leaf("client");
      const tls = { cert: readFileSync(c.cert), key: readFileSync(c.key) };
      const postCert = (port: number): Promise<string> => postBody({ endpoint: `https://localhost:${port}/v1/traces`, headers: {}, timeoutMs: 5000 }, "{}", "application/json", tls);
      assert.equal(await postCert(portA), "ok");
      assert.equal(await postCert(portB), "retry");
    } finally {
      delete process.env.AMIME_CA_BUNDLE;
      resetDefaultTrust();
    }
  });

  it("no bundle: a connect failure and a warning that says why, not an empty or open trust; configured CAs still work", async () => {
    const missing = join(pkiA.dir, "no-such-bundle.pem");
    const p = await started({ AMIME_CA_BUNDLE: missing });
    const refused = await get(p, "ca-a");
    assert.match(refused, /^HTTP\/1\.1 503 /);
    assert.match(refused, /connection failure/);
    assert.match(p.stderr(), new RegExp(`warning: default trust: cannot read AMIME_CA_BUNDLE ${missing.replace(/[.]/g, "\\.")}: ENOENT`));
    assert.match(await get(p, "ca-b-configured"), /^HTTP\/1\.1 200 /);
  });
});
