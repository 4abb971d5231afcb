// TLS origination with DestinationRule `credentialName` and `caCrl`: the app speaks plain HTTP to
// the sidecar (curl), the sidecar dials node:https upstreams with a client certificate from its
// secret store (a directory of Kubernetes Secret YAML) and checks the server's certificate against
// a CRL made by `openssl ca -gencrl`. Secrets and CRL files change under the running sidecar: the
// next connection uses them (the upstreams close every connection, so each request dials anew).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { SecretStore } from "../../src/proxy/tls/secrets/secret-store.ts";
import { closeServer, listen, originationConfig, run } from "./harness.ts";
import { makePki, type Pki } from "./pki.ts";

const HOST = "api.example.test";
const indent = (file: string): string => readFileSync(file, "utf8").trimEnd().split("\n").map((l) => `    ${l}`).join("\n");

/** Istio's generic Secret form, as `kubectl create secret generic --from-file=cert=… --from-file=key=… --from-file=cacert=…`. */
function genericSecret(name: string, leaf: { cert: string; key: string }, ca: string): string {
  return `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: egress}
stringData:
  cert: |
${indent(leaf.cert)}
  key: |
${indent(leaf.key)}
  cacert: |
${indent(ca)}
`;
}

describe("TLS origination with credentialName and caCrl", () => {
  let pki: Pki;
  let secretDir: string;
  let store: SecretStore;
  let mutual: Server;
  let good: Server;
  let revoked: Server;
  let sidecar: Sidecar;
  let port = 0;
  let crlFile: string;

  before(async () => {
    pki = await makePki({ api: [HOST], "api-revoked": [HOST], client: [], client2: [] });
    secretDir = mkdtempSync(join(tmpdir(), "amime-egress-secrets-"));
    writeFileSync(join(secretDir, "client.yaml"), genericSecret("client-credential", pki.leaf("client"), pki.ca));
    store = await SecretStore.open(secretDir, () => undefined);
    crlFile = join(secretDir, "..", `${secretDir.split("/").pop()}-ca.crl`);
    await pki.crl(crlFile, ["api-revoked"]);

    // Every answer closes its connection: each request is a new handshake with the current credentials.
    const answer = (req: IncomingMessage, res: ServerResponse): void => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.setHeader("connection", "close");
      res.end(`client=${peer?.subject?.CN ?? "-"}`);
    };
    const tlsOf = (leaf: string) => ({ cert: readFileSync(pki.leaf(leaf).cert), key: readFileSync(pki.leaf(leaf).key) });
    mutual = createServer({ ...tlsOf("api"), ca: readFileSync(pki.ca), requestCert: true, rejectUnauthorized: true }, answer);
    good = createServer(tlsOf("api"), answer);
    revoked = createServer(tlsOf("api-revoked"), answer);
    const [mutualPort, goodPort, revokedPort] = [await listen(mutual), await listen(good), await listen(revoked)];
    const clusters: [string, number, Record<string, unknown>][] = [
      ["mutual", mutualPort, { mode: "MUTUAL", sni: HOST, credentialName: "client-credential", subjectAltNames: [], insecureSkipVerify: false }],
      ["missing", mutualPort, { mode: "MUTUAL", sni: HOST, credentialName: "no-such-credential", subjectAltNames: [], insecureSkipVerify: false }],
      ["crl-good", goodPort, { mode: "SIMPLE", sni: HOST, caCertificates: pki.ca, caCrl: crlFile, subjectAltNames: [], insecureSkipVerify: false }],
      ["crl-revoked", revokedPort, { mode: "SIMPLE", sni: HOST, caCertificates: pki.ca, caCrl: crlFile, subjectAltNames: [], insecureSkipVerify: false }],
      ["no-crl", revokedPort, { mode: "SIMPLE", sni: HOST, caCertificates: pki.ca, subjectAltNames: [], insecureSkipVerify: false }],
    ];
    sidecar = await Sidecar.start(originationConfig(clusters, { id: "router~egress.egress", kind: "gateway", workload: "egress", namespace: "egress", labels: {}, serviceAccount: "egress", trustDomain: "cluster.local", ip: "127.0.0.1" }), { secrets: store });
    port = sidecar.ports().outbound!;
  });

  after(async () => {
    await sidecar?.close(100);
    store?.close();
    for (const s of [mutual, good, revoked]) if (s) await closeServer(s);
    rmSync(secretDir, { recursive: true, force: true });
    rmSync(crlFile, { force: true });
    pki?.cleanup();
  });

  const get = (host: string) => run("curl", ["--silent", "--include", "--max-time", "5", "-H", `Host: ${host}`, `http://127.0.0.1:${port}/hello`]);
  const status = (r: { stdout: string }): string => /^HTTP\/1\.1 (\d+)/.exec(r.stdout)?.[1] ?? r.stdout;

  it("MUTUAL with credentialName: the client certificate comes from the secret in the proxy's namespace", async () => {
    const r = await get("mutual");
    assert.equal(status(r), "200");
    assert.ok(r.stdout.endsWith("client=client"), r.stdout);
  });

  it("a credentialName the store does not have: the connection fails (503), nothing goes out without the certificate", async () => {
    const r = await get("missing");
    assert.equal(status(r), "503");
  });

  it("the secret rotated: the next connection presents the new client certificate", async () => {
    const reloaded = new Promise<void>((resolve) => {
      const off = store.subscribe(() => {
        off();
        resolve();
      });
    });
    writeFileSync(join(secretDir, ".client.tmp"), genericSecret("client-credential", pki.leaf("client2"), pki.ca));
    renameSync(join(secretDir, ".client.tmp"), join(secretDir, "client.yaml"));
    await reloaded;
    await store.settled();
    const r = await get("mutual");
    assert.equal(status(r), "200");
    assert.ok(r.stdout.endsWith("client=client2"), r.stdout);
  });

  it("caCrl: a server certificate the CRL lists fails the handshake (503); others pass; without the CRL it passes", async () => {
    assert.equal(status(await get("crl-good")), "200");
    assert.equal(status(await get("crl-revoked")), "503");
    assert.equal(status(await get("no-crl")), "200");
  });

  it("a new CRL file (openssl ca -gencrl, renamed over the old one) applies to the next connection", async () => {
    await pki.crl(`${crlFile}.new`, ["api"]);
    renameSync(`${crlFile}.new`, crlFile);
    let code = "200";
    // The reload follows the directory watch; wait for its observable effect (bounded).
    for (let i = 0; i < 100 && code === "200"; i++) code = status(await get("crl-good"));
    assert.equal(code, "503");
  });
});
