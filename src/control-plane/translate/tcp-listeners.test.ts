import assert from "node:assert/strict";
import { test } from "node:test";
import { translate } from "./index.ts";
import { inSubnet, outboundTcpPorts } from "./tcp-listeners.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

const DB = "db.default.svc.cluster.local";

test("a TCP service port gets an outbound TCP listener on tcpPorts[host:port] (else the service port) to its default cluster", () => {
  const snap = snapshotFrom(k8sService("db", "default", [{ name: "tcp-pg", port: 5432 }]) + k8sService("web"), [inst("db", "v1", "127.0.0.1")]);
  const cfg = translate(snap, sidecarProxy({ app: "client" }, "default", { tcpPorts: { [`${DB}:5432`]: 25432 } }));
  const l = cfg.listeners.find((x) => x.name === `outbound_tcp|5432|${DB}`);
  assert.deepEqual(l, { name: `outbound_tcp|5432|${DB}`, direction: "outbound", address: "127.0.0.1", port: 25432, protocol: "tcp", tcpRoute: { clusters: [{ cluster: `outbound|5432||${DB}`, weight: 100 }] } });
  // HTTP ports get none.
  assert.equal(cfg.listeners.filter((x) => x.name.startsWith("outbound_tcp|")).length, 1);
  const plain = translate(snap, sidecarProxy({ app: "client" }));
  assert.equal(plain.listeners.find((x) => x.name === `outbound_tcp|5432|${DB}`)?.port, 5432);
});

test("with a tcpPortPool, each TCP or TLS service port takes the next unused pool port; tcpPorts keep theirs; none left, no listener", () => {
  const se = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: google}
spec:
  hosts: [www.google.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: https, protocol: HTTPS}]
---
`;
  const snap = snapshotFrom(se + k8sService("db", "default", [{ name: "tcp-pg", port: 5432 }]) + k8sService("redis", "default", [{ name: "tcp-redis", port: 6379 }]) + k8sService("web"));
  const pool = [31000, 31001, 31002];
  const cfg = translate(snap, sidecarProxy({ app: "client" }, "default", { tcpPortPool: pool, tcpPorts: { [`${DB}:5432`]: 31000 } }));
  const ports = outboundTcpPorts(cfg.listeners);
  assert.equal(ports[`${DB}:5432`], 31000);
  // The other two share none of the service ports and none of each other's.
  assert.deepEqual(new Set([ports["redis.default.svc.cluster.local:6379"], ports["www.google.com:443"]]), new Set([31001, 31002]));
  assert.equal(Object.keys(ports).length, 3);
  // One pool port for three keys: the fixed one stays, the other two get no listener (never the service port).
  const short = translate(snap, sidecarProxy({ app: "client" }, "default", { tcpPortPool: [31000], tcpPorts: { [`${DB}:5432`]: 31000 } }));
  assert.deepEqual(outboundTcpPorts(short.listeners), { [`${DB}:5432`]: 31000 });
});

test("two services on one local port: the first host wins; a port taken by the proxy's own listener is skipped", () => {
  const snap = snapshotFrom(k8sService("a", "default", [{ name: "tcp", port: 6000 }]) + k8sService("b", "default", [{ name: "mysql", port: 6000 }]));
  const cfg = translate(snap, sidecarProxy({ app: "client" }));
  assert.deepEqual(cfg.listeners.filter((l) => l.protocol === "tcp").map((l) => l.name), ["outbound_tcp|6000|a.default.svc.cluster.local"]);
  const self = translate(snap, sidecarProxy({ app: "a" }));
  assert.deepEqual(self.listeners.filter((l) => l.protocol === "tcp").map((l) => l.name).sort(), ["inbound|6000"]);
});

const VS = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db}
spec:
  hosts: [db]
  tcp:
  - match: [{port: 5432, sourceLabels: {app: canary}}]
    route: [{destination: {host: db, subset: v2}}]
  - match: [{destinationSubnets: ["10.0.0.0/8"]}]
    route:
    - {destination: {host: db, subset: v1}, weight: 80}
    - {destination: {host: db, subset: v2}, weight: 20}
  - match: [{port: 9999}]
    route: [{destination: {host: other}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db}
spec:
  host: db
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
`;

test("VirtualService tcp rules: sourceLabels, destinationSubnets against service addresses, port, weights; no applicable rule → default cluster", () => {
  const svc = (ip: string): string => JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "db" }, spec: { clusterIP: ip, ports: [{ name: "tcp", port: 5432 }], selector: { app: "db" } } }) + "\n---\n";
  const route = (ip: string, labels: Record<string, string>) =>
    translate(snapshotFrom(VS + svc(ip)), sidecarProxy(labels)).listeners.find((l) => l.name === `outbound_tcp|5432|${DB}`)?.tcpRoute?.clusters;
  assert.deepEqual(route("10.1.2.3", { app: "canary" }), [{ cluster: `outbound|5432|v2|${DB}`, weight: 100 }]);
  assert.deepEqual(route("10.1.2.3", { app: "web" }), [{ cluster: `outbound|5432|v1|${DB}`, weight: 80 }, { cluster: `outbound|5432|v2|${DB}`, weight: 20 }]);
  assert.deepEqual(route("192.168.0.9", { app: "web" }), [{ cluster: `outbound|5432||${DB}`, weight: 100 }]);
});

test("TCP gateway server → TCP listener routed by the bound VirtualService's tcp rules", () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 31400, name: tcp, protocol: TCP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-echo}
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp: [{match: [{port: 31400}], route: [{destination: {host: db, port: {number: 5432}}}]}]
---
` + k8sService("db", "default", [{ name: "tcp", port: 5432 }]);
  const cfg = translate(snapshotFrom(yaml), { ...sidecarProxy({ istio: "ingressgateway" }), kind: "gateway" });
  assert.deepEqual(cfg.listeners.find((l) => l.name === "0.0.0.0_31400"), { name: "0.0.0.0_31400", direction: "gateway", address: "0.0.0.0", port: 31400, protocol: "tcp", tcpRoute: { clusters: [{ cluster: `outbound|5432||${DB}`, weight: 100 }] } });
});

test("TLS gateway servers that terminate (SIMPLE, MUTUAL, ISTIO_MUTUAL) → TCP listeners with the server's tls, routed by tcp rules; PASSTHROUGH keeps none", () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - {port: {number: 9443, name: tls-mesh, protocol: TLS}, hosts: ["*"], tls: {mode: ISTIO_MUTUAL}}
  - {port: {number: 9444, name: tls-simple, protocol: TLS}, hosts: ["db.example.com"], tls: {mode: SIMPLE, credentialName: db-cert}}
  - {port: {number: 9445, name: tls-mutual, protocol: TLS}, hosts: ["*"], tls: {mode: MUTUAL, serverCertificate: /s.pem, privateKey: /k.pem, caCertificates: /ca.pem}}
  - {port: {number: 9446, name: tls-nocert, protocol: TLS}, hosts: ["*"], tls: {mode: SIMPLE}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db}
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp: [{route: [{destination: {host: db, port: {number: 5432}}}]}]
---
` + k8sService("db", "default", [{ name: "tcp", port: 5432 }]);
  const cfg = translate(snapshotFrom(yaml), { ...sidecarProxy({ istio: "ingressgateway" }), kind: "gateway" });
  const at = (port: number) => cfg.listeners.find((l) => l.name === `0.0.0.0_${port}`);
  const route = { clusters: [{ cluster: `outbound|5432||${DB}`, weight: 100 }] };
  assert.deepEqual(at(9443), { name: "0.0.0.0_9443", direction: "gateway", address: "0.0.0.0", port: 9443, protocol: "tcp", tcpRoute: route, tls: { servers: [{ hosts: ["*"], mode: "ISTIO_MUTUAL" }] } });
  assert.deepEqual(at(9444)?.tls, { servers: [{ hosts: ["db.example.com"], mode: "SIMPLE", credentialName: "db-cert" }] });
  assert.deepEqual(at(9445)?.tls, { servers: [{ hosts: ["*"], mode: "MUTUAL", serverCertificate: "/s.pem", privateKey: "/k.pem", caCertificates: "/ca.pem" }] });
  // No certificate: nothing to terminate with (validation rejects it), so no listener.
  assert.equal(at(9446), undefined);
});

test("inSubnet: IPv4 CIDR containment, bare addresses, bad input never matches", () => {
  const table: [string, string, boolean][] = [
    ["10.1.2.3", "10.0.0.0/8", true], ["11.1.2.3", "10.0.0.0/8", false], ["10.1.2.3", "10.1.2.3", true], ["10.1.2.3", "0.0.0.0/0", true],
    ["192.168.1.255", "192.168.1.0/24", true], ["192.168.2.0", "192.168.1.0/24", false], ["10.1.2.3", "10.0.0.0/33", false], ["x", "10.0.0.0/8", false],
    ["::1", "::1", true],
  ];
  for (const [a, s, want] of table) assert.equal(inSubnet(a, s), want, `${a} in ${s}`);
});

test("an undeclared inbound port gets an auto listener (detection): routes for HTTP, tcpRoute for the rest", () => {
  const snap = snapshotFrom(k8sService("u", "default", [{ name: "", port: 7000 }, { name: "http", port: 7001 }]), [inst("u", "v1", "127.0.0.1")]);
  const cfg = translate(snap, sidecarProxy({ app: "u" }));
  const sniffed = cfg.listeners.find((l) => l.name === "inbound|7000");
  assert.equal(sniffed?.protocol, "auto");
  assert.equal(sniffed?.routeConfigName, "inbound");
  assert.deepEqual(sniffed?.tcpRoute, { clusters: [{ cluster: "inbound|7000||", weight: 100 }] });
  assert.equal(cfg.listeners.find((l) => l.name === "inbound|7001")?.protocol, "http");
});
