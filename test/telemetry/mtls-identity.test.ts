// The peer identity in Istio metrics comes from the verified certificate only: two sidecars with
// real mesh certificates (SigningCA) talk ISTIO_MUTUAL; the server sidecar's reporter=destination
// series carries the client certificate's SPIFFE id as source_principal and
// connection_security_policy="mutual_tls"; a plaintext client that sends a peer header claiming
// the same service account gets source_principal="unknown" and "none". The server's access log
// prints %DOWNSTREAM_PEER_URI_SAN% from the same certificate.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SigningCA } from "../../src/control-plane/ca/signing-ca.ts";
import { parsePrometheusText, type Sample } from "../../src/control-plane/telemetry/prometheus-parse.ts";
import { seededRandom } from "../../src/core/random.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { credentials, issue } from "../support/mesh-certs.ts";
import { waitFor } from "../support/wait.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { clientConfig, scrape, serverConfig } from "./two-hop.ts";

type Obj = Record<string, unknown>;
const PRODUCTPAGE = "spiffe://cluster.local/ns/default/sa/bookinfo-productpage";
const REVIEWS = "spiffe://cluster.local/ns/default/sa/bookinfo-reviews";
const SNI = "outbound_.9080_v2_.reviews.default.svc.cluster.local";

function find(text: string, labels: Record<string, string>): Sample[] {
  const out: Sample[] = [];
  for (const f of parsePrometheusText(text).values()) for (const s of f.samples) if (s.name === "istio_requests_total" && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
  return out;
}

describe("verified peer identity in Istio metrics", () => {
  let app: Upstream;
  let server: Sidecar;
  let client: Sidecar;
  let dir: string;
  let logPath: string;

  before(async () => {
    const ca = await SigningCA.selfSigned(null, "cluster.local");
    app = await startUpstream("reviews", (_req, res) => res.end("ok"));
    dir = mkdtempSync(join(tmpdir(), "amime-mtls-log-"));
    logPath = join(dir, "access.log");
    server = await Sidecar.start(serverConfig(app.port, { metricsPort: 0, accessLog: { format: "text", path: logPath, textFormat: "%REQ(:PATH)% %DOWNSTREAM_PEER_URI_SAN%\n" } }), { random: seededRandom(1), mesh: credentials(await issue(ca, "default", "bookinfo-reviews")) });
    const cc = clientConfig(server.ports()["inbound|9080"] as number, { metricsPort: 0 });
    const cluster = (cc.clusters as Obj[])[0]!;
    cluster.tls = { mode: "ISTIO_MUTUAL", sni: SNI, subjectAltNames: [REVIEWS], insecureSkipVerify: false };
    const endpoints = cc.endpoints as Record<string, Obj[]>;
    endpoints[cluster.name as string]![0]!.serviceAccount = REVIEWS;
    client = await Sidecar.start(cc, { random: seededRandom(2), mesh: credentials(await issue(ca, "default", "bookinfo-productpage")) });
  });

  after(async () => {
    await client.close(100);
    await server.close(100);
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("mTLS: source_principal is the client certificate's SPIFFE id and the policy mutual_tls, at the server; principals at the client", async () => {
    for (let i = 0; i < 2; i++) assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080" })).status, 200);
    const dst = await waitFor(async () => {
      const s = find(await scrape(server), { reporter: "destination", connection_security_policy: "mutual_tls" });
      return s[0]?.value === 2 ? s : null;
    }, { what: "the server sidecar to count the two mTLS requests" });
    assert.equal(dst.length, 1);
    assert.equal(dst[0]?.labels.source_principal, PRODUCTPAGE);
    assert.equal(dst[0]?.labels.destination_principal, REVIEWS);
    assert.equal(dst[0]?.labels.source_workload, "productpage-v1");
    const src = find(await scrape(client), { reporter: "source" });
    assert.equal(src.length, 1);
    assert.equal(src[0]?.labels.source_principal, PRODUCTPAGE);
    assert.equal(src[0]?.labels.destination_principal, REVIEWS);
    assert.equal(src[0]?.labels.connection_security_policy, "unknown");
  });

  it("plaintext with a peer header claiming the same identity: source_principal unknown, policy none", async () => {
    const forged = "workload=productpage-v1;ns=default;app=productpage;version=v1;svc=productpage;rev=v1;sa=bookinfo-productpage;td=cluster.local";
    assert.equal((await send(server.ports()["inbound|9080"] as number, { host: "reviews:9080", headers: { "x-amime-peer": forged } })).status, 200);
    const plain = await waitFor(async () => {
      const s = find(await scrape(server), { reporter: "destination", connection_security_policy: "none" });
      return s.length > 0 ? s : null;
    }, { what: "the server sidecar to count the plaintext request" });
    assert.equal(plain.length, 1);
    assert.equal(plain[0]?.value, 1);
    // The header may name the workload; it never makes a principal.
    assert.equal(plain[0]?.labels.source_workload, "productpage-v1");
    assert.equal(plain[0]?.labels.source_principal, "unknown");
    assert.equal(plain[0]?.labels.destination_principal, "unknown");
  });

  it("%DOWNSTREAM_PEER_URI_SAN% in the access log: the client certificate's SPIFFE id over mTLS, - in plaintext", async () => {
    assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080", path: "/via-mtls" })).status, 200);
    assert.equal((await send(server.ports()["inbound|9080"] as number, { host: "reviews:9080", path: "/plain" })).status, 200);
    await server.telemetry?.flush();
    const lines = readFileSync(logPath, "utf8").trimEnd().split("\n");
    assert.ok(lines.includes(`/via-mtls ${PRODUCTPAGE}`), lines.join("\n"));
    assert.ok(lines.includes("/plain -"), lines.join("\n"));
  });
});
