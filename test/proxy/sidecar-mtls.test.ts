// Mutual TLS between two real sidecars in one process, with certificates from a real mesh CA
// (SigningCA, in memory) for keys made as the sidecar makes them: ISTIO_MUTUAL origination with
// Istio's SNI and SAN check, PERMISSIVE termination on the inbound listener (TLS and plaintext on
// one port), revoked serials refused at the handshake (by the server, and by the client for a
// revoked server), and openssl s_client / verify against the listener.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { connect, createServer as createNetServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SigningCA } from "../../src/control-plane/ca/signing-ca.ts";
import { MeshCredentials } from "../../src/proxy/identity/mesh-credentials.ts";
import type { ActiveCertificate } from "../../src/proxy/identity/workload-certificate.ts";
import { credentials, issue } from "../support/mesh-certs.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { waitFor } from "../support/wait.ts";
import { forward, proxyConfig, route, send, startUpstream, type Upstream } from "./sidecar-harness.ts";

type Obj = Record<string, unknown>;

/** A server sidecar: an inbound listener in front of `app`. */
function serverConfig(app: number, revocations?: { serials: string[]; identities: string[] }): Obj {
  const c = proxyConfig({ virtualHosts: [{ domains: ["*"], routes: [route("app", { prefix: "/" }, forward("inbound|9080||"))] }], clusters: [{ name: "inbound|9080||", endpoints: [{ port: app }] }] });
  c.listeners = [{ name: "inbound", direction: "inbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "outbound" }];
  if (revocations) c.revocations = revocations;
  return c;
}

/** A client sidecar whose cluster reaches `server` with `tls`. */
function clientConfig(server: number, tls: Obj): Obj {
  const c = proxyConfig({ virtualHosts: [{ domains: ["*"], routes: [route("r", { prefix: "/" }, forward("outbound|9080||reviews.default.svc.cluster.local"))] }], clusters: [{ name: "outbound|9080||reviews.default.svc.cluster.local", endpoints: [{ port: server }] }] });
  (c.clusters as Obj[])[0]!.tls = tls;
  return c;
}

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }));
    // openssl may exit before it reads its input (a refused handshake): its output tells the story.
    p.stdin?.on("error", () => {});
    p.stdin?.end(input ?? "");
  });
}

/** Write `text`, half-close, read everything back. */
function echoThrough(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    let got = "";
    s.setEncoding("utf8");
    s.on("data", (d: string) => (got += d));
    s.on("error", reject);
    s.on("end", () => resolve(got));
    s.end(text);
  });
}

function handshakes(s: Sidecar): number {
  return s.listenerStats().find((l) => l.name === "inbound")?.sslHandshakes ?? -1;
}

const REVIEWS = "spiffe://cluster.local/ns/default/sa/bookinfo-reviews";
const SNI = "outbound_.9080_._.reviews.default.svc.cluster.local";

describe("mutual TLS between sidecars", () => {
  let ca: SigningCA;
  let app: Upstream;
  let serverCert: ActiveCertificate;
  let clientCert: ActiveCertificate;
  let server: Sidecar;
  let dir: string;

  before(async () => {
    ca = await SigningCA.selfSigned(null, "cluster.local");
    app = await startUpstream("reviews", (req, res) => res.end(`hello ${req.headers["x-forwarded-proto"] ?? ""}`));
    serverCert = await issue(ca, "default", "bookinfo-reviews");
    clientCert = await issue(ca, "default", "bookinfo-productpage");
    server = await Sidecar.start(serverConfig(app.port), { mesh: credentials(serverCert) });
    dir = await mkdtemp(join(tmpdir(), "amime-mtls-"));
    await writeFile(join(dir, "root.pem"), serverCert.trustBundle.join("\n"));
    await writeFile(join(dir, "client.pem"), clientCert.certChain.join("\n"));
    await writeFile(join(dir, "client-key.pem"), clientCert.keyPem);
  });
  after(async () => {
    await server.close(0);
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const inbound = (): number => server.ports().inbound as number;

  it("ISTIO_MUTUAL: the client sidecar's request reaches the app over mutual TLS, one handshake for pooled requests", async () => {
    const client = await Sidecar.start(clientConfig(inbound(), { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false }), { mesh: credentials(clientCert) });
    try {
      const before = handshakes(server);
      for (let i = 0; i < 3; i++) {
        const r = await send(client.ports().outbound as number, { host: "reviews:9080" });
        assert.equal(r.status, 200, r.body);
        assert.match(r.body, /^hello/);
      }
      assert.equal(handshakes(server) - before, 1, "three requests on one pooled mTLS connection");
    } finally {
      await client.close(0);
    }
  });

  it("a new upstream connection resumes the TLS session of the last one (a new connection per request: three handshakes, two resumed); a server certificate revoked since is not resumed into", async () => {
    const config = clientConfig(inbound(), { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false });
    (config.clusters as Obj[])[0]!.connectionPool = { maxRequestsPerConnection: 1 };
    const client = await Sidecar.start(config, { mesh: credentials(clientCert) });
    const stats = () => server.listenerStats().find((l) => l.name === "inbound")!;
    try {
      const before = stats();
      for (let i = 0; i < 3; i++) {
        const r = await send(client.ports().outbound as number, { host: "reviews:9080" });
        assert.equal(r.status, 200, r.body);
        // The server keeps a connection until the client closes it: wait, so the next request dials anew.
        await waitFor(() => stats().activeConnections === 0, { what: "the one-request connection closed" });
      }
      assert.equal(stats().sslHandshakes! - before.sslHandshakes!, 3);
      assert.equal(stats().sslSessionReused! - before.sslSessionReused!, 2, "the second and third connections resumed");
      // Revoked after the session was kept: a resumed handshake would skip the client's checks, so the cache is emptied.
      const seen = app.requests.length;
      await client.applyConfig({ ...config, version: "server-revoked", listeners: [{ ...(config.listeners as Obj[])[0], port: client.ports().outbound }], revocations: { serials: [serverCert.serial], identities: [] } });
      assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080" })).status, 503);
      assert.equal(app.requests.length, seen, "nothing reached the app");
    } finally {
      await client.close(0);
    }
  });

  it("a server whose SAN is not one of the service's identities is refused (503)", async () => {
    const client = await Sidecar.start(clientConfig(inbound(), { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: ["spiffe://cluster.local/ns/default/sa/someone-else"], insecureSkipVerify: false }), { mesh: credentials(clientCert) });
    try {
      const r = await send(client.ports().outbound as number, { host: "reviews:9080" });
      assert.equal(r.status, 503);
    } finally {
      await client.close(0);
    }
  });

  it("client side: a server certificate on the deny list fails the handshake (503), and a pooled connection to it is closed when the list arrives", async () => {
    const config = clientConfig(inbound(), { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false });
    const client = await Sidecar.start(config, { mesh: credentials(clientCert) });
    try {
      assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080" })).status, 200);
      const pooled = (): number => server.listenerStats().find((l) => l.name === "inbound")?.activeConnections ?? -1;
      assert.equal(pooled(), 1, "one pooled mTLS connection to the server");
      // The server's serial (colons, upper case, as `amime ca revoke` accepts it) is pushed to the client only.
      const serial = serverCert.serial.toUpperCase().replace(/(..)(?=.)/g, "$1:");
      const applied = await client.applyConfig({ ...config, version: "server-revoked", listeners: [{ ...(config.listeners as Obj[])[0], port: client.ports().outbound }], revocations: { serials: [serial], identities: [] } });
      assert.ok(applied.ok, JSON.stringify(applied));
      await waitFor(() => pooled() === 0, { what: "the pooled connection to the revoked server closed" });
      const seen = app.requests.length;
      const refused = await send(client.ports().outbound as number, { host: "reviews:9080" });
      assert.equal(refused.status, 503);
      assert.equal(app.requests.length, seen, "nothing reached the app");
      // By identity too; and un-revoked, it is served again.
      await client.applyConfig({ ...config, version: "identity-revoked", listeners: [{ ...(config.listeners as Obj[])[0], port: client.ports().outbound }], revocations: { serials: [], identities: [REVIEWS] } });
      assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080" })).status, 503);
      await client.applyConfig({ ...config, version: "none-revoked", listeners: [{ ...(config.listeners as Obj[])[0], port: client.ports().outbound }] });
      assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080" })).status, 200);
    } finally {
      await client.close(0);
    }
  });

  it("ISTIO_MUTUAL without a workload certificate fails (503) rather than going out in plain text", async () => {
    const client = await Sidecar.start(clientConfig(inbound(), { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false }), { mesh: new MeshCredentials() });
    const seen = app.requests.length;
    try {
      const r = await send(client.ports().outbound as number, { host: "reviews:9080" });
      assert.equal(r.status, 503);
      assert.equal(app.requests.length, seen);
    } finally {
      await client.close(0);
    }
  });

  it("a sidecar given mesh credentials is not ready (admin /ready 503) until its certificate is loaded; then the first mTLS request works", async () => {
    // amime up counts an instance ready by admin /ready; certificates arrive after the config.
    const serverMesh = new MeshCredentials();
    const clientMesh = new MeshCredentials();
    const lateServer = await Sidecar.start(serverConfig(app.port), { mesh: serverMesh, adminPort: 0 });
    const client = await Sidecar.start(clientConfig(lateServer.ports().inbound as number, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false }), { mesh: clientMesh, adminPort: 0 });
    const ready = async (s: Sidecar): Promise<number> => (await fetch(`http://127.0.0.1:${s.adminPort}/ready`)).status;
    try {
      assert.equal(await ready(lateServer), 503, "listeners bound, no certificate: not ready");
      assert.equal(await ready(client), 503);
      const early = await send(client.ports().outbound as number, { host: "reviews:9080" });
      assert.equal(early.status, 503, "what a request sent on a premature ready would get");
      assert.match(early.body, /reset reason: connection failure/);
      clientMesh.set(clientCert);
      assert.equal(await ready(client), 200);
      assert.equal(await ready(lateServer), 503);
      serverMesh.set(serverCert);
      assert.equal(await ready(lateServer), 200);
      const r = await send(client.ports().outbound as number, { host: "reviews:9080" });
      assert.equal(r.status, 200, r.body);
    } finally {
      await client.close(0);
      await lateServer.close(0);
    }
  });

  it("PERMISSIVE (the default): plaintext on the same inbound port is still served", async () => {
    const r = await send(inbound(), { host: "reviews:9080" });
    assert.equal(r.status, 200);
  });

  it("openssl s_client: no client certificate → refused; a mesh certificate → served; the served chain verifies against the root", async () => {
    const get = "GET / HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n";
    const bare = await run("openssl", ["s_client", "-connect", `127.0.0.1:${inbound()}`, "-servername", SNI, "-alpn", "istio-peer-exchange,istio", "-ign_eof"], get);
    assert.doesNotMatch(bare.out, /HTTP\/1\.1 200/);
    const withCert = await run("openssl", ["s_client", "-connect", `127.0.0.1:${inbound()}`, "-servername", SNI, "-alpn", "istio-peer-exchange,istio", "-cert", join(dir, "client.pem"), "-key", join(dir, "client-key.pem"), "-CAfile", join(dir, "root.pem"), "-showcerts", "-ign_eof"], get);
    assert.match(withCert.out, /HTTP\/1\.1 200/);
    assert.match(withCert.out, /Verify return code: 0 \(ok\)/);
    const served = [...withCert.out.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => m[0]);
    await writeFile(join(dir, "served.pem"), `${served[0]}\n`);
    const v = await run("openssl", ["verify", "-CAfile", join(dir, "root.pem"), join(dir, "served.pem")]);
    assert.equal(v.code, 0, v.out);
    const text = await run("openssl", ["x509", "-in", join(dir, "served.pem"), "-noout", "-ext", "subjectAltName"]);
    assert.match(text.out, new RegExp(`URI:${REVIEWS}`));
  });

  it("TCP ports: ISTIO_MUTUAL to an inbound TCP listener carries the bytes over mutual TLS; plaintext is still accepted", async () => {
    const echo = createNetServer((c) => c.pipe(c));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const echoPort = (echo.address() as AddressInfo).port;
    const tcpServerConfig = serverConfig(echoPort);
    tcpServerConfig.listeners = [{ name: "inbound", direction: "inbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "inbound|9080||", weight: 100 }] } }];
    const tcpServer = await Sidecar.start(tcpServerConfig, { mesh: credentials(serverCert) });
    const cc = clientConfig(tcpServer.ports().inbound as number, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false });
    cc.listeners = [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "outbound|9080||reviews.default.svc.cluster.local", weight: 100 }] } }];
    ((cc.clusters as Obj[])[0]!).protocol = "tcp";
    const client = await Sidecar.start(cc, { mesh: credentials(clientCert) });
    try {
      assert.equal(await echoThrough(client.ports().outbound as number, "ping over mtls"), "ping over mtls");
      assert.equal(handshakes(tcpServer), 1);
      assert.equal(await echoThrough(tcpServer.ports().inbound as number, "plain ping"), "plain ping");
      assert.equal(handshakes(tcpServer), 1);
    } finally {
      await client.close(0);
      await tcpServer.close(0);
      await new Promise((r) => echo.close(r));
    }
  });

  it("the peer identity comes from the verified certificate only: an AuthorizationPolicy on principals allows the mTLS caller, denies the same request in plaintext", async () => {
    const c = serverConfig(app.port);
    const allowProductpage = { name: "ns[default]-policy[pp]", namespace: "default", action: "ALLOW", dryRun: false, rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }] }] };
    (c.listeners as Obj[])[0]!.httpFilters = [{ name: "rbac", config: { policies: [allowProductpage], useRemoteAddress: false, trustedHops: 0 } }, { name: "cors" }, { name: "fault" }, { name: "router" }];
    const guarded = await Sidecar.start(c, { mesh: credentials(serverCert) });
    const client = await Sidecar.start(clientConfig(guarded.ports().inbound as number, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false }), { mesh: credentials(clientCert) });
    try {
      const viaMtls = await send(client.ports().outbound as number, { host: "reviews:9080" });
      assert.equal(viaMtls.status, 200, viaMtls.body);
      // A client-supplied identity header makes no principal.
      const plain = await send(guarded.ports().inbound as number, { host: "reviews:9080", headers: { "x-forwarded-client-cert": "By=spiffe://cluster.local/ns/default/sa/bookinfo-reviews;URI=spiffe://cluster.local/ns/default/sa/bookinfo-productpage" } });
      assert.equal(plain.status, 403);
      assert.equal(plain.body, "RBAC: access denied");
    } finally {
      await client.close(0);
      await guarded.close(0);
    }
  });

  it("TCP ports: the rbac network filter sees the verified peer and the TLS server name: a principals + connection.sni ALLOW passes the mTLS caller, closes the plaintext one", async () => {
    const echo = createNetServer((c) => c.pipe(c));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const echoPort = (echo.address() as AddressInfo).port;
    const allow = { name: "ns[default]-policy[pp]", namespace: "default", action: "ALLOW", dryRun: false, rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }], when: [{ key: "connection.sni", values: ["*.reviews.default.svc.cluster.local"] }] }] };
    const sc = serverConfig(echoPort);
    sc.listeners = [{ name: "inbound", direction: "inbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "inbound|9080||", weight: 100 }] }, networkFilters: [{ name: "rbac", config: { policies: [allow], useRemoteAddress: false, trustedHops: 0 } }, { name: "tcp_proxy" }] }];
    const guarded = await Sidecar.start(sc, { mesh: credentials(serverCert) });
    const cc = clientConfig(guarded.ports().inbound as number, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false });
    cc.listeners = [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "outbound|9080||reviews.default.svc.cluster.local", weight: 100 }] } }];
    ((cc.clusters as Obj[])[0]!).protocol = "tcp";
    const client = await Sidecar.start(cc, { mesh: credentials(clientCert) });
    try {
      assert.equal(await echoThrough(client.ports().outbound as number, "ping over mtls"), "ping over mtls");
      assert.equal(await echoThrough(guarded.ports().inbound as number, "plain ping"), "");
    } finally {
      await client.close(0);
      await guarded.close(0);
      await new Promise((r) => echo.close(r));
    }
  });

  it("x-forwarded-client-cert: the app sees Envoy's element for an mTLS caller (By, Hash of the client certificate, Subject, URI); a forged one from a plaintext client is removed", async () => {
    const echo = await startUpstream("xfcc", (req, res) => res.end(String(req.headers["x-forwarded-client-cert"] ?? "none")));
    const target = await Sidecar.start(serverConfig(echo.port), { mesh: credentials(serverCert) });
    const client = await Sidecar.start(clientConfig(target.ports().inbound as number, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false }), { mesh: credentials(clientCert) });
    const forged = "By=spiffe://cluster.local/ns/default/sa/bookinfo-reviews;Hash=00;Subject=\"\";URI=spiffe://cluster.local/ns/default/sa/admin";
    try {
      const hash = createHash("sha256").update(new X509Certificate(clientCert.certChain[0]!).raw).digest("hex");
      const element = `By=${REVIEWS};Hash=${hash};Subject="";URI=spiffe://cluster.local/ns/default/sa/bookinfo-productpage`;
      for (let i = 0; i < 2; i++) {
        const viaMtls = await send(client.ports().outbound as number, { host: "reviews:9080" });
        assert.equal(viaMtls.status, 200);
        assert.equal(viaMtls.body, element);
      }
      // The client sidecar (outbound: Envoy's SANITIZE) removes what the app sent; the server adds its element.
      assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080", headers: { "x-forwarded-client-cert": forged } })).body, element);
      // The same over HTTP/2 between the sidecars (ALPN h2 inside mTLS).
      const h2c = clientConfig(target.ports().inbound as number, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false });
      ((h2c.clusters as Obj[])[0]!).protocol = "http2";
      const h2Client = await Sidecar.start(h2c, { mesh: credentials(clientCert) });
      try {
        const viaH2 = await send(h2Client.ports().outbound as number, { host: "reviews:9080", headers: { "x-forwarded-client-cert": forged } });
        assert.equal(viaH2.status, 200, viaH2.body);
        assert.equal(viaH2.body, element);
      } finally {
        await h2Client.close(0);
      }
      // Plaintext straight to the inbound port: removed, nothing set.
      const plain = await send(target.ports().inbound as number, { host: "reviews:9080", headers: { "x-forwarded-client-cert": forged } });
      assert.equal(plain.status, 200);
      assert.equal(plain.body, "none");
    } finally {
      await client.close(0);
      await target.close(0);
      await echo.close();
    }
  });

  it("a client certificate whose serial is on the deny list is refused at the handshake", async () => {
    const revoking = await Sidecar.start(serverConfig(app.port, { serials: [clientCert.serial.toLowerCase()], identities: [] }), { mesh: credentials(serverCert) });
    const client = await Sidecar.start(clientConfig(revoking.ports().inbound as number, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false }), { mesh: credentials(clientCert) });
    try {
      const r = await send(client.ports().outbound as number, { host: "reviews:9080" });
      assert.equal(r.status, 503);
      const inboundStats = revoking.listenerStats().find((l) => l.name === "inbound");
      assert.equal(inboundStats?.sslHandshakes, 0);
      assert.ok((inboundStats?.sslErrors ?? 0) >= 1);
    } finally {
      await client.close(0);
      await revoking.close(0);
    }
  });

  it("when the deny list arrives, an open connection authenticated by a now-revoked certificate is closed; the next handshake is refused", async () => {
    const config = serverConfig(app.port);
    const target = await Sidecar.start(config, { mesh: credentials(serverCert) });
    const client = await Sidecar.start(clientConfig(target.ports().inbound as number, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false }), { mesh: credentials(clientCert) });
    const open = (): number => target.listenerStats().find((l) => l.name === "inbound")?.activeConnections ?? -1;
    try {
      assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080" })).status, 200);
      assert.equal(open(), 1, "the pooled mTLS connection stays open");
      const applied = await target.applyConfig({ ...config, version: "revoked", listeners: [{ ...(config.listeners as Obj[])[0], port: target.ports().inbound }], revocations: { serials: [clientCert.serial], identities: [] } });
      assert.equal(applied.ok, true);
      await waitFor(() => open() === 0, { what: "the revoked peer's connection closed" });
      assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080" })).status, 503);
    } finally {
      await client.close(0);
      await target.close(0);
    }
  });

  it("PeerAuthentication STRICT: plaintext curl is refused at the connection, mTLS from a sidecar is served; DISABLE serves plaintext and refuses mTLS", async () => {
    const strictConfig = serverConfig(app.port);
    (strictConfig.listeners as Obj[])[0]!.mtls = "STRICT";
    const strict = await Sidecar.start(strictConfig, { mesh: credentials(serverCert) });
    const client = await Sidecar.start(clientConfig(strict.ports().inbound as number, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false }), { mesh: credentials(clientCert) });
    try {
      const curl = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", `http://127.0.0.1:${strict.ports().inbound}/`]);
      assert.notEqual(curl.code, 0, curl.out);
      assert.match(curl.out, /^000/);
      assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080" })).status, 200);
      // Back to PERMISSIVE by a push: the same curl is served.
      const permissive = await strict.applyConfig({ ...strictConfig, version: "permissive", listeners: [{ ...(strictConfig.listeners as Obj[])[0], mtls: undefined, port: strict.ports().inbound }] });
      assert.equal(permissive.ok, true);
      const again = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", `http://127.0.0.1:${strict.ports().inbound}/`]);
      assert.equal(again.out, "200");
    } finally {
      await client.close(0);
      await strict.close(0);
    }
    const disabledConfig = serverConfig(app.port);
    (disabledConfig.listeners as Obj[])[0]!.mtls = "DISABLE";
    const disabled = await Sidecar.start(disabledConfig, { mesh: credentials(serverCert) });
    const client2 = await Sidecar.start(clientConfig(disabled.ports().inbound as number, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false }), { mesh: credentials(clientCert) });
    try {
      assert.equal((await send(disabled.ports().inbound as number, { host: "reviews:9080" })).status, 200);
      assert.equal((await send(client2.ports().outbound as number, { host: "reviews:9080" })).status, 503);
    } finally {
      await client2.close(0);
      await disabled.close(0);
    }
  });
});
