// x-forwarded-client-cert at a gateway, end to end: a Gateway translated with a MeshConfig (its
// `defaultConfig.gatewayTopology.forwardClientCertDetails`, Istio's default SANITIZE_SET when unset)
// runs in a real proxy with a certificate from a real mesh CA; openssl s_client (HTTP/1.1) and curl
// (HTTP/2) send a forged header over the ISTIO_MUTUAL server with a mesh client certificate, over a
// SIMPLE HTTPS server and in plaintext; the app behind it (no sidecar) shows what it got.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SigningCA } from "../../src/control-plane/ca/signing-ca.ts";
import type { MeshConfig } from "../../src/model/specs/mesh-config.ts";
import { translate } from "../../src/control-plane/translate/index.ts";
import { inst, k8sService, snapshotFrom } from "../../src/control-plane/translate/testing.ts";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import type { ActiveCertificate } from "../../src/proxy/identity/workload-certificate.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { credentials, issue } from "../support/mesh-certs.ts";
import { startUpstream, type Upstream } from "./sidecar-harness.ts";
import { waitFor } from "../support/wait.ts";

const HOST = "reviews.default.svc.cluster.local";
const GATEWAY = "spiffe://cluster.local/ns/istio-system/sa/gw";
const CLIENT = "spiffe://cluster.local/ns/default/sa/productpage";
const FORGED = "By=spiffe://forged;URI=spiffe://cluster.local/ns/default/sa/admin";

const YAML = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - {port: {number: 8443, name: https-mesh, protocol: HTTPS}, tls: {mode: ISTIO_MUTUAL}, hosts: ["*"]}
  - {port: {number: 9443, name: https, protocol: HTTPS}, tls: {mode: SIMPLE, serverCertificate: SERVER_CERT, privateKey: SERVER_KEY}, hosts: ["*"]}
  - {port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{route: [{destination: {host: ${HOST}, port: {number: 9080}}}], mirror: {host: mirror.default.svc.cluster.local, port: {number: 9080}}}]
`;

/** What the app says it got (`xfcc=[…]`), from a client's output. */
function seen(out: string): string {
  return /xfcc=\[(.*)\]/.exec(out)?.[1] ?? `no response: ${out}`;
}

function run(cmd: string, args: string[], input = ""): Promise<string> {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { timeout: 20_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
    // openssl may exit before it reads its input (a refused handshake): its output tells the story.
    p.stdin?.on("error", () => {});
    p.stdin?.end(input);
  });
}

describe("gateway x-forwarded-client-cert (forward_client_cert_details)", () => {
  let ca: SigningCA;
  let app: Upstream;
  let mirror: Upstream;
  let gateway: Sidecar;
  let client: ActiveCertificate;
  let dir: string;
  let yaml: string;

  const configFor = (mesh: MeshConfig | undefined): ProxyConfig => {
    const snapshot = snapshotFrom(k8sService("reviews") + k8sService("mirror") + yaml, [
      inst("reviews", "v1", "127.0.0.1", { ports: { http: app.port } }),
      inst("mirror", "v1", "127.0.0.1", { ports: { http: mirror.port } }),
      { name: "gw-0", namespace: "istio-system", labels: { istio: "ingressgateway" }, serviceAccount: "gw", address: "127.0.0.1", ready: true, ports: { "8443": 0, "9443": 0, "8080": 0 } },
    ], mesh !== undefined ? { mesh: { config: mesh } } : {});
    return translate(snapshot, { id: "router~gw-0.istio-system", kind: "gateway", workload: "gw", namespace: "istio-system", labels: { istio: "ingressgateway" }, serviceAccount: "gw", trustDomain: "cluster.local", ip: "127.0.0.1", instanceName: "gw-0" });
  };
  const mode = async (forward: string): Promise<void> => {
    const r = await gateway.applyConfig({ ...configFor({ defaultConfig: { gatewayTopology: { forwardClientCertDetails: forward as "SANITIZE" } } }), version: forward });
    assert.equal(r.ok, true, r.ok ? "" : r.error);
  };
  const port = (p: number): number => gateway.ports()[`0.0.0.0_${p}`]!;
  /** What the app got over the ISTIO_MUTUAL server (openssl s_client, HTTP/1.1, the mesh client certificate). */
  const overMtls = async (): Promise<string> => {
    const out = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port(8443)}`, "-cert", join(dir, "client.pem"), "-key", join(dir, "client-key.pem"), "-CAfile", join(dir, "root.pem"), "-ign_eof", "-quiet"], `GET / HTTP/1.1\r\nHost: reviews\r\nx-forwarded-client-cert: ${FORGED}\r\nConnection: close\r\n\r\n`);
    return seen(out);
  };
  /** The same over HTTP/2 (curl, ALPN h2). */
  const overMtlsH2 = async (): Promise<string> => {
    const out = await run("curl", ["-sk", "--http2", "--cert", join(dir, "client.pem"), "--key", join(dir, "client-key.pem"), "-H", `x-forwarded-client-cert: ${FORGED}`, `https://127.0.0.1:${port(8443)}/`]);
    return seen(out);
  };
  const overSimple = async (): Promise<string> => {
    const out = await run("curl", ["-sk", "-H", `x-forwarded-client-cert: ${FORGED}`, `https://127.0.0.1:${port(9443)}/`]);
    return seen(out);
  };
  const overPlaintext = async (): Promise<string> => {
    const out = await run("curl", ["-s", "-H", `x-forwarded-client-cert: ${FORGED}`, `http://127.0.0.1:${port(8080)}/`]);
    return seen(out);
  };

  before(async () => {
    ca = await SigningCA.selfSigned(null, "cluster.local");
    app = await startUpstream("reviews", (req, res) => res.end(`xfcc=[${req.headers["x-forwarded-client-cert"] ?? "none"}]`));
    mirror = await startUpstream("mirror", (_req, res) => res.end());
    client = await issue(ca, "default", "productpage");
    const gw = await issue(ca, "istio-system", "gw");
    dir = await mkdtemp(join(tmpdir(), "amime-gw-xfcc-"));
    await writeFile(join(dir, "root.pem"), client.trustBundle.join("\n"));
    await writeFile(join(dir, "client.pem"), client.certChain.join("\n"));
    await writeFile(join(dir, "client-key.pem"), client.keyPem);
    await writeFile(join(dir, "server.pem"), gw.certChain.join("\n"));
    await writeFile(join(dir, "server-key.pem"), gw.keyPem);
    yaml = YAML.replace("SERVER_CERT", join(dir, "server.pem")).replace("SERVER_KEY", join(dir, "server-key.pem"));
    gateway = await Sidecar.start(configFor(undefined), { mesh: credentials(gw) });
  });

  after(async () => {
    await gateway?.close(0);
    await app?.close();
    await mirror?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("Istio's default SANITIZE_SET: an mTLS client's forged header is replaced by the gateway's element (By, Hash, Cert, Subject, URI), over HTTP/1.1 and HTTP/2; SIMPLE TLS and plaintext remove it", async () => {
    const leaf = new X509Certificate(client.certChain[0]!);
    const hash = createHash("sha256").update(leaf.raw).digest("hex");
    const got = await overMtls();
    const m = /^By=([^;]+);Hash=([0-9a-f]{64});Cert="([^"]+)";Subject="";URI=(.+)$/.exec(got);
    assert.ok(m, got);
    assert.equal(m[1], GATEWAY);
    assert.equal(m[2], hash);
    assert.equal(decodeURIComponent(m[3]!), leaf.toString(), "Cert is the client's certificate, URL-encoded PEM");
    assert.equal(m[4], CLIENT);
    assert.equal(await overMtlsH2(), got);
    assert.equal(await overSimple(), "none");
    assert.equal(await overPlaintext(), "none");
  });

  it("mirrored requests carry the header as the main request does (HTTP/1.1 and HTTP/2 downstreams); a plaintext client's forged one reaches neither", async () => {
    const mirrored = async (send: () => Promise<string>): Promise<[string, string]> => {
      const seen = mirror.requests.length;
      const main = await send();
      await waitFor(() => mirror.requests.length > seen, { what: "the mirrored request" });
      return [main, String(mirror.requests[seen]!.headers["x-forwarded-client-cert"] ?? "none")];
    };
    const [h1, h1Mirror] = await mirrored(overMtls);
    assert.match(h1, new RegExp(`^By=${GATEWAY};Hash=`));
    assert.equal(h1Mirror, h1);
    const [h2, h2Mirror] = await mirrored(overMtlsH2);
    assert.equal(h2Mirror, h2);
    assert.deepEqual(await mirrored(overPlaintext), ["none", "none"]);
    const seen = mirror.requests.length;
    await run("curl", ["-s", "--http2-prior-knowledge", "-H", `x-forwarded-client-cert: ${FORGED}`, `http://127.0.0.1:${port(8080)}/`]);
    await waitFor(() => mirror.requests.length > seen, { what: "the mirrored h2c request" });
    assert.equal(mirror.requests[seen]!.headers["x-forwarded-client-cert"], undefined);
  });

  it("MeshConfig gatewayTopology.forwardClientCertDetails: APPEND_FORWARD, FORWARD_ONLY, ALWAYS_FORWARD_ONLY and SANITIZE act as Envoy's modes", async () => {
    try {
      await mode("APPEND_FORWARD");
      const element = await overMtls();
      assert.match(element, new RegExp(`^${FORGED.replace(/[/.]/g, "\\$&")},By=${GATEWAY};Hash=[0-9a-f]{64};Cert="[^"]+";Subject="";URI=${CLIENT}$`));
      assert.equal(await overMtlsH2(), element);
      assert.equal(await overPlaintext(), "none", "a connection without a client certificate is sanitized in every mode but ALWAYS_FORWARD_ONLY");

      await mode("FORWARD_ONLY");
      assert.equal(await overMtls(), FORGED);
      assert.equal(await overMtlsH2(), FORGED);
      assert.equal(await overSimple(), "none");
      assert.equal(await overPlaintext(), "none");

      await mode("ALWAYS_FORWARD_ONLY");
      assert.equal(await overMtls(), FORGED);
      assert.equal(await overSimple(), FORGED);
      assert.equal(await overPlaintext(), FORGED);

      await mode("SANITIZE");
      assert.equal(await overMtls(), "none");
      assert.equal(await overMtlsH2(), "none");
    } finally {
      await gateway.applyConfig({ ...configFor(undefined), version: "default" });
    }
  });
});
