// VirtualService `tls` routes (SNI) → sniRoutes on outbound TCP listeners of TLS ports.
import assert from "node:assert/strict";
import { test } from "node:test";
import { translate } from "./index.ts";
import { sidecarProxy, snapshotFrom } from "./testing.ts";

const SE = (name: string, host: string, resolution: string, endpoints: string): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}}
spec:
  hosts: [${host}]
  location: MESH_EXTERNAL
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: ${resolution}
${endpoints}
---
`;

const TWO = SE("a", "a.example", "STATIC", "  endpoints: [{address: 127.0.0.1, ports: {tls: 9443}}]") + SE("b", "b.example", "DNS", "");

test("TLS ServiceEntries without VirtualService: each host routes its own SNI; one local port is shared", () => {
  const cfg = translate(snapshotFrom(TWO), sidecarProxy({ app: "client" }));
  const tcp = cfg.listeners.filter((l) => l.protocol === "tcp");
  assert.equal(tcp.length, 1);
  const l = tcp[0]!;
  assert.equal(l.name, "outbound_tcp|443|a.example");
  assert.deepEqual(l.sniRoutes, [
    { serverNames: ["a.example"], clusters: [{ cluster: "outbound|443||a.example", weight: 100 }] },
    { serverNames: ["b.example"], clusters: [{ cluster: "outbound|443||b.example", weight: 100 }] },
  ]);
  // No SNI match: the first host's default route.
  assert.deepEqual(l.tcpRoute, { clusters: [{ cluster: "outbound|443||a.example", weight: 100 }] });
  assert.equal(cfg.clusters.find((c) => c.name === "outbound|443||b.example")?.protocol, "tcp");
});

test("tls rules: sniHosts and port matches, weighted destinations, rules for other ports and sources skipped", () => {
  const vs = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tls-split}
spec:
  hosts: [a.example, "*.wild.example"]
  tls:
  - match: [{port: 8443, sniHosts: [a.example]}]
    route: [{destination: {host: b.example}}]
  - match: [{sniHosts: [a.example], sourceLabels: {app: other}}]
    route: [{destination: {host: b.example}}]
  - match: [{port: 443, sniHosts: [A.example, x.wild.example]}]
    route:
    - {destination: {host: a.example}, weight: 75}
    - {destination: {host: b.example}, weight: 25}
    - {destination: {host: b.example}, weight: 0}
`;
  const cfg = translate(snapshotFrom(TWO + vs), sidecarProxy({ app: "client" }));
  const l = cfg.listeners.find((x) => x.name === "outbound_tcp|443|a.example");
  assert.deepEqual(l?.sniRoutes, [
    {
      serverNames: ["a.example", "x.wild.example"],
      clusters: [
        { cluster: "outbound|443||a.example", weight: 75 },
        { cluster: "outbound|443||b.example", weight: 25 },
      ],
    },
    { serverNames: ["b.example"], clusters: [{ cluster: "outbound|443||b.example", weight: 100 }] },
  ]);
});

test("plain TCP ports get no sniRoutes", () => {
  const se = SE("db", "db.example", "STATIC", "  endpoints: [{address: 127.0.0.1}]").replace("name: tls, protocol: TLS", "name: tcp, protocol: TCP");
  const cfg = translate(snapshotFrom(se), sidecarProxy({ app: "client" }));
  const l = cfg.listeners.find((x) => x.name === "outbound_tcp|443|db.example");
  assert.ok(l);
  assert.equal(l.sniRoutes, undefined);
});

test("Gateway TLS PASSTHROUGH server: a TCP listener routed by the bound VirtualServices' tls rules", () => {
  const gw = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*.example"]
    tls: {mode: PASSTHROUGH}
  - port: {number: 8443, name: tls-simple, protocol: TLS}
    hosts: ["*.example"]
    tls: {mode: SIMPLE, serverCertificate: /c, privateKey: /k}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pass}
spec:
  hosts: [a.example, b.example]
  gateways: [gw]
  tls:
  - match: [{port: 443, sniHosts: [a.example]}]
    route: [{destination: {host: a.example}}]
  - match: [{port: 443, sniHosts: [b.example]}]
    route: [{destination: {host: b.example}}]
---
`;
  const proxy = { id: "router~ingress-0.default", kind: "gateway" as const, workload: "ingress", namespace: "default", labels: { istio: "ingressgateway" }, serviceAccount: "gw", trustDomain: "cluster.local", ip: "127.0.0.1" };
  const cfg = translate(snapshotFrom(TWO + gw), proxy);
  const l = cfg.listeners.find((x) => x.name === "0.0.0.0_443");
  assert.deepEqual(l, {
    name: "0.0.0.0_443",
    direction: "gateway",
    address: "0.0.0.0",
    port: 443,
    protocol: "tcp",
    tcpRoute: { clusters: [] },
    sniRoutes: [
      { serverNames: ["a.example"], clusters: [{ cluster: "outbound|443||a.example", weight: 100 }] },
      { serverNames: ["b.example"], clusters: [{ cluster: "outbound|443||b.example", weight: 100 }] },
    ],
  });
  // TLS servers that are not PASSTHROUGH still get nothing.
  assert.equal(cfg.listeners.find((x) => x.name === "0.0.0.0_8443"), undefined);
});
