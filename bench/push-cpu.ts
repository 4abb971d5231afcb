// The control plane's CPU per change for delta push, without sockets or simulated proxies: per
// connected proxy, what the push loop does (translate the new snapshot, diff against what was sent,
// encode the delta line), on the same mesh as bench/push.ts (1,000 services with a Service,
// DestinationRule and VirtualService each, 10 namespaces, 3 instances per service). One change
// per round; the time is the CPU time (process.cpuUsage) of the whole loop over every proxy. Less sensitive to the machine's load
// than bench/push.ts (one process, no network), so it shows what a change in push/ or translate/
// does to the per-change work.
//
// Usage: node bench/push-cpu.ts [--services 1000] [--proxies 500] [--rounds 5] [--change vs|endpoints]
import { benchArgs } from "./lib/args.ts";
import { parseDocuments } from "../src/config/parse.ts";
import type { ProxyConfig } from "../src/model/proxy-config.ts";
import type { WorkloadInstance } from "../src/model/registry.ts";
import { buildSnapshot, type Snapshot } from "../src/model/snapshot.ts";
import { translate, type ProxyInput } from "../src/control-plane/translate/index.ts";
import { deltaLine, diffConfigs } from "../src/control-plane/push/delta.ts";

const { values } = benchArgs({
  options: {
    services: { type: "string", default: "1000" },
    proxies: { type: "string", default: "500" },
    rounds: { type: "string", default: "5" },
    change: { type: "string", default: "vs" },
  },
});
const n = Number(values.services);
const proxies = Number(values.proxies);
const rounds = Number(values.rounds);

function meshYaml(round: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = `svc-${i}`;
    const ns = `ns-${i % 10}`;
    // As bench/push.ts: the last service's VirtualService is the one that changes.
    const changed = values.change === "vs" && i === n - 1 && round > 0;
    docs.push(JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: s, namespace: ns }, spec: { selector: { app: s }, ports: [{ name: "http", port: 8080 }] } }));
    docs.push(JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: s, namespace: ns }, spec: { host: s, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] } }));
    docs.push(JSON.stringify({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: s, namespace: ns },
      spec: changed
        ? { hosts: [s], http: [{ route: [{ destination: { host: s, subset: `v${(round % 2) + 1}` } }], timeout: `${round}s` }] }
        : { hosts: [s], http: [{ match: [{ headers: { "end-user": { exact: "tester" } } }], route: [{ destination: { host: s, subset: "v2" } }] }, { route: [{ destination: { host: s, subset: "v1" } }], timeout: "3s" }] },
    }));
  }
  return docs.join("\n---\n");
}

function instancesAt(round: number): WorkloadInstance[] {
  const out: WorkloadInstance[] = [];
  for (let i = 0; i < 3 * n; i++) {
    const app = `svc-${i % n}`;
    // Endpoint churn: one instance of the last service comes and goes each round.
    if (values.change === "endpoints" && i === 3 * n - 1 && round % 2 === 1) continue;
    out.push({ name: `${app}-${i}`, namespace: `ns-${i % n % 10}`, labels: { app, version: `v${(i % 2) + 1}` }, serviceAccount: app, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, ready: true, ports: { "8080": 8080 } });
  }
  return out;
}

function snapshotAt(round: number): Snapshot {
  const { resources } = parseDocuments(meshYaml(round), "bench.yaml");
  return buildSnapshot(resources, { services: [], instances: instancesAt(round) }, { version: String(round + 1) });
}

const all = instancesAt(0);
const nodes: ProxyInput[] = Array.from({ length: proxies }, (_, i) => {
  const inst = all[i % all.length]!;
  return { id: `sidecar~${inst.name}-${i}.${inst.namespace}`, kind: "sidecar", workload: inst.name, namespace: inst.namespace, labels: inst.labels, serviceAccount: inst.serviceAccount, trustDomain: "cluster.local", ip: inst.address, instanceName: inst.name };
});

const snapshots = Array.from({ length: rounds + 1 }, (_, r) => snapshotAt(r));
const sent = new Map<string, ProxyConfig>();
let bytes = 0;
/** CPU ms to bring every proxy to `snap`. */
const push = (snap: Snapshot): number => {
  const c0 = process.cpuUsage();
  for (const p of nodes) {
    const config = translate(snap, p);
    const delta = diffConfigs(sent.get(p.id) ?? null, config);
    const full = !sent.has(p.id);
    sent.set(p.id, config);
    if (delta.size === 0) continue;
    bytes += deltaLine(config.version, "n", full, delta, new Map([...delta.keys()].map((t) => [t, config.version]))).length;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

const initial = push(snapshots[0]!);
bytes = 0;
const times: number[] = [];
for (let r = 1; r <= rounds; r++) times.push(push(snapshots[r]!));
times.sort((a, b) => a - b);
console.log(`# push CPU (node ${process.version}): ${n} services, ${proxies} proxies, change: ${values.change}`);
console.log(`CPU: initial (full state to every proxy) ${initial.toFixed(0)} ms; per change: median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms, min ${times[0]!.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms; ${(bytes / rounds / proxies).toFixed(0)} bytes per proxy per change`);
