// The client side's destination_principal comes from the server certificate its upstream
// connection verified (Istio: the upstream peer's URI SAN), as source_principal does at the
// server: two sidecars with real mesh certificates (SigningCA) talk ISTIO_MUTUAL over HTTP/1.1,
// HTTP/2 and TCP. The client's endpoints carry no identity and its clusters no subjectAltNames,
// so the only place the label can come from is the handshake; the server's certificate names a
// service account no config mentions. The client's access log prints %UPSTREAM_PEER_URI_SAN%.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SigningCA } from "../../src/control-plane/ca/signing-ca.ts";
import { parsePrometheusText, type Sample } from "../../src/control-plane/telemetry/prometheus-parse.ts";
import { seededRandom } from "../../src/core/random.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, listen, run } from "../protocols/harness.ts";
import { credentials, issue } from "../support/mesh-certs.ts";
import { waitFor } from "../support/wait.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { clientConfig, scrape, serverConfig } from "./two-hop.ts";

type Obj = Record<string, unknown>;
/** The server's certificate: an account the client's config never names. */
const SERVER_ID = "spiffe://cluster.local/ns/default/sa/reviews-from-cert";
const CLIENT_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-productpage";
const DB = { host: "db.default.svc.cluster.local", name: "db", namespace: "default", port: 5432 };

function find(text: string, name: string, labels: Record<string, string>): Sample[] {
  const out: Sample[] = [];
  for (const f of parsePrometheusText(text).values()) for (const s of f.samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
  return out;
}

/** The client config with ISTIO_MUTUAL toward the server and no expected identity anywhere. */
function mtlsClient(serverPort: number, protocol: "http1" | "http2", logPath?: string): Obj {
  const cc = clientConfig(serverPort, { metricsPort: 0, ...(logPath !== undefined ? { accessLog: { format: "text", path: logPath, textFormat: "%REQ(:PATH)% %UPSTREAM_PEER_URI_SAN%\n" } } : {}) });
  const cluster = (cc.clusters as Obj[])[0]!;
  cluster.protocol = protocol;
  cluster.tls = { mode: "ISTIO_MUTUAL", subjectAltNames: [], insecureSkipVerify: false };
  for (const eps of Object.values(cc.endpoints as Record<string, Obj[]>)) for (const e of eps) delete e.serviceAccount;
  return cc;
}

describe("client-side destination_principal from the verified upstream certificate", () => {
  let ca: SigningCA;
  let app: Upstream;
  let server: Sidecar;
  let h1Client: Sidecar;
  let h2Client: Sidecar;
  let plainClient: Sidecar;
  let dir: string;
  let logPath: string;

  before(async () => {
    ca = await SigningCA.selfSigned(null, "cluster.local");
    app = await startUpstream("reviews", (_req, res) => res.end("ok"));
    dir = mkdtempSync(join(tmpdir(), "amime-upstream-principal-"));
    logPath = join(dir, "client.log");
    server = await Sidecar.start(serverConfig(app.port, { metricsPort: 0 }), { random: seededRandom(1), mesh: credentials(await issue(ca, "default", "reviews-from-cert")) });
    const port = server.ports()["inbound|9080"] as number;
    const mesh = credentials(await issue(ca, "default", "bookinfo-productpage"));
    h1Client = await Sidecar.start(mtlsClient(port, "http1", logPath), { random: seededRandom(2), mesh });
    h2Client = await Sidecar.start(mtlsClient(port, "http2"), { random: seededRandom(3), mesh });
    // The same hop in plaintext: no certificate verified, so no principal.
    plainClient = await Sidecar.start(clientConfig(port, { metricsPort: 0 }), { random: seededRandom(4) });
  });

  after(async () => {
    await h1Client.close(100);
    await h2Client.close(100);
    await plainClient.close(100);
    await server.close(100);
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, pick] of [
    ["HTTP/1.1", () => h1Client],
    ["HTTP/2", () => h2Client],
  ] as const) {
    it(`${name} over mTLS: reporter=source carries the server certificate's SPIFFE id`, async () => {
      const client = pick();
      for (let i = 0; i < 3; i++) assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080", path: "/p" })).status, 200);
      const src = await waitFor(async () => {
        const s = find(await scrape(client), "istio_requests_total", { reporter: "source" });
        return s[0]?.value === 3 ? s : null;
      }, { what: `the ${name} client sidecar to count its three requests` });
      assert.equal(src.length, 1);
      assert.equal(src[0]?.labels.destination_principal, SERVER_ID);
      assert.equal(src[0]?.labels.source_principal, CLIENT_ID);
      assert.equal(src[0]?.labels.response_code, "200");
    });
  }

  it("plaintext hop: destination_principal unknown", async () => {
    assert.equal((await send(plainClient.ports().outbound as number, { host: "reviews:9080" })).status, 200);
    const src = await waitFor(async () => {
      const s = find(await scrape(plainClient), "istio_requests_total", { reporter: "source" });
      return s.length > 0 ? s : null;
    }, { what: "the plaintext client sidecar to count its request" });
    assert.equal(src[0]?.labels.destination_principal, "unknown");
  });

  it("%UPSTREAM_PEER_URI_SAN% in the client's access log", async () => {
    assert.equal((await send(h1Client.ports().outbound as number, { host: "reviews:9080", path: "/logged" })).status, 200);
    await h1Client.telemetry?.flush();
    const lines = readFileSync(logPath, "utf8").trimEnd().split("\n");
    assert.ok(lines.includes(`/logged ${SERVER_ID}`), lines.join("\n"));
  });
});

describe("client-side destination_principal on a TCP hop over mTLS", () => {
  let echo: Server;
  let server: Sidecar;
  let client: Sidecar;
  let clientPort = 0;

  before(async () => {
    const ca = await SigningCA.selfSigned(null, "cluster.local");
    echo = createServer({ allowHalfOpen: true }, (s: Socket) => {
      const chunks: Buffer[] = [];
      s.on("data", (b: Buffer) => chunks.push(b));
      s.on("end", () => s.end(`echo:${Buffer.concat(chunks).toString()}`));
      s.on("error", () => undefined);
    });
    const echoPort = await listen(echo);
    const conn = { lb: { policy: "ROUND_ROBIN" }, connectionPool: {}, discovery: "eds", protocol: "tcp" };
    const node = (workload: string, sa: string): Obj => ({ id: `sidecar~${workload}-0.default`, kind: "sidecar", workload, namespace: "default", labels: { app: workload }, serviceAccount: sa, trustDomain: "cluster.local", ip: "127.0.0.1" });
    server = await Sidecar.start(
      {
        version: "1",
        node: node("db-v1", "reviews-from-cert"),
        listeners: [{ name: "inbound|5432", direction: "inbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "inbound|5432||", weight: 100 }] } }],
        routes: [],
        clusters: [{ name: "inbound|5432||", direction: "inbound", service: DB, ...conn }],
        endpoints: { "inbound|5432||": [{ address: "127.0.0.1", port: echoPort, weight: 1, labels: {}, healthy: true }] },
        telemetry: { metricsPort: 0 },
      },
      { random: seededRandom(1), mesh: credentials(await issue(ca, "default", "reviews-from-cert")) },
    );
    const cluster = `outbound|5432||${DB.host}`;
    client = await Sidecar.start(
      {
        version: "1",
        node: node("app-v1", "bookinfo-productpage"),
        listeners: [{ name: "outbound_tcp", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster, weight: 100 }] } }],
        routes: [],
        clusters: [{ name: cluster, direction: "outbound", service: DB, ...conn, tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [], insecureSkipVerify: false } }],
        endpoints: { [cluster]: [{ address: "127.0.0.1", port: server.ports()["inbound|5432"], weight: 1, labels: { app: "db" }, healthy: true, workload: "db-v1-0" }] },
        telemetry: { metricsPort: 0 },
      },
      { random: seededRandom(2), mesh: credentials(await issue(ca, "default", "bookinfo-productpage")) },
    );
    clientPort = client.ports().outbound_tcp!;
  });

  after(async () => {
    await client.close(100);
    await server.close(100);
    await closeServer(echo);
  });

  it("nc through both sidecars: the client's TCP series names the server certificate, bytes counted from the first", async () => {
    const r = await run("nc", ["-N", "127.0.0.1", String(clientPort)], "hello");
    assert.equal(r.stdout, "echo:hello");
    const closed = await waitFor(async () => {
      const s = find(await scrape(client), "istio_tcp_connections_closed_total", { reporter: "source" });
      return s[0]?.value === 1 ? s : null;
    }, { what: "the client sidecar to count the closed connection" });
    assert.equal(closed.length, 1);
    assert.equal(closed[0]?.labels.destination_principal, SERVER_ID);
    assert.equal(closed[0]?.labels.source_principal, CLIENT_ID);
    const text = await scrape(client);
    assert.equal(find(text, "istio_tcp_connections_opened_total", { reporter: "source", destination_principal: SERVER_ID })[0]?.value, 1);
    assert.equal(find(text, "istio_tcp_received_bytes_total", { reporter: "source", destination_principal: SERVER_ID })[0]?.value, "hello".length);
    // The server side names the client from its certificate (the same handshake, seen from there).
    const dst = find(await scrape(server), "istio_tcp_connections_opened_total", { reporter: "destination" });
    assert.equal(dst[0]?.labels.source_principal, CLIENT_ID);
  });
});
