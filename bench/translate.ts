// Translation microbenchmark: ms per `translate(snapshot, proxy)` at mesh scale. 1,000 services
// (two ports each), 1,000 VirtualServices (header match + subset routes), 1,000 DestinationRules
// with two subsets, 3,000 instances, 10 namespaces. Reports the first translate of a snapshot
// (builds the per-snapshot indexes), then fresh proxies of distinct classes, then proxies sharing a
// class with an earlier one (shared outbound part).
//
// Usage: node bench/translate.ts [--services N] [--proxies N]
import { benchArgs } from "./lib/args.ts";
import { parseDocuments } from "../src/config/parse.ts";
import type { WorkloadInstance } from "../src/model/registry.ts";
import { buildSnapshot } from "../src/model/snapshot.ts";
import { translate, type ProxyInput } from "../src/control-plane/translate/index.ts";

const { values } = benchArgs({ options: { services: { type: "string", default: "1000" }, proxies: { type: "string", default: "20" } } });
const n = Number(values.services);
const proxies = Number(values.proxies);

const docs: string[] = [];
for (let i = 0; i < n; i++) {
  const s = `svc-${i}`;
  const ns = `ns-${i % 10}`;
  docs.push(JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: s, namespace: ns }, spec: { selector: { app: s }, ports: [{ name: "http", port: 8080 }, { name: "grpc", port: 9090 }] } }));
  docs.push(JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: s, namespace: ns }, spec: { host: s, trafficPolicy: { connectionPool: { tcp: { maxConnections: 100 } } }, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] } }));
  docs.push(JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: s, namespace: ns }, spec: { hosts: [s], http: [
    { match: [{ headers: { "end-user": { exact: "tester" } } }], route: [{ destination: { host: s, subset: "v2" } }] },
    { route: [{ destination: { host: s, subset: "v1" } }], timeout: "3s" },
  ] } }));
}
const { resources } = parseDocuments(docs.join("\n---\n"), "bench.yaml");
const instances: WorkloadInstance[] = [];
for (let i = 0; i < 3 * n; i++) {
  const app = `svc-${i % n}`;
  instances.push({ name: `${app}-${i}`, namespace: `ns-${i % n % 10}`, labels: { app, version: `v${(i % 2) + 1}` }, serviceAccount: app, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, ready: true });
}

function proxy(i: number): ProxyInput {
  const inst = instances[i]!;
  return { id: `sidecar~${inst.name}.${inst.namespace}`, kind: "sidecar", workload: inst.name, namespace: inst.namespace, labels: inst.labels, serviceAccount: inst.serviceAccount, trustDomain: "cluster.local", ip: inst.address };
}

let t = performance.now();
const snapshot = buildSnapshot(resources, { services: [], instances }, { version: "1" });
console.log(`# translate (node ${process.version}); ${n} services, ${n} VirtualServices, ${n} DestinationRules, ${instances.length} instances`);
console.log(`buildSnapshot: ${(performance.now() - t).toFixed(0)} ms`);
t = performance.now();
const first = translate(snapshot, proxy(0));
console.log(`first translate: ${(performance.now() - t).toFixed(0)} ms (${first.clusters.length} clusters, ${(JSON.stringify(first).length / 1024).toFixed(0)} KiB)`);
const time = (label: string, idx: number[]): void => {
  const t0 = performance.now();
  for (const i of idx) translate(snapshot, proxy(i));
  console.log(`${label}: ${((performance.now() - t0) / idx.length).toFixed(1)} ms per translate (${idx.length} proxies)`);
};
// Instances 1..9 sit in namespaces ns-1..ns-9: each is a new proxy class (proxy 0 was ns-0).
time("new proxy class", Array.from({ length: 9 }, (_, k) => k + 1));
// Instances n.. repeat the labels of instances 0.. with another name: same class as an earlier proxy.
time("same class as an earlier proxy", Array.from({ length: proxies }, (_, k) => n + k + 1));
