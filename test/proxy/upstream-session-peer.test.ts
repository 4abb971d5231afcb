// Client-side TLS session resumption and the server identity it carries (src/proxy/tls/server-peer.ts):
// a resumed upstream mTLS connection skips the client's checks, so (1) it must still report the
// server certificate's identity (kept with the session, not parsed again; before, getPeerCertificate()
// on a resumed socket gave no SANs: "unknown"), and (2) only sessions of connections that passed the
// checks may be resumed (TLS 1.2 sessions are made during the handshake, before the client's checks).
// Real sidecars and certificates from a real mesh CA (SigningCA); the TLS 1.2 server is node:tls.
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from "node:tls";
import { SigningCA } from "../../src/control-plane/ca/signing-ca.ts";
import { parsePrometheusText } from "../../src/control-plane/telemetry/prometheus-parse.ts";
import { seededRandom } from "../../src/core/random.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import type { ActiveCertificate } from "../../src/proxy/identity/workload-certificate.ts";
import { connectUpstreamTls } from "../../src/proxy/tls/upstream-tls.ts";
import { credentials, issue } from "../support/mesh-certs.ts";
import { waitFor } from "../support/wait.ts";
import { send, startUpstream, type Upstream } from "./sidecar-harness.ts";
import { clientConfig, scrape, serverConfig } from "../telemetry/two-hop.ts";

type Obj = Record<string, unknown>;
const SERVER_ID = "spiffe://cluster.local/ns/default/sa/reviews-from-cert";

/** The two-hop client config with ISTIO_MUTUAL toward `port`, one request per upstream connection. */
function oneRequestPerConnection(port: number, subjectAltNames: string[]): Obj {
  const cc = clientConfig(port, { metricsPort: 0 });
  const cluster = (cc.clusters as Obj[])[0]!;
  cluster.tls = { mode: "ISTIO_MUTUAL", subjectAltNames, insecureSkipVerify: false };
  cluster.connectionPool = { maxRequestsPerConnection: 1 };
  for (const eps of Object.values(cc.endpoints as Record<string, Obj[]>)) for (const e of eps) delete e.serviceAccount;
  return cc;
}

describe("upstream TLS session resumption", () => {
  let ca: SigningCA;
  let serverCert: ActiveCertificate;
  let clientMesh: ReturnType<typeof credentials>;
  let app: Upstream;

  before(async () => {
    ca = await SigningCA.selfSigned(null, "cluster.local");
    serverCert = await issue(ca, "default", "reviews-from-cert");
    clientMesh = credentials(await issue(ca, "default", "bookinfo-productpage"));
    app = await startUpstream("reviews", (_req, res) => res.end("ok"));
  });
  after(async () => {
    await app.close();
  });

  it("resumed connections report the server certificate's identity (destination_principal) as the first one did", async () => {
    const server = await Sidecar.start(serverConfig(app.port, { metricsPort: 0 }), { random: seededRandom(1), mesh: credentials(serverCert) });
    const port = server.ports()["inbound|9080"] as number;
    // No SANs expected and no identity on the endpoint: the label can only come from the handshake.
    const client = await Sidecar.start(oneRequestPerConnection(port, []), { random: seededRandom(2), mesh: clientMesh });
    const inbound = () => server.listenerStats().find((l) => l.name === "inbound|9080")!;
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080" })).status, 200);
        await waitFor(() => inbound().activeConnections === 0, { what: "the one-request connection closed" });
      }
      assert.equal(inbound().sslSessionReused, 2, "the second and third connections resumed");
      const series = await waitFor(async () => {
        const s = [...parsePrometheusText(await scrape(client)).values()].flatMap((f) => f.samples).filter((x) => x.name === "istio_requests_total" && x.labels.reporter === "source");
        return s.reduce((n, x) => n + x.value, 0) === 3 ? s : null;
      }, { what: "the client to count three requests" });
      assert.deepEqual(
        series.map((s) => [s.labels.destination_principal, s.value]),
        [[SERVER_ID, 3]],
      );
    } finally {
      await client.close(100);
      await server.close(100);
    }
  });

  it("TLS 1.2: the session of a connection whose server failed the SAN check is not resumed into", async () => {
    // A mesh server (valid chain) with an identity the client does not expect, speaking TLS 1.2:
    // its session exists before the client's checks run.
    let handshakes = 0;
    let resumed = 0;
    let served = 0;
    const tls12: TlsServer = createTlsServer(
      { cert: serverCert.certChain.join(""), key: serverCert.keyPem, ca: serverCert.trustBundle.join(""), requestCert: true, rejectUnauthorized: true, maxVersion: "TLSv1.2", ALPNProtocols: ["istio-peer-exchange", "istio", "http/1.1"] },
      (t: TLSSocket) => {
        handshakes++;
        if (t.isSessionReused()) resumed++;
        t.on("data", () => {
          served++;
          t.end("HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: close\r\n\r\nimpostor");
        });
        t.on("error", () => undefined);
      },
    );
    tls12.on("tlsClientError", () => undefined);
    await new Promise<void>((resolve) => tls12.listen(0, "127.0.0.1", resolve));
    const port = (tls12.address() as AddressInfo).port;
    const client = await Sidecar.start(oneRequestPerConnection(port, ["spiffe://cluster.local/ns/default/sa/bookinfo-reviews"]), { random: seededRandom(3), mesh: clientMesh });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await send(client.ports().outbound as number, { host: "reviews:9080" })).status, 503, `request ${i + 1}`);
      assert.ok(handshakes >= 3, `the server completed ${handshakes} handshakes`);
      assert.equal(resumed, 0, "no connection resumed an unverified session");
      assert.equal(served, 0, "nothing was sent to the impostor");
    } finally {
      await client.close(100);
      await new Promise<void>((resolve) => tls12.close(() => resolve()));
    }
  });

  it("a deny list naming the server closes a resumed upstream connection too", async () => {
    let resumed = 0;
    const server: TlsServer = createTlsServer({ cert: serverCert.certChain.join(""), key: serverCert.keyPem, ca: serverCert.trustBundle.join(""), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ["istio-peer-exchange", "istio"] }, (t: TLSSocket) => {
      if (t.isSessionReused()) resumed++;
      t.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const net = { host: "127.0.0.1", port: (server.address() as AddressInfo).port };
    const tls = { mode: "ISTIO_MUTUAL" as const, subjectAltNames: [SERVER_ID], insecureSkipVerify: false };
    const mesh = credentials(await issue(ca, "default", "bookinfo-productpage"));
    const dialed: Socket[] = [];
    const dial = (): Socket => {
      const s = connectUpstreamTls(net, tls, { address: net.host }, mesh);
      dialed.push(s);
      // The TLS 1.3 ticket comes after the handshake, read only while the socket reads.
      s.resume();
      return s;
    };
    try {
      const first = dial();
      // Wait for the ticket, so the next dial can resume.
      await Promise.all([once(first, "secureConnect"), once(first, "session")]);
      first.destroy();
      const second = dial();
      await once(second, "secureConnect");
      assert.equal((second as TLSSocket).isSessionReused(), true);
      await waitFor(() => resumed === 1, { what: "the server to see the resumed handshake" });
      const closed = once(second, "close");
      assert.equal(mesh.setDenyList({ serials: [], identities: [SERVER_ID] }), 1, "the resumed connection is closed");
      await closed;
    } finally {
      for (const s of dialed) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
