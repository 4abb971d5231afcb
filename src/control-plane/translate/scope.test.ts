import assert from "node:assert/strict";
import { test } from "node:test";
import { translate } from "./index.ts";
import { buildScope } from "./scope.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

const doc = (kind: string, name: string, ns: string, spec: object, annotations?: Record<string, string>) =>
  JSON.stringify({ apiVersion: kind === "Service" ? "v1" : "networking.istio.io/v1", kind, metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) }, spec }) + "\n---\n";

test("exportTo and Sidecar egress hosts decide which services a proxy sees", () => {
  const yaml = k8sService("a", "ns1") + k8sService("b", "ns2") +
    doc("Service", "private", "ns2", { ports: [{ name: "http", port: 80 }], selector: { app: "p" } }, { "networking.istio.io/exportTo": "." }) +
    doc("ServiceEntry", "ext", "ns2", { hosts: ["api.example.com"], ports: [{ number: 443, name: "tls", protocol: "TLS" }], resolution: "DNS", exportTo: ["ns1"] });
  const hosts = (ns: string, extra = "") => buildScope(snapshotFrom(yaml + extra), sidecarProxy({ app: "c" }, ns)).services.map((s) => s.host);
  assert.deepEqual(hosts("ns1"), ["a.ns1.svc.cluster.local", "api.example.com", "b.ns2.svc.cluster.local"]);
  assert.deepEqual(hosts("ns2"), ["a.ns1.svc.cluster.local", "b.ns2.svc.cluster.local", "private.ns2.svc.cluster.local"]);
  const sidecar = doc("Sidecar", "default", "ns1", { egress: [{ hosts: ["./*", "ns2/b.ns2.svc.cluster.local"] }] });
  assert.deepEqual(hosts("ns1", sidecar), ["a.ns1.svc.cluster.local", "b.ns2.svc.cluster.local"]);
  // A workload-selecting Sidecar beats the namespace default; the root namespace default applies last.
  const selecting = doc("Sidecar", "only-a", "ns1", { workloadSelector: { labels: { app: "c" } }, egress: [{ hosts: ["ns1/*"] }] });
  assert.deepEqual(hosts("ns1", sidecar + selecting), ["a.ns1.svc.cluster.local"]);
  const root = doc("Sidecar", "default", "istio-system", { egress: [{ hosts: ["*/api.example.com"] }] });
  assert.deepEqual(hosts("ns1", root), ["api.example.com"]);
});

test("DestinationRule lookup: proxy namespace, then service namespace, then root; workloadSelector applies to its workloads", () => {
  const dr = (name: string, ns: string, simple: string, extra: object = {}) => doc("DestinationRule", name, ns, { host: "a.ns1.svc.cluster.local", trafficPolicy: { loadBalancer: { simple } }, ...extra });
  const lb = (yaml: string, ns = "client", labels: Record<string, string> = { app: "c" }) =>
    translate(snapshotFrom(k8sService("a", "ns1") + yaml, [inst("a", "v1", "10.0.0.1", { namespace: "ns1" })]), sidecarProxy(labels, ns)).clusters.find((c) => c.name === "outbound|9080||a.ns1.svc.cluster.local")!.lb.policy;
  assert.equal(lb(""), "LEAST_REQUEST");
  assert.equal(lb(dr("root", "istio-system", "RANDOM")), "RANDOM");
  assert.equal(lb(dr("root", "istio-system", "RANDOM") + dr("svc", "ns1", "ROUND_ROBIN")), "ROUND_ROBIN");
  assert.equal(lb(dr("root", "istio-system", "RANDOM") + dr("svc", "ns1", "ROUND_ROBIN") + dr("mine", "client", "PASSTHROUGH")), "PASSTHROUGH");
  // Not exported to the client namespace: skipped.
  assert.equal(lb(dr("svc", "ns1", "ROUND_ROBIN", { exportTo: ["."] })), "LEAST_REQUEST");
  const selected = dr("sel", "client", "RANDOM", { workloadSelector: { matchLabels: { app: "c" } } });
  assert.equal(lb(selected), "RANDOM");
  assert.equal(lb(selected, "client", { app: "other" }), "LEAST_REQUEST");
  // Short DR hosts resolve in the DR's namespace: `a` in ns1 is a.ns1.
  assert.equal(lb(doc("DestinationRule", "short", "ns1", { host: "a", trafficPolicy: { loadBalancer: { simple: "RANDOM" } } })), "RANDOM");
});
