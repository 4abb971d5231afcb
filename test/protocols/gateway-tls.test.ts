// TLS termination at the ingress gateway, end to end: Istio Gateway (HTTPS SIMPLE + MUTUAL on one
// port, HTTP with httpsRedirect) and VirtualService YAML → translate → Sidecar → openssl s_client
// (certificate per SNI, ALPN http/1.1) and curl (--cacert, --resolve, client certificates).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { parseDocuments } from "../../src/config/parse.ts";
import { translate } from "../../src/control-plane/translate/index.ts";
import { buildSnapshot } from "../../src/model/snapshot.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, listen, run } from "./harness.ts";
import { makePki, type Pki } from "./pki.ts";

describe("gateway TLS termination", () => {
  let pki: Pki;
  let app: Server;
  let gw: Sidecar;
  let https = 0;
  let http = 0;

  before(async () => {
    pki = await makePki({ a: ["a.example.test"], b: ["b.example.test"], client: [] });
    app = createServer((req, res) => res.end(`app ${req.headers.host} ${req.url} proto=${req.headers["x-forwarded-proto"]}`));
    const appPort = await listen(app);
    const a = pki.leaf("a");
    const b = pki.leaf("b");
    const yaml = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-a, protocol: HTTPS}
    hosts: [a.example.test]
    tls: {mode: SIMPLE, serverCertificate: ${a.cert}, privateKey: ${a.key}}
  - port: {number: 443, name: https-b, protocol: HTTPS}
    hosts: [b.example.test]
    tls: {mode: MUTUAL, serverCertificate: ${b.cert}, privateKey: ${b.key}, caCertificates: ${pki.ca}}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [a.example.test]
    tls: {httpsRedirect: true}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app}
spec:
  hosts: [a.example.test, b.example.test]
  gateways: [gw]
  http: [{route: [{destination: {host: app.internal, port: {number: 8080}}}]}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: app}
spec:
  hosts: [app.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${appPort}}}]
`;
    const { resources, diagnostics } = parseDocuments(yaml, "gw.yaml");
    assert.deepEqual(diagnostics.filter((d) => d.level === "error"), []);
    const snapshot = buildSnapshot(resources, {
      services: [],
      // The gateway instance maps 443/80 to free ports (the local runtime's way to bind them).
      instances: [{ name: "ingress", namespace: "default", labels: { istio: "ingressgateway" }, serviceAccount: "ingress", address: "127.0.0.1", ready: true, ports: { "443": 0, "80": 0 } }],
    }, { version: "1" });
    const cfg = translate(snapshot, { id: "router~ingress.default", kind: "gateway", workload: "ingress", namespace: "default", labels: { istio: "ingressgateway" }, serviceAccount: "ingress", trustDomain: "cluster.local", ip: "127.0.0.1", instanceName: "ingress" });
    assert.equal(cfg.listeners.find((l) => l.name === "0.0.0.0_443")?.tls?.servers.length, 2);
    gw = await Sidecar.start(cfg);
    https = gw.ports()["0.0.0.0_443"]!;
    http = gw.ports()["0.0.0.0_80"]!;
  });

  after(async () => {
    await gw.close(100);
    await closeServer(app);
    pki.cleanup();
  });

  const sClient = (sni: string) => run("openssl", ["s_client", "-connect", `127.0.0.1:${https}`, "-servername", sni, "-alpn", "http/1.1", "-CAfile", pki.ca, "-verify_return_error"], "", 10_000);

  it("openssl s_client: the certificate follows the SNI; ALPN http/1.1 is agreed; the chain verifies", async () => {
    const ra = await sClient("a.example.test");
    assert.match(ra.stdout, /subject=CN ?= ?a\n/);
    assert.match(ra.stdout, /ALPN protocol: http\/1\.1/);
    assert.match(ra.stdout, /Verify return code: 0 \(ok\)/);
    const rb = await sClient("b.example.test");
    assert.match(rb.stdout, /subject=CN ?= ?b\n/);
  });

  it("curl --cacert --resolve: HTTPS terminated at the gateway, routed to the app over plain HTTP", async () => {
    const r = await run("curl", ["--silent", "--show-error", "--cacert", pki.ca, "--resolve", `a.example.test:${https}:127.0.0.1`, `https://a.example.test:${https}/hello`]);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, new RegExp(`^app a\\.example\\.test:${https} /hello`));
  });

  it("MUTUAL: without a client certificate the connection is refused; with one it is served", async () => {
    const base = ["--silent", "--cacert", pki.ca, "--resolve", `b.example.test:${https}:127.0.0.1`, `https://b.example.test:${https}/m`];
    const refused = await run("curl", base);
    assert.notEqual(refused.code, 0);
    assert.equal(refused.stdout, "");
    const c = pki.leaf("client");
    const ok = await run("curl", ["--cert", c.cert, "--key", c.key, ...base]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^app b\.example\.test:\d+ \/m/);
  });

  it("httpsRedirect: plain HTTP on the HTTP server gets a 301 to https", async () => {
    const r = await run("curl", ["--silent", "--include", "-H", "Host: a.example.test", `http://127.0.0.1:${http}/x?y=1`]);
    assert.match(r.stdout, /^HTTP\/1\.1 301 /);
    assert.match(r.stdout, /\r\nlocation: https:\/\/a\.example\.test\/x\?y=1\r\n/i);
  });
});
