// TLS routes by SNI, passthrough: two ServiceEntries with TLS ports (STATIC endpoints) share one
// outbound TCP listener; the sidecar reads the ClientHello's server name and relays the bytes to
// the matching upstream, which terminates TLS with its own certificate (the sidecar has none).
// Clients: curl --resolve --cacert and openssl s_client -servername.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:https";
import { readFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { parseDocuments } from "../../src/config/parse.ts";
import { translate } from "../../src/control-plane/translate/index.ts";
import { buildSnapshot } from "../../src/model/snapshot.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { waitFor } from "../support/wait.ts";
import { closeServer, curlHttps, dial, listen, run } from "./harness.ts";
import { makePki, type Pki } from "./pki.ts";

/** a.example and b.example: HTTPS upstreams, each with its own certificate from one CA, answering
 *  `from-<name> <Host>`, and the STATIC ServiceEntries (TLS port 443) that point at them. */
async function startTlsUpstreams(): Promise<{ pki: Pki; serviceEntries: string; close(): Promise<void> }> {
  const names = ["a", "b"];
  const pki = await makePki({ a: ["a.example"], b: ["b.example"] });
  const servers = names.map((name) => {
    const leaf = pki.leaf(name);
    return createServer({ cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) }, (req, res) => {
      req.resume();
      res.end(`from-${name} ${req.headers.host}`);
    });
  });
  const ports = await Promise.all(servers.map((s) => listen(s)));
  const serviceEntries = names.map((name, i) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}}
spec:
  hosts: [${name}.example]
  location: MESH_EXTERNAL
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1, ports: {tls: ${ports[i]}}}]
---
`).join("");
  const close = async (): Promise<void> => {
    for (const s of servers) await closeServer(s);
    pki.cleanup();
  };
  return { pki, serviceEntries, close };
}

describe("TLS routes by SNI (passthrough)", () => {
  let upstreams: Awaited<ReturnType<typeof startTlsUpstreams>>;
  let sidecar: Sidecar;
  let port = 0;

  before(async () => {
    upstreams = await startTlsUpstreams();
    const { resources, diagnostics } = parseDocuments(upstreams.serviceEntries, "sni.yaml");
    assert.deepEqual(diagnostics.filter((d) => d.level === "error"), []);
    const snapshot = buildSnapshot(resources, { services: [], instances: [] }, { version: "1" });
    // Both hosts on one local port, as a single 443 listener would serve them (a free port: 0
    // cannot be shared, the HTTP outbound listener already claims 127.0.0.1:0).
    const probe = createNetServer();
    const shared = await listen(probe);
    await closeServer(probe);
    const cfg = translate(snapshot, {
      id: "sidecar~client.default",
      kind: "sidecar",
      workload: "client",
      namespace: "default",
      labels: { app: "client" },
      serviceAccount: "client",
      trustDomain: "cluster.local",
      ip: "127.0.0.1",
      outboundPort: 0,
      tcpPorts: { "a.example:443": shared, "b.example:443": shared },
    });
    sidecar = await Sidecar.start(cfg);
    port = sidecar.ports()["outbound_tcp|443|a.example"]!;
    assert.equal(port, shared);
  });

  after(async () => {
    await sidecar.close(100);
    await upstreams.close();
  });

  const curl = (host: string) => curlHttps(upstreams.pki.ca, host, port, "/x");

  it("curl: each server name reaches its own upstream, whose certificate verifies", async () => {
    const ra = await curl("a.example");
    assert.equal(ra.stderr, "");
    assert.equal(ra.stdout, `from-a a.example:${port}`);
    const rb = await curl("b.example");
    assert.equal(rb.stderr, "");
    assert.equal(rb.stdout, `from-b b.example:${port}`);
  });

  const sClient = (args: string[]) => run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", upstreams.pki.ca, ...args], "", 10_000);

  it("openssl s_client -servername: the upstream's own certificate comes back (no decryption in the sidecar)", async () => {
    const rb = await sClient(["-servername", "b.example", "-verify_return_error"]);
    assert.match(rb.stdout, /subject=CN ?= ?b\n/);
    assert.match(rb.stdout, /Verify return code: 0 \(ok\)/);
    const ra = await sClient(["-servername", "a.example", "-verify_return_error"]);
    assert.match(ra.stdout, /subject=CN ?= ?a\n/);
  });

  it("no SNI or an unknown name: the listener's default route (the first host)", async () => {
    const none = await sClient(["-noservername"]);
    assert.match(none.stdout, /subject=CN ?= ?a\n/);
    const other = await sClient(["-servername", "c.example"]);
    assert.match(other.stdout, /subject=CN ?= ?a\n/);
  });

  it("a client that resets in the middle of its ClientHello does not hurt the listener", async () => {
    const open = (): number => sidecar.listenerStats().find((l) => l.port === port)?.activeConnections ?? -1;
    const s = await dial(port);
    await waitFor(() => open() === 1, { what: "the listener to accept the connection" });
    await new Promise<void>((r) => s.write(Buffer.from([22, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3]), () => r()));
    s.resetAndDestroy();
    // The listener let go of the reset connection (whether or not it had read the partial hello).
    await waitFor(() => open() === 0, { what: "the listener to drop the reset connection" });
    assert.equal((await curl("b.example")).stdout, `from-b b.example:${port}`);
  });

  it("the cluster byte counters saw the handshakes (bytes relayed, not terminated)", () => {
    const sa = sidecar.runtime.clusters.get("outbound|443||a.example")!.stats;
    const sb = sidecar.runtime.clusters.get("outbound|443||b.example")!.stats;
    assert.ok(sa.upstream_cx_total >= 3 && sb.upstream_cx_total >= 2);
    assert.ok(sb.upstream_cx_rx_bytes_total > 200);
  });
});

describe("Gateway TLS PASSTHROUGH (translated)", () => {
  let upstreams: Awaited<ReturnType<typeof startTlsUpstreams>>;
  let gw: Sidecar;
  let port = 0;

  before(async () => {
    upstreams = await startTlsUpstreams();
    const yaml = `${upstreams.serviceEntries}
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*.example"]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pass}
spec:
  hosts: ["*.example"]
  gateways: [gw]
  tls:
  - match: [{sniHosts: [a.example]}]
    route: [{destination: {host: a.example}}]
  - match: [{sniHosts: [b.example]}]
    route: [{destination: {host: b.example}}]
`;
    const { resources, diagnostics } = parseDocuments(yaml, "gw.yaml");
    assert.deepEqual(diagnostics.filter((d) => d.level === "error"), []);
    const snapshot = buildSnapshot(resources, {
      services: [],
      instances: [{ name: "ingress", namespace: "default", labels: { istio: "ingressgateway" }, serviceAccount: "ingress", address: "127.0.0.1", ready: true, ports: { "443": 0 } }],
    }, { version: "1" });
    const cfg = translate(snapshot, { id: "router~ingress.default", kind: "gateway", workload: "ingress", namespace: "default", labels: { istio: "ingressgateway" }, serviceAccount: "ingress", trustDomain: "cluster.local", ip: "127.0.0.1", instanceName: "ingress" });
    gw = await Sidecar.start(cfg);
    port = gw.ports()["0.0.0.0_443"]!;
  });

  after(async () => {
    await gw.close(100);
    await upstreams.close();
  });

  it("curl through the gateway reaches each upstream by SNI; an unknown name is closed", async () => {
    const get = (host: string) => curlHttps(upstreams.pki.ca, host, port, "/");
    assert.equal((await get("a.example")).stdout, `from-a a.example:${port}`);
    assert.equal((await get("b.example")).stdout, `from-b b.example:${port}`);
    const c = await get("c.example");
    assert.equal(c.stdout, "");
    assert.notEqual(c.code, 0);
  });
});
