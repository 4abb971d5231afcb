// TLS origination (DestinationRule tls SIMPLE / MUTUAL): the app speaks plain HTTP to the sidecar
// (curl), the sidecar speaks TLS to node:https upstreams whose certificates come from a CA made by
// openssl in the test. Verification is on by default; SANs are checked; MUTUAL presents a client
// certificate the upstream requires.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, listen, originationConfig, run } from "./harness.ts";
import { makePki, type Pki } from "./pki.ts";

const HOST = "api.example.test";

describe("TLS origination toward an HTTPS upstream", () => {
  let pki: Pki;
  let simple: Server;
  let mutual: Server;
  let sidecar: Sidecar;
  let port = 0;

  before(async () => {
    pki = await makePki({ api: [HOST], client: [] });
    const leaf = pki.leaf("api");
    const answer = (req: IncomingMessage, res: ServerResponse): void => {
      const sock = req.socket as TLSSocket;
      const peer = sock.getPeerCertificate();
      res.end(`tls=${sock.encrypted === true} sni=${(sock as TLSSocket & { servername?: string }).servername} client=${peer?.subject?.CN ?? "-"} ${req.method} ${req.url}`);
    };
    simple = createServer({ cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) }, answer);
    mutual = createServer({ cert: readFileSync(leaf.cert), key: readFileSync(leaf.key), ca: readFileSync(pki.ca), requestCert: true, rejectUnauthorized: true }, answer);
    const simplePort = await listen(simple);
    const mutualPort = await listen(mutual);
    const client = pki.leaf("client");
    const clusters: [string, number, Record<string, unknown>][] = [
      ["simple", simplePort, { mode: "SIMPLE", sni: HOST, caCertificates: pki.ca, subjectAltNames: [], insecureSkipVerify: false }],
      ["san-ok", simplePort, { mode: "SIMPLE", sni: HOST, caCertificates: pki.ca, subjectAltNames: [HOST], insecureSkipVerify: false }],
      ["san-wrong", simplePort, { mode: "SIMPLE", sni: HOST, caCertificates: pki.ca, subjectAltNames: ["other.example.test"], insecureSkipVerify: false }],
      ["system-ca", simplePort, { mode: "SIMPLE", sni: HOST, subjectAltNames: [], insecureSkipVerify: false }],
      ["skip-verify", simplePort, { mode: "SIMPLE", sni: HOST, subjectAltNames: [], insecureSkipVerify: true }],
      ["mutual", mutualPort, { mode: "MUTUAL", sni: HOST, caCertificates: pki.ca, clientCertificate: client.cert, privateKey: client.key, subjectAltNames: [], insecureSkipVerify: false }],
      ["mutual-nocert", mutualPort, { mode: "SIMPLE", sni: HOST, caCertificates: pki.ca, subjectAltNames: [], insecureSkipVerify: false }],
    ];
    sidecar = await Sidecar.start(originationConfig(clusters));
    port = sidecar.ports().outbound!;
  });

  after(async () => {
    await sidecar.close(100);
    await closeServer(simple);
    await closeServer(mutual);
    pki.cleanup();
  });

  const get = (host: string) => run("curl", ["--silent", "--include", "--max-time", "5", "-H", `Host: ${host}`, `http://127.0.0.1:${port}/hello`]);

  it("SIMPLE: plain HTTP from the app, TLS to the upstream with SNI, CA verified", async () => {
    const r = await get("simple");
    assert.match(r.stdout, /^HTTP\/1\.1 200 /);
    assert.ok(r.stdout.endsWith(`tls=true sni=${HOST} client=- GET /hello`), r.stdout);
  });

  it("subjectAltNames: a matching SAN passes, a wrong SAN is a connect failure (503 UF-like)", async () => {
    assert.match((await get("san-ok")).stdout, /^HTTP\/1\.1 200 /);
    const bad = await get("san-wrong");
    assert.match(bad.stdout, /^HTTP\/1\.1 503 /);
    assert.match(bad.stdout, /connection failure/);
    assert.ok(sidecar.runtime.clusters.get("san-wrong")!.stats.upstream_cx_connect_fail >= 1);
  });

  it("verification is on by default: a private CA not configured fails; insecureSkipVerify turns it off", async () => {
    assert.match((await get("system-ca")).stdout, /^HTTP\/1\.1 503 /);
    assert.match((await get("skip-verify")).stdout, /^HTTP\/1\.1 200 /);
  });

  it("MUTUAL presents the client certificate the upstream requires; without it the handshake fails", async () => {
    const ok = await get("mutual");
    assert.match(ok.stdout, /^HTTP\/1\.1 200 /);
    assert.ok(ok.stdout.endsWith("client=client GET /hello"), ok.stdout);
    assert.match((await get("mutual-nocert")).stdout, /^HTTP\/1\.1 503 /);
  });
});
