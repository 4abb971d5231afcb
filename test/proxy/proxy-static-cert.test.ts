// `amime proxy --config FILE --cert --key --root-cert` as real processes: two proxies with
// workload certificates made by the openssl CLI (SPIFFE URI SANs, one root) talk ISTIO_MUTUAL;
// the server's metrics name the client certificate's SPIFFE id (so the hop really was mutual
// TLS), the client's the server's; `openssl s_client` without a client certificate is refused by
// the STRICT inbound port; bad flag combinations and a key that is not the certificate's fail
// with a clear message.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SIDECAR_NODE_FLAGS, sidecarEnv } from "../../src/core/sidecar-node-flags.ts";
import { makePki, type Pki } from "../protocols/pki.ts";
import { run } from "../protocols/harness.ts";
import { waitFor } from "../support/wait.ts";
import { send, startUpstream, type Upstream } from "./sidecar-harness.ts";
import { clientConfig, serverConfig } from "../telemetry/two-hop.ts";

const root = join(import.meta.dirname, "..", "..");
const node = join(root, "node_modules", ".bin", "node");
const bin = join(root, "bin", "amime.js");
const CLIENT_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-productpage";
const SERVER_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-reviews";

interface Ready {
  listeners: Record<string, number>;
  admin: number;
}

function start(args: string[]): Promise<{ child: ChildProcess; ready: Ready }> {
  // As the runtimes start sidecars (OpenSSL's default store empty: mesh contexts name their own roots).
  const child = spawn(node, [...SIDECAR_NODE_FLAGS, bin, "proxy", ...args], { stdio: ["ignore", "pipe", "pipe"], env: sidecarEnv(process.env) });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve({ child, ready: JSON.parse(out.slice(0, nl)) as Ready });
    });
    child.on("exit", (code) => reject(new Error(`amime proxy exited ${code}: ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

describe("amime proxy --cert/--key/--root-cert (static workload certificate)", () => {
  let pki: Pki;
  let app: Upstream;
  let server: { child: ChildProcess; ready: Ready };
  let client: { child: ChildProcess; ready: Ready };
  let clientFile = "";

  before(async () => {
    pki = await makePki({ server: [SERVER_ID], client: [CLIENT_ID] });
    app = await startUpstream("reviews", (_req, res) => res.end("ok"));
    const sc = serverConfig(app.port, { metricsPort: 0 });
    (sc.listeners as Record<string, unknown>[])[0]!.mtls = "STRICT";
    const serverFile = join(pki.dir, "server.json");
    writeFileSync(serverFile, JSON.stringify(sc));
    const s = pki.leaf("server");
    server = await start(["--config", serverFile, "--admin-port", "0", "--cert", s.cert, "--key", s.key, "--root-cert", pki.ca]);
    const cc = clientConfig(server.ready.listeners["inbound|9080"] as number, { metricsPort: 0 });
    (cc.clusters as Record<string, unknown>[])[0]!.tls = { mode: "ISTIO_MUTUAL", subjectAltNames: [SERVER_ID], insecureSkipVerify: false };
    clientFile = join(pki.dir, "client.json");
    writeFileSync(clientFile, JSON.stringify(cc));
    const c = pki.leaf("client");
    client = await start(["--config", clientFile, "--admin-port", "0", "--cert", c.cert, "--key", c.key, "--root-cert", pki.ca]);
  });

  after(async () => {
    await stop(client.child);
    await stop(server.child);
    await app.close();
    pki.cleanup();
  });

  it("two proxies talk mutual TLS with the certificates from the files", async () => {
    const r = await send(client.ready.listeners.outbound as number, { host: "reviews:9080" });
    assert.equal(r.status, 200);
    assert.equal(r.body, "ok");
    const line = (text: string, reporter: string): string | undefined => text.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes(`reporter="${reporter}"`));
    const dst = await waitFor(async () => line(await (await fetch(`http://127.0.0.1:${server.ready.admin}/stats/prometheus`)).text(), "destination") ?? null, { what: "the server proxy to count the request" });
    assert.match(dst, new RegExp(`source_principal="${CLIENT_ID}"`));
    assert.match(dst, /connection_security_policy="mutual_tls"/);
    const src = await waitFor(async () => line(await (await fetch(`http://127.0.0.1:${client.ready.admin}/stats/prometheus`)).text(), "source") ?? null, { what: "the client proxy to count the request" });
    assert.match(src, new RegExp(`destination_principal="${SERVER_ID}"`));
  });

  it("the STRICT inbound port presents the server certificate and refuses a client without one", async () => {
    const port = server.ready.listeners["inbound|9080"] as number;
    const r = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", pki.ca, "-verify_return_error", "-ign_eof"], "GET / HTTP/1.1\r\nhost: reviews\r\n\r\n", 10_000);
    // The chain verifies against the root (s_client's own check), and the proxy ends the
    // connection for want of a client certificate: no HTTP response.
    assert.match(r.stdout + r.stderr, /Verify return code: 0 \(ok\)|verify return:1/);
    assert.doesNotMatch(r.stdout, /HTTP\/1\.1 200/);
  });

  it("refuses incomplete flags (exit 2) and a key that is not the certificate's (exit 1)", async () => {
    const c = pki.leaf("client");
    const s = pki.leaf("server");
    const usage = await run(node, [bin, "proxy", "--config", clientFile, "--cert", c.cert, "--key", c.key], "", 20_000);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--cert, --key and --root-cert/);
    const wrong = await run(node, [bin, "proxy", "--config", clientFile, "--admin-port", "-1", "--cert", c.cert, "--key", s.key, "--root-cert", pki.ca], "", 20_000);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /not the private key of --cert/);
    const noUri = await makePki({ plain: ["reviews.example"] });
    try {
      const p = noUri.leaf("plain");
      const r = await run(node, [bin, "proxy", "--config", clientFile, "--admin-port", "-1", "--cert", p.cert, "--key", p.key, "--root-cert", noUri.ca], "", 20_000);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no URI SAN/);
    } finally {
      noUri.cleanup();
    }
  });
});
