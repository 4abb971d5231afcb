import assert from "node:assert/strict";
import { test } from "node:test";
import type { Service } from "../../model/registry.ts";
import { translate } from "./index.ts";
import { findVhost, forwardOf, inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";
import { serviceDomains } from "./virtual-hosts.ts";

function svc(host: string, extra: Partial<Service> = {}): Service {
  return { host, name: host.split(".")[0]!, namespace: "default", origin: "t", kind: "kubernetes", ports: [], resolution: "STATIC", location: "MESH_INTERNAL", exportTo: ["*"], addresses: [], subjectAltNames: [], ...extra };
}

test("service domains follow Istio's alt-host generation", () => {
  const cases: [string, Service, number, string, string[]][] = [
    ["same namespace, port 80 keeps bare names", svc("web.default.svc.cluster.local"), 80, "default",
      ["web.default.svc.cluster.local", "web.default.svc.cluster.local:80", "web", "web:80", "web.default.svc", "web.default.svc:80", "web.default", "web.default:80"]],
    ["other namespace: no bare name", svc("web.default.svc.cluster.local"), 80, "other",
      ["web.default.svc.cluster.local", "web.default.svc.cluster.local:80", "web.default.svc", "web.default.svc:80", "web.default", "web.default:80"]],
    ["non-80 port: only forms with the port", svc("web.default.svc.cluster.local"), 8080, "default",
      ["web.default.svc.cluster.local:8080", "web:8080", "web.default.svc:8080", "web.default:8080"]],
    ["external host: no short forms; addresses added", svc("api.example.com", { kind: "service-entry", addresses: ["240.0.0.1"] }), 80, "default",
      ["api.example.com", "api.example.com:80", "240.0.0.1", "240.0.0.1:80"]],
  ];
  for (const [name, s, port, ns, want] of cases) assert.deepEqual(serviceDomains(s, port, ns, "cluster.local"), want, name);
});

test("only HTTP-ish ports get virtual hosts; TCP ports still get clusters", () => {
  const yaml = k8sService("db", "default", [{ name: "tcp-mysql", port: 3306 }, { name: "http-admin", port: 8080 }, { name: "grpc", port: 9090 }, { name: "unnamed", port: 7000 }]);
  const cfg = translate(snapshotFrom(yaml, [inst("db", "v1", "10.0.0.5")]), sidecarProxy({ app: "client" }));
  const outbound = cfg.routes.find((r) => r.name === "outbound")!;
  assert.deepEqual(outbound.virtualHosts.map((v) => v.name), ["db.default.svc.cluster.local:7000", "db.default.svc.cluster.local:8080", "db.default.svc.cluster.local:9090", "allow_any"]);
  const proto = Object.fromEntries(cfg.clusters.filter((c) => c.service).map((c) => [c.service!.port, c.protocol]));
  assert.deepEqual(proto, { 3306: "tcp", 7000: "http1", 8080: "http1", 9090: "http2" });
});

test("catch-all: passthrough by default, 502 under REGISTRY_ONLY (mesh or Sidecar)", () => {
  const allow = translate(snapshotFrom(k8sService("a")), sidecarProxy({ app: "client" }));
  const any = findVhost(allow, "allow_any")!;
  assert.deepEqual(any.domains, ["*"]);
  assert.equal(forwardOf(any.routes[0]).clusters[0]!.cluster, "PassthroughCluster");
  assert.equal(allow.clusters.find((c) => c.name === "PassthroughCluster")?.discovery, "original_dst");
  const strict = translate(snapshotFrom(k8sService("a"), [], { mesh: { outboundTrafficPolicy: "REGISTRY_ONLY" } }), sidecarProxy({ app: "client" }));
  assert.deepEqual(findVhost(strict, "block_all")!.routes[0]!.action, { kind: "direct", status: 502 });
  assert.equal(strict.clusters.some((c) => c.name === "PassthroughCluster"), false);
  const sidecar = JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "Sidecar", metadata: { name: "default" }, spec: { outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } } });
  const viaSidecar = translate(snapshotFrom(k8sService("a") + sidecar), sidecarProxy({ app: "client" }));
  assert.ok(findVhost(viaSidecar, "block_all"));
});

test("a VirtualService host that is no service still gets a virtual host", () => {
  const vs = JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "alias" }, spec: { hosts: ["shop.example.com"], http: [{ route: [{ destination: { host: "a", port: { number: 9080 } } }] }] } });
  const cfg = translate(snapshotFrom(k8sService("a") + vs), sidecarProxy({ app: "client" }));
  const vh = findVhost(cfg, "shop.example.com:80")!;
  assert.deepEqual(vh.domains, ["shop.example.com", "shop.example.com:80"]);
  assert.equal(forwardOf(vh.routes[0]).clusters[0]!.cluster, "outbound|9080||a.default.svc.cluster.local");
});

test("gateway: server hosts ∩ VirtualService hosts, namespace-qualified gateway names, httpsRedirect", () => {
  const gw = (name: string, ns: string, servers: object[]) => JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name, namespace: ns }, spec: { selector: { istio: "ingressgateway" }, servers } }) + "\n---\n";
  const vs = (name: string, hosts: string[], gateways: string[], subset: string) => JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name }, spec: { hosts, gateways, http: [{ route: [{ destination: { host: "a", subset } }] }] } }) + "\n---\n";
  const yaml = k8sService("a") +
    gw("public", "istio-system", [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*.example.com"] }, { port: { number: 8443, name: "https", protocol: "HTTPS" }, hosts: ["*"] }]) +
    gw("redirect", "default", [{ port: { number: 81, name: "http", protocol: "HTTP" }, hosts: ["default/*"], tls: { httpsRedirect: true } }]) +
    vs("shop", ["shop.example.com", "other.org"], ["istio-system/public", "redirect"], "v1") +
    vs("wild", ["*"], ["istio-system/public"], "v2") +
    vs("unbound", ["shop.example.com"], ["public"], "v3");
  const cfg = translate(snapshotFrom(yaml), { id: "router~gw.istio-system", kind: "gateway", workload: "gw", namespace: "istio-system", labels: { istio: "ingressgateway" }, serviceAccount: "gw", trustDomain: "cluster.local", ip: "10.0.0.1" });
  // The HTTPS server is not translated (no TLS termination in listeners yet).
  assert.deepEqual(cfg.listeners.map((l) => l.port), [80, 81]);
  const r80 = cfg.routes.find((r) => r.name === "http.80")!;
  assert.deepEqual(r80.virtualHosts.map((v) => [v.name, v.domains]), [
    ["*.example.com:80", ["*.example.com", "*.example.com:80"]],
    ["shop.example.com:80", ["shop.example.com", "shop.example.com:80"]],
  ]);
  // `public` in the VS's own namespace (default) is another gateway: VS "unbound" never applies.
  assert.deepEqual(r80.virtualHosts[1]!.routes.map((r) => forwardOf(r).clusters[0]!.cluster), ["outbound|9080|v1|a.default.svc.cluster.local"]);
  assert.deepEqual(r80.virtualHosts[0]!.routes.map((r) => forwardOf(r).clusters[0]!.cluster), ["outbound|9080|v2|a.default.svc.cluster.local"]);
  const r81 = cfg.routes.find((r) => r.name === "http.81")!;
  assert.deepEqual(r81.virtualHosts.map((v) => v.routes[0]!.action), [{ kind: "redirect", scheme: "https", code: 301 }, { kind: "redirect", scheme: "https", code: 301 }]);
});
