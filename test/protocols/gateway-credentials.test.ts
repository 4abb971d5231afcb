// Gateway TLS credentials, end to end: Istio Gateway YAML with `credentialName` (SIMPLE, MUTUAL,
// OPTIONAL_MUTUAL on one port, chosen by SNI) → translate → a gateway Sidecar with a secret store
// (a directory of Kubernetes Secret YAML) → openssl s_client and curl. Secrets and certificate
// files change under the running gateway: new handshakes get the new certificate, a connection
// opened before keeps working. Certificates come from the openssl CLI (pki.ts).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { parseDocuments } from "../../src/config/parse.ts";
import { translate } from "../../src/control-plane/translate/index.ts";
import { buildSnapshot } from "../../src/model/snapshot.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { SecretStore } from "../../src/proxy/tls/secrets/secret-store.ts";
import { closeServer, listen, run } from "./harness.ts";
import { makePki, type Pki } from "./pki.ts";

const b64 = (file: string): string => readFileSync(file).toString("base64");
const indent = (file: string): string => readFileSync(file, "utf8").trimEnd().split("\n").map((l) => `    ${l}`).join("\n");

/** A kubernetes.io/tls Secret (base64 data), as `kubectl create secret tls` writes it. */
function tlsSecret(name: string, leaf: { cert: string; key: string }, ca?: string): string {
  return `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: istio-system}
type: kubernetes.io/tls
data:
  tls.crt: ${b64(leaf.cert)}
  tls.key: ${b64(leaf.key)}
${ca !== undefined ? `  ca.crt: ${b64(ca)}\n` : ""}`;
}

describe("gateway TLS credentials from a secret store, reloaded on change", () => {
  let pki: Pki;
  let foreign: Pki;
  let secretDir: string;
  let store: SecretStore;
  let app: Server;
  let gw: Sidecar;
  let https = 0;
  let filesPort = 0;
  let filesCert: { cert: string; key: string };
  let crlPort = 0;
  let crlFile: string;

  /** Resolves after the store's next reload (its directory watch fired and the files were re-read). */
  const nextReload = (): Promise<void> =>
    new Promise((resolve) => {
      const off = store.subscribe(() => {
        off();
        resolve();
      });
    });
  const writeSecret = async (file: string, text: string): Promise<void> => {
    const reloaded = nextReload();
    // Written beside and renamed over, as certificate tools do.
    writeFileSync(join(secretDir, `.${file}.tmp`), text);
    renameSync(join(secretDir, `.${file}.tmp`), join(secretDir, file));
    await reloaded;
    await store.settled();
  };

  before(async () => {
    pki = await makePki({ a: ["a.example.test"], b: ["b.example.test"], c: ["c.example.test"], d: ["d.example.test"], a2: ["a.example.test"], files: ["files.example.test"], files2: ["files.example.test"], crl: ["crl.example.test"], e: ["e.example.test"], client: [], revoked: [] });
    foreign = await makePki({ intruder: [] });
    secretDir = mkdtempSync(join(tmpdir(), "amime-secret-store-"));
    writeFileSync(join(secretDir, "a.yaml"), tlsSecret("a-cred", pki.leaf("a")));
    // Istio's generic form, with the CA in a separate `<name>-cacert` secret (stringData, plain PEM).
    writeFileSync(join(secretDir, "b.yaml"), `apiVersion: v1
kind: Secret
metadata: {name: b-cred, namespace: istio-system}
type: Opaque
stringData:
  cert: |
${indent(pki.leaf("b").cert)}
  key: |
${indent(pki.leaf("b").key)}
---
apiVersion: v1
kind: Secret
metadata: {name: b-cred-cacert, namespace: istio-system}
stringData:
  cacert: |
${indent(pki.ca)}
`);
    writeFileSync(join(secretDir, "c.yaml"), tlsSecret("c-cred", pki.leaf("c"), pki.ca));
    // A secret of the same name in another namespace is not the gateway's.
    writeFileSync(join(secretDir, "other-ns.yaml"), tlsSecret("d-cred", pki.leaf("d")).replace("namespace: istio-system", "namespace: default"));
    store = await SecretStore.open(secretDir, () => undefined);

    // Certificate files for a server that names them (copied: the test replaces them).
    const filesDir = mkdtempSync(join(tmpdir(), "amime-gw-files-"));
    filesCert = { cert: join(filesDir, "tls.crt"), key: join(filesDir, "tls.key") };
    writeFileSync(filesCert.cert, readFileSync(pki.leaf("files").cert));
    writeFileSync(filesCert.key, readFileSync(pki.leaf("files").key));

    // A CRL file naming the "revoked" client (Gateway tls.caCrl); and a secret whose ca.crl does.
    crlFile = join(filesDir, "ca.crl");
    await pki.crl(crlFile, ["revoked"]);
    writeFileSync(join(secretDir, "e.yaml"), tlsSecret("e-cred", pki.leaf("e"), pki.ca).replace(/\n$/, `\n  ca.crl: ${b64(crlFile)}\n`));

    app = createServer((req, res) => res.end(`app ${req.headers.host} ${req.url}`));
    const appPort = await listen(app);
    const yaml = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-a, protocol: HTTPS}
    hosts: [a.example.test]
    tls: {mode: SIMPLE, credentialName: a-cred}
  - port: {number: 443, name: https-b, protocol: HTTPS}
    hosts: [b.example.test]
    tls: {mode: MUTUAL, credentialName: b-cred}
  - port: {number: 443, name: https-c, protocol: HTTPS}
    hosts: [c.example.test]
    tls: {mode: OPTIONAL_MUTUAL, credentialName: c-cred}
  - port: {number: 443, name: https-d, protocol: HTTPS}
    hosts: [d.example.test]
    tls: {mode: SIMPLE, credentialName: d-cred}
  - port: {number: 8443, name: https-files, protocol: HTTPS}
    hosts: [files.example.test]
    tls: {mode: SIMPLE, serverCertificate: ${filesCert.cert}, privateKey: ${filesCert.key}}
  - port: {number: 9443, name: https-crl, protocol: HTTPS}
    hosts: [crl.example.test]
    tls: {mode: MUTUAL, serverCertificate: ${pki.leaf("crl").cert}, privateKey: ${pki.leaf("crl").key}, caCertificates: ${pki.ca}, caCrl: ${crlFile}}
  - port: {number: 443, name: https-e, protocol: HTTPS}
    hosts: [e.example.test]
    tls: {mode: OPTIONAL_MUTUAL, credentialName: e-cred}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: istio-system}
spec:
  hosts: ["*.example.test"]
  gateways: [gw]
  http: [{route: [{destination: {host: app.internal, port: {number: 8080}}}]}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: app, namespace: istio-system}
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
      instances: [{ name: "ingress", namespace: "istio-system", labels: { istio: "ingressgateway" }, serviceAccount: "ingress", address: "127.0.0.1", ready: true, ports: { "443": 0, "8443": 0, "9443": 0 } }],
    }, { version: "1" });
    const cfg = translate(snapshot, { id: "router~ingress.istio-system", kind: "gateway", workload: "ingress", namespace: "istio-system", labels: { istio: "ingressgateway" }, serviceAccount: "ingress", trustDomain: "cluster.local", ip: "127.0.0.1", instanceName: "ingress" });
    assert.deepEqual(cfg.listeners.find((l) => l.name === "0.0.0.0_443")?.tls?.servers.map((s) => [s.mode, s.credentialName]), [["SIMPLE", "a-cred"], ["MUTUAL", "b-cred"], ["OPTIONAL_MUTUAL", "c-cred"], ["SIMPLE", "d-cred"], ["OPTIONAL_MUTUAL", "e-cred"]]);
    gw = await Sidecar.start(cfg, { secrets: store });
    https = gw.ports()["0.0.0.0_443"]!;
    filesPort = gw.ports()["0.0.0.0_8443"]!;
    crlPort = gw.ports()["0.0.0.0_9443"]!;
  });

  after(async () => {
    await gw?.close(100);
    store?.close();
    if (app) await closeServer(app);
    rmSync(secretDir, { recursive: true, force: true });
    pki?.cleanup();
    foreign?.cleanup();
  });

  const sClient = (sni: string, port = https, extra: string[] = []) =>
    run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", sni, "-CAfile", pki.ca, "-verify_return_error", ...extra], "", 10_000);
  const curl = (host: string, extra: string[] = [], port = https) =>
    run("curl", ["--silent", "--show-error", "--cacert", pki.ca, "--resolve", `${host}:${port}:127.0.0.1`, ...extra, `https://${host}:${port}/p`], "", 10_000);

  it("openssl s_client: each SNI gets its server's certificate from its secret; the chain verifies", async () => {
    for (const [sni, cn] of [["a.example.test", "a"], ["b.example.test", "b"], ["c.example.test", "c"]]) {
      const r = await sClient(sni!);
      assert.match(r.stdout, new RegExp(`subject=CN ?= ?${cn}\\n`), sni);
      assert.match(r.stdout, /Verify return code: 0 \(ok\)/, sni);
    }
  });

  it("SIMPLE: curl is served; MUTUAL (CA from <name>-cacert): refused without a client certificate or with one from another CA, served with ours", async () => {
    const a = await curl("a.example.test");
    assert.equal(a.stderr, "");
    assert.match(a.stdout, /^app a\.example\.test:\d+ \/p$/);
    const none = await curl("b.example.test");
    assert.notEqual(none.code, 0);
    assert.equal(none.stdout, "");
    const wrong = await curl("b.example.test", ["--cert", foreign.leaf("intruder").cert, "--key", foreign.leaf("intruder").key]);
    assert.notEqual(wrong.code, 0);
    assert.equal(wrong.stdout, "");
    const ok = await curl("b.example.test", ["--cert", pki.leaf("client").cert, "--key", pki.leaf("client").key]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^app b\.example\.test:\d+ \/p$/);
  });

  it("OPTIONAL_MUTUAL (CA in the same secret): served without a certificate and with ours; a certificate from another CA is refused", async () => {
    const none = await curl("c.example.test");
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /^app c\.example\.test/);
    const ok = await curl("c.example.test", ["--cert", pki.leaf("client").cert, "--key", pki.leaf("client").key]);
    assert.equal(ok.code, 0, ok.stderr);
    const wrong = await curl("c.example.test", ["--cert", foreign.leaf("intruder").cert, "--key", foreign.leaf("intruder").key]);
    assert.notEqual(wrong.code, 0);
    assert.equal(wrong.stdout, "");
  });

  it("a secret missing from the gateway's namespace fails that server's handshakes only, until it is written", async () => {
    const before = await sClient("d.example.test");
    assert.doesNotMatch(before.stdout, /subject=CN ?= ?d/);
    assert.notEqual(before.code, 0);
    assert.equal((await curl("a.example.test")).code, 0);
    await writeSecret("d.yaml", tlsSecret("d-cred", pki.leaf("d")));
    const afterWrite = await sClient("d.example.test");
    assert.match(afterWrite.stdout, /subject=CN ?= ?d\n/);
    assert.equal((await curl("d.example.test")).code, 0);
  });

  it("a rotated secret: new handshakes get the new certificate; a connection opened before keeps serving with the old one", async () => {
    const socket = await openKeepAlive(https, "a.example.test", pki.ca);
    try {
      assert.match(await get(socket, "a.example.test"), /^HTTP\/1\.1 200 /);
      const oldSerial = socket.getPeerCertificate().serialNumber;
      await writeSecret("a.yaml", tlsSecret("a-cred", pki.leaf("a2")));
      const r = await sClient("a.example.test");
      assert.match(r.stdout, /subject=CN ?= ?a2\n/);
      assert.match(await get(socket, "a.example.test"), /^HTTP\/1\.1 200 /);
      assert.equal(socket.getPeerCertificate().serialNumber, oldSerial);
    } finally {
      socket.destroy();
    }
  });

  it("serverCertificate / privateKey files replaced on disk: new handshakes use them, no restart, no push", async () => {
    const first = await sClient("files.example.test", filesPort);
    assert.match(first.stdout, /subject=CN ?= ?files\n/);
    const socket = await openKeepAlive(filesPort, "files.example.test", pki.ca);
    try {
      // Key first, then certificate: in between the pair does not match and the old one stays in use.
      for (const [from, to] of [[pki.leaf("files2").key, filesCert.key], [pki.leaf("files2").cert, filesCert.cert]] as const) {
        writeFileSync(`${to}.tmp`, readFileSync(from));
        renameSync(`${to}.tmp`, to);
      }
      // The reload follows the directory watch; wait for its observable effect (bounded).
      let subject = "";
      for (let i = 0; i < 100 && !/CN ?= ?files2\n/.test(subject); i++) {
        subject = (await sClient("files.example.test", filesPort)).stdout;
      }
      assert.match(subject, /subject=CN ?= ?files2\n/);
      assert.match(await get(socket, "files.example.test"), /^HTTP\/1\.1 200 /);
    } finally {
      socket.destroy();
    }
  });

  it("caCrl (file): a client certificate the CRL lists is refused, others are served; a new CRL applies to new handshakes without a restart", async () => {
    const as = (leaf: string) => curl("crl.example.test", ["--cert", pki.leaf(leaf).cert, "--key", pki.leaf(leaf).key], crlPort);
    const ok = await as("client");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^app crl\.example\.test/);
    const revoked = await as("revoked");
    assert.notEqual(revoked.code, 0);
    assert.equal(revoked.stdout, "");
    // Revoke "client" too: a new CRL (openssl ca -gencrl), renamed over the old one.
    await pki.crl(`${crlFile}.new`, ["client"]);
    renameSync(`${crlFile}.new`, crlFile);
    let r = ok;
    for (let i = 0; i < 100 && r.code === 0; i++) r = await as("client");
    assert.notEqual(r.code, 0, "the client certificate revoked by the new CRL is still accepted");
    assert.equal(r.stdout, "");
  });

  it("ca.crl in a credentialName secret (OPTIONAL_MUTUAL): a revoked client certificate is refused; none, or a good one, is served", async () => {
    const none = await curl("e.example.test");
    assert.equal(none.code, 0, none.stderr);
    const good = await curl("e.example.test", ["--cert", pki.leaf("client").cert, "--key", pki.leaf("client").key]);
    assert.equal(good.code, 0, good.stderr);
    const revoked = await curl("e.example.test", ["--cert", pki.leaf("revoked").cert, "--key", pki.leaf("revoked").key]);
    assert.notEqual(revoked.code, 0);
    assert.equal(revoked.stdout, "");
  });
});

function openKeepAlive(port: number, servername: string, caFile: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, servername, ca: readFileSync(caFile), ALPNProtocols: ["http/1.1"] }, () => resolve(s));
    s.once("error", reject);
  });
}

/** One HTTP/1.1 request on an open connection; resolves with the whole response once its body is in. */
function get(socket: TLSSocket, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const onData = (b: Buffer): void => {
      got += b.toString("latin1");
      const head = got.indexOf("\r\n\r\n");
      const len = /\r\ncontent-length: (\d+)/i.exec(got);
      if (head >= 0 && len !== null && got.length >= head + 4 + Number(len[1])) {
        socket.off("data", onData);
        socket.off("error", reject);
        resolve(got);
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(`GET /k HTTP/1.1\r\nhost: ${host}\r\n\r\n`);
  });
}
