// East-west gateway, end to end in one process with certificates from a real mesh CA (SigningCA,
// in memory): Istio's cross-network Gateway (samples/multicluster/expose-services.yaml: port 15443,
// protocol TLS, tls.mode AUTO_PASSTHROUGH, hosts "*.local") and an HTTPS server with tls.mode
// ISTIO_MUTUAL, translated for a gateway proxy. A client sidecar whose endpoint for reviews is the
// gateway (what a multi-network mesh's EDS gives a remote service) reaches the reviews sidecar
// (STRICT) through it: the mutual TLS passes the gateway untouched, so the app sees the client's
// identity. Through the ISTIO_MUTUAL server, the gateway terminates the client's mTLS with its own
// workload certificate and opens its own toward reviews; through the TLS server with ISTIO_MUTUAL
// (protocol TLS), it does the same and relays the decrypted bytes by the VirtualService's `tcp` rule.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import { SigningCA } from "../../src/control-plane/ca/signing-ca.ts";
import { translate } from "../../src/control-plane/translate/index.ts";
import { inst, k8sService, snapshotFrom } from "../../src/control-plane/translate/testing.ts";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import type { ActiveCertificate } from "../../src/proxy/identity/workload-certificate.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { credentials, issue } from "../support/mesh-certs.ts";
import { forward, proxyConfig, route, send, startUpstream, type Upstream } from "./sidecar-harness.ts";

type Obj = Record<string, unknown>;

const REVIEWS_HOST = "reviews.default.svc.cluster.local";
const REVIEWS = "spiffe://cluster.local/ns/default/sa/reviews";
const PRODUCTPAGE = "spiffe://cluster.local/ns/default/sa/productpage";
const GATEWAY = "spiffe://cluster.local/ns/istio-system/sa/istio-eastwestgateway-service-account";
const SNI = `outbound_.9080_._.${REVIEWS_HOST}`;

const GATEWAY_YAML = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: cross-network-gateway, namespace: istio-system}
spec:
  selector: {istio: eastwestgateway}
  servers:
  - port: {number: 15443, name: tls, protocol: TLS}
    tls: {mode: AUTO_PASSTHROUGH}
    hosts: ["*.local"]
  - port: {number: 8443, name: https-mesh, protocol: HTTPS}
    tls: {mode: ISTIO_MUTUAL}
    hosts: ["*"]
  - port: {number: 9443, name: tls-mesh, protocol: TLS}
    tls: {mode: ISTIO_MUTUAL}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-tcp, namespace: istio-system}
spec:
  hosts: [reviews.tcp]
  gateways: [cross-network-gateway]
  tcp: [{match: [{port: 9443}], route: [{destination: {host: ${REVIEWS_HOST}, port: {number: 9080}}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-ratings, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: eastwestgateway}}
  action: DENY
  rules: [{from: [{source: {principals: [cluster.local/ns/default/sa/ratings]}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-remote, namespace: istio-system}
spec:
  hosts: [reviews.remote]
  gateways: [cross-network-gateway]
  http: [{route: [{destination: {host: ${REVIEWS_HOST}, port: {number: 9080}}}]}]
`;

/** A client sidecar whose cluster for reviews has one endpoint, `port`, dialed with `tls`. */
function clientConfig(port: number, tls: Obj): Obj {
  const cluster = `outbound|9080||${REVIEWS_HOST}`;
  const c = proxyConfig({ virtualHosts: [{ domains: ["*"], routes: [route("r", { prefix: "/" }, forward(cluster))] }], clusters: [{ name: cluster, endpoints: [{ port }] }] });
  (c.clusters as Obj[])[0]!.tls = tls;
  return c;
}

function run(cmd: string, args: string[], input = ""): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }));
    // openssl may exit before it reads its input (a refused handshake): its output tells the story.
    p.stdin?.on("error", () => {});
    p.stdin?.end(input);
  });
}

describe("east-west gateway: AUTO_PASSTHROUGH and ISTIO_MUTUAL", () => {
  let ca: SigningCA;
  let app: Upstream;
  let reviews: Sidecar;
  let gateway: Sidecar;
  let gwConfig: ProxyConfig;
  let productpageCert: ActiveCertificate;
  let dir: string;

  before(async () => {
    ca = await SigningCA.selfSigned(null, "cluster.local");
    app = await startUpstream("reviews", (req, res) => res.end(`xfcc=${req.headers["x-forwarded-client-cert"] ?? ""}`));
    // The reviews sidecar: STRICT, so nothing but mesh mTLS reaches the app.
    const server = proxyConfig({ virtualHosts: [{ domains: ["*"], routes: [route("app", { prefix: "/" }, forward("inbound|9080||"))] }], clusters: [{ name: "inbound|9080||", endpoints: [{ port: app.port }] }] });
    server.listeners = [{ name: "inbound", direction: "inbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "outbound", mtls: "STRICT" }];
    reviews = await Sidecar.start(server, { mesh: credentials(await issue(ca, "default", "reviews")) });
    productpageCert = await issue(ca, "default", "productpage");

    const snapshot = snapshotFrom(k8sService("reviews") + GATEWAY_YAML, [
      inst("reviews", "v1", "127.0.0.1", { sidecar: true, ports: { http: reviews.ports().inbound! } }),
      { name: "eastwest", namespace: "istio-system", labels: { istio: "eastwestgateway" }, serviceAccount: "istio-eastwestgateway-service-account", address: "127.0.0.1", ready: true, ports: { "15443": 0, "8443": 0, "9443": 0 } },
    ]);
    gwConfig = translate(snapshot, { id: "router~eastwest.istio-system", kind: "gateway", workload: "eastwest", namespace: "istio-system", labels: { istio: "eastwestgateway" }, serviceAccount: "istio-eastwestgateway-service-account", trustDomain: "cluster.local", ip: "127.0.0.1", instanceName: "eastwest" });
    gateway = await Sidecar.start(gwConfig, { mesh: credentials(await issue(ca, "istio-system", "istio-eastwestgateway-service-account")) });

    dir = await mkdtemp(join(tmpdir(), "amime-eastwest-"));
    await writeFile(join(dir, "root.pem"), productpageCert.trustBundle.join("\n"));
    await writeFile(join(dir, "client.pem"), productpageCert.certChain.join("\n"));
    await writeFile(join(dir, "client-key.pem"), productpageCert.keyPem);
  });

  after(async () => {
    await gateway?.close(0);
    await reviews?.close(0);
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("translation: the 15443 listener routes Istio's SNI to an SNI-DNAT cluster of the same name (TCP, no TLS of its own, the service's endpoints)", () => {
    const l = gwConfig.listeners.find((x) => x.name === "0.0.0.0_15443");
    assert.equal(l?.protocol, "tcp");
    assert.deepEqual(l?.sniRoutes, [{ serverNames: [SNI], clusters: [{ cluster: SNI, weight: 100 }] }]);
    const c = gwConfig.clusters.find((x) => x.name === SNI);
    assert.equal(c?.protocol, "tcp");
    assert.equal(c?.tls, undefined);
    assert.deepEqual(gwConfig.endpoints[SNI]?.map((e) => e.port), [reviews.ports().inbound]);
    assert.deepEqual(gwConfig.listeners.find((x) => x.name === "0.0.0.0_8443")?.tls?.servers.map((s) => s.mode), ["ISTIO_MUTUAL"]);
  });

  it("AUTO_PASSTHROUGH: sidecar → gateway → sidecar, the mutual TLS end to end (the app sees the client's identity, the reviews sidecar did the handshake)", async () => {
    const client = await Sidecar.start(clientConfig(gateway.ports()["0.0.0.0_15443"]!, { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false }), { mesh: credentials(productpageCert) });
    try {
      const handshakes = reviews.listenerStats().find((l) => l.name === "inbound")?.sslHandshakes ?? 0;
      const r = await send(client.ports().outbound as number, { host: "reviews:9080" });
      assert.equal(r.status, 200, r.body);
      assert.match(r.body, new RegExp(`^xfcc=By=${REVIEWS};Hash=[0-9a-f]{64};Subject="";URI=${PRODUCTPAGE}$`));
      assert.equal((reviews.listenerStats().find((l) => l.name === "inbound")?.sslHandshakes ?? 0) - handshakes, 1);
    } finally {
      await client.close(0);
    }
  });

  it("AUTO_PASSTHROUGH: openssl s_client through the gateway gets the reviews sidecar's certificate; an SNI that names no service is closed", async () => {
    const port = gateway.ports()["0.0.0.0_15443"]!;
    const get = "GET / HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n";
    const through = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", SNI, "-alpn", "istio-peer-exchange,istio", "-cert", join(dir, "client.pem"), "-key", join(dir, "client-key.pem"), "-CAfile", join(dir, "root.pem"), "-showcerts", "-ign_eof"], get);
    assert.match(through.out, /Verify return code: 0 \(ok\)/);
    assert.match(through.out, /HTTP\/1\.1 200/);
    const seen = app.requests.length;
    const unknown = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", `outbound_.9080_._.nothing.default.svc.cluster.local`, "-cert", join(dir, "client.pem"), "-key", join(dir, "client-key.pem"), "-ign_eof"], get);
    assert.doesNotMatch(unknown.out, /HTTP\/1\.1/);
    assert.equal(app.requests.length, seen);
  });

  it("ISTIO_MUTUAL server: a mesh client is served, the gateway re-originates mTLS with its own identity; no client certificate, or plaintext, is refused", async () => {
    const port = gateway.ports()["0.0.0.0_8443"]!;
    const client = await Sidecar.start(clientConfig(port, { mode: "ISTIO_MUTUAL", sni: "reviews.remote", subjectAltNames: [GATEWAY], insecureSkipVerify: false }), { mesh: credentials(productpageCert) });
    try {
      const r = await send(client.ports().outbound as number, { host: "reviews.remote" });
      assert.equal(r.status, 200, r.body);
      // The gateway's SANITIZE_SET element (Subject, Cert, URI, DNS), then the reviews sidecar's APPEND_FORWARD one.
      assert.match(r.body, new RegExp(`^xfcc=By=${GATEWAY};Hash=[0-9a-f]{64};Cert="-----BEGIN%20CERTIFICATE-----%0A[^"]+";Subject="";URI=${PRODUCTPAGE},By=${REVIEWS};Hash=[0-9a-f]{64};Subject="";URI=${GATEWAY}$`));
    } finally {
      await client.close(0);
    }
    const get = "GET / HTTP/1.1\r\nHost: reviews.remote\r\nConnection: close\r\n\r\n";
    const bare = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "reviews.remote", "-CAfile", join(dir, "root.pem"), "-ign_eof"], get);
    assert.match(bare.out, /Verify return code: 0 \(ok\)/, "the gateway's certificate chains to the mesh root");
    assert.doesNotMatch(bare.out, /HTTP\/1\.1 200/);
    const withCert = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "reviews.remote", "-cert", join(dir, "client.pem"), "-key", join(dir, "client-key.pem"), "-CAfile", join(dir, "root.pem"), "-ign_eof"], get);
    assert.match(withCert.out, /HTTP\/1\.1 200/);
    const plain = await send(port, { host: "reviews.remote" }).catch((e: Error) => ({ status: 0, body: e.message }));
    assert.notEqual(plain.status, 200);
  });

  it("ISTIO_MUTUAL server: a client certificate from another CA is refused", async () => {
    const other = await SigningCA.selfSigned(null, "cluster.local");
    const foreign = await issue(other, "default", "productpage");
    const client = await Sidecar.start(clientConfig(gateway.ports()["0.0.0.0_8443"]!, { mode: "ISTIO_MUTUAL", sni: "reviews.remote", subjectAltNames: [], insecureSkipVerify: true }), { mesh: credentials(foreign) });
    const seen = app.requests.length;
    try {
      const r = await send(client.ports().outbound as number, { host: "reviews.remote" });
      assert.notEqual(r.status, 200);
      assert.equal(app.requests.length, seen);
    } finally {
      await client.close(0);
    }
  });

  it("ISTIO_MUTUAL server and the CA's deny list: a pushed list that names the client's serial closes its open connection and refuses its next handshake", async () => {
    const port = gateway.ports()["0.0.0.0_8443"]!;
    const open = (): Promise<TLSSocket> =>
      new Promise((resolve, reject) => {
        const t = tlsConnect({ host: "127.0.0.1", port, servername: "reviews.remote", cert: productpageCert.certChain.join(""), key: productpageCert.keyPem, ca: productpageCert.trustBundle.join(""), ALPNProtocols: ["http/1.1"], checkServerIdentity: () => undefined }, () => resolve(t));
        t.once("error", reject);
      });
    const ask = (t: TLSSocket): Promise<string> =>
      new Promise((resolve) => {
        let got = "";
        t.on("data", (b: Buffer) => {
          got += b.toString();
          if (/\r\n\r\n[\s\S]*xfcc=/.test(got)) resolve(got);
        });
        t.once("close", () => resolve(got));
        t.write("GET / HTTP/1.1\r\nHost: reviews.remote\r\n\r\n");
      });
    const t = await open();
    assert.match(await ask(t), /^HTTP\/1\.1 200 /);
    const closed = new Promise<void>((resolve) => t.once("close", () => resolve()));
    const r = await gateway.applyConfig({ ...gwConfig, version: "revoked", revocations: { serials: [productpageCert.serial.toLowerCase()], identities: [] } });
    assert.equal(r.ok, true, r.ok ? "" : r.error);
    await closed;
    const again = await open().then((s) => ask(s), (e: Error) => e.message);
    assert.doesNotMatch(again, /HTTP\/1\.1 200/);
    await gateway.applyConfig({ ...gwConfig, version: "unrevoked" });
  });

  it("ISTIO_MUTUAL on a TLS server: openssl s_client with a mesh certificate is relayed by the tcp rule (the gateway re-originates mTLS with its own identity); without a certificate, with another CA's, or plaintext, nothing reaches the app", async () => {
    const l = gwConfig.listeners.find((x) => x.name === "0.0.0.0_9443");
    assert.equal(l?.protocol, "tcp");
    assert.deepEqual(l?.tls?.servers.map((s) => s.mode), ["ISTIO_MUTUAL"]);
    assert.deepEqual(l?.tcpRoute?.clusters.map((c) => c.cluster), [`outbound|9080||${REVIEWS_HOST}`]);
    const port = gateway.ports()["0.0.0.0_9443"]!;
    const get = "GET / HTTP/1.1\r\nHost: reviews.tcp\r\nConnection: close\r\n\r\n";
    const withCert = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-cert", join(dir, "client.pem"), "-key", join(dir, "client-key.pem"), "-CAfile", join(dir, "root.pem"), "-ign_eof"], get);
    assert.match(withCert.out, /Verify return code: 0 \(ok\)/, "the gateway's workload certificate chains to the mesh root");
    assert.match(withCert.out, /HTTP\/1\.1 200/);
    assert.match(withCert.out, new RegExp(`xfcc=By=${REVIEWS};Hash=[0-9a-f]{64};Subject="";URI=${GATEWAY}`));
    const seen = app.requests.length;
    const bare = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", join(dir, "root.pem"), "-ign_eof"], get);
    assert.doesNotMatch(bare.out, /HTTP\/1\.1/);
    const other = await SigningCA.selfSigned(null, "cluster.local");
    const foreign = await issue(other, "default", "productpage");
    await writeFile(join(dir, "foreign.pem"), foreign.certChain.join("\n"));
    await writeFile(join(dir, "foreign-key.pem"), foreign.keyPem);
    const alien = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-cert", join(dir, "foreign.pem"), "-key", join(dir, "foreign-key.pem"), "-ign_eof"], get);
    assert.doesNotMatch(alien.out, /HTTP\/1\.1/);
    const plain = await send(port, { host: "reviews.tcp" }).catch((e: Error) => ({ status: 0, body: e.message }));
    assert.notEqual(plain.status, 200);
    assert.equal(app.requests.length, seen);
  });

  it("ISTIO_MUTUAL on a TLS server: the verified client identity is the TCP rbac filter's principal (a DENY on ratings closes ratings' connection, productpage's passes)", async () => {
    const port = gateway.ports()["0.0.0.0_9443"]!;
    const ratings = await issue(ca, "default", "ratings");
    await writeFile(join(dir, "ratings.pem"), ratings.certChain.join("\n"));
    await writeFile(join(dir, "ratings-key.pem"), ratings.keyPem);
    const get = "GET / HTTP/1.1\r\nHost: reviews.tcp\r\nConnection: close\r\n\r\n";
    const seen = app.requests.length;
    const denied = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-cert", join(dir, "ratings.pem"), "-key", join(dir, "ratings-key.pem"), "-CAfile", join(dir, "root.pem"), "-ign_eof"], get);
    assert.match(denied.out, /Verify return code: 0 \(ok\)/, "the handshake itself succeeds");
    assert.doesNotMatch(denied.out, /HTTP\/1\.1/);
    assert.equal(app.requests.length, seen);
    const allowed = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-cert", join(dir, "client.pem"), "-key", join(dir, "client-key.pem"), "-CAfile", join(dir, "root.pem"), "-ign_eof"], get);
    assert.match(allowed.out, /HTTP\/1\.1 200/);
  });
});
