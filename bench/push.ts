// Config push benchmark: time from `POST /api/v1/apply` to every proxy having ACKed the new
// version, measured in-process on the control plane (its ACK events).
//
//  1. bookinfo: Istio's bookinfo manifests + destination-rule-all + virtual-service-all-v1 in the
//     store, 6 real `amime proxy --xds` processes (productpage, details, reviews v1/v2/v3,
//     ratings); each change rewrites the reviews VirtualService, which every sidecar routes.
//  2. 1,000 services (Service + DestinationRule + VirtualService each) and 500 simulated proxies:
//     in-process HTTP stream clients that parse every pushed message and ACK it. They ask for
//     delta push, as `amime proxy --xds` does; `--whole` makes them take whole configs instead
//     (the path kept for proxies without delta push), for a before/after in one run.
//
// Usage: npm run bench:push [-- --quick] [-- --scales 100x200,1000x500] [-- --rounds N] [-- --no-bookinfo] [-- --whole] [-- --churn SECONDS]
// BENCH_PROFILE=file.cpuprofile writes a CPU profile of the change rounds.
// The push debounce is the control plane's default (50 ms) and is part of every number.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setDefaultCACertificates, getCACertificates } from "node:tls";
import { benchArgs } from "./lib/args.ts";
import { ControlPlane } from "../src/control-plane/server.ts";
import type { InstanceRegistration, PushMessage } from "../src/model/wire.ts";
import { manyServicesYaml } from "./lib/many-services.ts";
import { freePort, stopProcess } from "./lib/spawn.ts";

const root = join(import.meta.dirname, "..");
const { values } = benchArgs({
  allowNegative: true,
  options: {
    quick: { type: "boolean", default: false },
    // services × simulated proxies, comma-separated. 1000x200 is the target scale.
    scales: { type: "string", default: "100x200,1000x500" },
    whole: { type: "boolean", default: false },
    bookinfo: { type: "boolean", default: true },
    rounds: { type: "string" },
    // Seconds of endpoint churn after the rounds (an instance coming and going every 100 ms); 0: none.
    churn: { type: "string", default: "3" },
  },
});
const churnSeconds = Number(values.churn);
const rounds = Number(values.rounds ?? (values.quick ? 3 : 10));

interface Stats { p50: number; p90: number; p99: number; max: number; mean: number }
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s.at(-1)!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;

function registration(app: string, version: string, ns: string, outboundPort: number, inboundPort: number, servicePort: number): InstanceRegistration {
  const name = `${app}-${version}-0`;
  const nodeId = `sidecar~${name}.${ns}`;
  const labels = { app, version };
  return {
    instance: { name, namespace: ns, labels, serviceAccount: app, address: "127.0.0.1", ready: true, ports: { [String(servicePort)]: inboundPort }, appPorts: { [String(servicePort)]: 1 } },
    nodeId,
    node: { id: nodeId, kind: "sidecar", workload: `${app}-${version}`, namespace: ns, labels, serviceAccount: app, trustDomain: "cluster.local", ip: "127.0.0.1" },
    outboundPort,
  };
}

/** Apply `text` and resolve with [apply ms, ms until every node in `nodes` ACKed the resulting version]. */
async function timedApply(cp: ControlPlane, text: string, nodes: ReadonlySet<string>): Promise<[number, number]> {
  const t0 = performance.now();
  let version = "";
  const acked = new Set<string>();
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const off = cp.pusher.onAck((st, ack) => {
    if (!ack.accepted) throw new Error(`NACK from ${st.node}: ${ack.error}`);
    if (version && ack.version === version && nodes.has(st.node)) acked.add(st.node);
    if (version && acked.size === nodes.size) done();
  });
  const r = await cp.apply(text, "bench.yaml");
  const t1 = performance.now();
  if (process.env.BENCH_DEBUG) {
    const iv = setInterval(() => console.error(JSON.stringify({ version: r.version, acked: acked.size, pushes: cp.pusher.pushes, states: cp.proxies().map((p) => [p.state, p.sentVersion, p.ackedVersion]) })), 2000);
    void all.then(() => clearInterval(iv));
  }
  if (!r.applied) throw new Error(`apply refused: ${JSON.stringify(r.diagnostics.filter((d) => d.level === "error"))}`);
  version = r.version;
  await all;
  off();
  return [t1 - t0, performance.now() - t0];
}

const reviewsVs = (i: number) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v${(i % 3) + 1}}
      weight: ${50 + (i % 7)}
    - destination: {host: reviews, subset: v1}
      weight: ${50 - (i % 7)}
`;

async function bookinfo(): Promise<{ apply: Stats; total: Stats; initial: number }> {
  const bi = join(root, "test", "fixtures", "istio", "samples", "bookinfo");
  const cp = await ControlPlane.start({ port: 0, watch: false });
  // The control plane serves TLS only: the proxies get its root as --root-cert.
  const rootFile = join(tmpdir(), `amime-bench-root-${process.pid}.pem`);
  writeFileSync(rootFile, cp.trustBundle);
  const files = ["platform/kube/bookinfo.yaml", "networking/destination-rule-all.yaml", "networking/virtual-service-all-v1.yaml"];
  for (const f of files) {
    const r = await cp.apply(readFileSync(join(bi, f), "utf8"), f);
    if (!r.applied) throw new Error(`${f}: ${JSON.stringify(r.diagnostics)}`);
  }
  const workloads: [string, string][] = [["productpage", "v1"], ["details", "v1"], ["reviews", "v1"], ["reviews", "v2"], ["reviews", "v3"], ["ratings", "v1"]];
  const children: ChildProcess[] = [];
  const nodes = new Set<string>();
  try {
    const t0 = performance.now();
    const readies: Promise<void>[] = [];
    for (const [app, v] of workloads) {
      const reg = registration(app, v, "default", await freePort(), await freePort(), 9080);
      cp.register("default", reg.instance.name, reg);
      nodes.add(reg.nodeId);
      const child = spawn(process.execPath, [join(root, "bin", "amime.js"), "proxy", "--xds", cp.url, "--root-cert", rootFile, "--node", reg.nodeId, "--admin-port", "-1"], {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, AMIME_PROXY_TOKEN: cp.mintProxyToken({ node: reg.nodeId, namespace: "default", serviceAccount: reg.instance.serviceAccount }) },
      });
      children.push(child);
      readies.push(new Promise((resolve, reject) => {
        child.stdout!.once("data", () => resolve());
        child.once("exit", (c) => reject(new Error(`proxy exited ${c}`)));
      }));
    }
    await Promise.all(readies);
    const initial = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
    const applyMs: number[] = [];
    const totalMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const [a, t] = await timedApply(cp, reviewsVs(i), nodes);
      applyMs.push(a);
      totalMs.push(t);
    }
    return { apply: stats(applyMs), total: stats(totalMs), initial };
  } finally {
    await Promise.all(children.map((c) => stopProcess(c)));
    await cp.close();
  }
}

/** Bytes the simulated proxies have read from their streams (all of them). */
let streamBytes = 0;

/** An in-process stand-in for a sidecar: reads the stream, parses each message, ACKs it (kept-alive, as PushClient); reconnects like PushClient. */
function simulatedProxy(url: string, node: string, token: string): { close(): void } {
  const mode = values.whole ? "" : "&delta=1";
  const auth = { authorization: `Bearer ${token}` };
  let closed = false;
  let current: ReturnType<typeof request> | null = null;
  // ACKs on one kept-alive connection, as PushClient sends them; one sent on a kept connection the
  // server closed meanwhile (a reset) goes again on a new one.
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 1 });
  const sendAck = (body: string, again = true): void => {
    const ack = request(new URL("/xds/v1/ack", url), { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...auth } });
    ack.on("response", (r) => r.resume());
    ack.on("error", () => {
      if (again && ack.reusedSocket) sendAck(body, false);
    });
    ack.end(body);
  };
  const open = (): void => {
    if (closed) return;
    const req = request(new URL(`/xds/v1/stream?node=${encodeURIComponent(node)}${mode}`, url), { agent: false, headers: auth });
    current = req;
    const again = (): void => {
      if (current !== req) return;
      current = null;
      if (process.env.BENCH_DEBUG && !closed) console.error(`${node}: stream lost, reconnecting`);
      setTimeout(open, 100);
    };
    req.on("response", (res) => {
      res.setEncoding("utf8");
      // Chunks of the current line; a newline is looked for in each new chunk only (a 3 MiB line
      // arrives in ~50 chunks: rescanning the whole buffer per chunk was quadratic).
      let parts: string[] = [];
      res.on("data", (c: string) => {
        streamBytes += Buffer.byteLength(c);
        let rest = c;
        let nl: number;
        while ((nl = rest.indexOf("\n")) >= 0) {
          parts.push(rest.slice(0, nl));
          rest = rest.slice(nl + 1);
          const msg = JSON.parse(parts.join("")) as PushMessage;
          parts = [];
          if (msg.type !== "config" && msg.type !== "delta") continue;
          const body = JSON.stringify({ node, version: msg.version, nonce: msg.nonce, accepted: true });
          sendAck(body);
        }
        if (rest) parts.push(rest);
      });
      res.on("close", again);
    });
    req.on("error", again);
    req.end();
  };
  open();
  return {
    close: () => {
      closed = true;
      current?.destroy();
      agent.destroy();
    },
  };
}

/** BENCH_PROFILE=file.cpuprofile: a CPU profile of the change rounds only (not the load or the initial sync). */
async function startProfile(): Promise<{ stop(file: string): Promise<void> }> {
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    async stop(file) {
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}


interface Churn {
  changes: number;
  cpuMs: number;
  bytes: number;
  pushes: number;
  settleMs: number;
}

/**
 * Endpoint churn: an instance of the last service (not a proxy: an endpoint only) registered and
 * removed in turn every 100 ms for `--churn` seconds. Per change: CPU, bytes read per proxy; then
 * the time from the last change until every proxy has ACKed the control plane's version.
 */
async function endpointChurn(cp: ControlPlane, services: number, clients: number): Promise<Churn> {
  const svc = `svc-${services - 1}`;
  const ns = `ns-${(services - 1) % 10}`;
  const reg = registration(svc, "v1", ns, 1, 40000, 8080);
  reg.instance.name = `${svc}-churn`;
  reg.instance.address = "127.0.0.2";
  const bytesBefore = streamBytes;
  const pushesBefore = cp.pusher.pushes;
  const cpuBefore = process.cpuUsage();
  let changes = 0;
  const until = performance.now() + churnSeconds * 1000;
  while (performance.now() < until) {
    if (changes % 2 === 0) cp.register(ns, reg.instance.name, reg);
    else cp.deregister(ns, reg.instance.name);
    changes++;
    await new Promise((r) => setTimeout(r, 100));
  }
  // The last change is one no proxy has seen (a new address), so every proxy is pushed the final version.
  cp.register(ns, reg.instance.name, { ...reg, instance: { ...reg.instance, address: "127.0.0.3" } });
  changes++;
  const last = performance.now();
  // Settled: every proxy has ACKed what it was last sent, and that is the current version.
  for (;;) {
    const version = cp.version;
    const ps = cp.proxies();
    if (ps.length > 0 && ps.every((p) => p.state === "SYNCED" && p.sentVersion === version)) break;
    if (performance.now() - last > 120_000) throw new Error(`endpoint churn: not settled after 120 s: ${JSON.stringify(ps.filter((p) => p.state !== "SYNCED" || p.sentVersion !== version).slice(0, 3))}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const settleMs = performance.now() - last;
  const cpu = process.cpuUsage(cpuBefore);
  return { changes, cpuMs: (cpu.user + cpu.system) / 1000 / changes, bytes: (streamBytes - bytesBefore) / changes / clients, pushes: (cp.pusher.pushes - pushesBefore) / clients, settleMs };
}

async function large(services: number, clients: number): Promise<{ load: number; apply: Stats; total: Stats; initial: number; configBytes: number; changeBytes: number; changeCpuMs: number; churn?: Churn }> {
  const cp = await ControlPlane.start({ port: 0, watch: false });
  // The simulated proxies of this process dial the control plane over TLS: trust its root.
  setDefaultCACertificates([...getCACertificates("default"), cp.trustBundle]);
  const sims: ReturnType<typeof simulatedProxy>[] = [];
  try {
    let t = performance.now();
    const r = await cp.apply(manyServicesYaml(services), "large.yaml");
    if (!r.applied) throw new Error(JSON.stringify(r.diagnostics.filter((d) => d.level === "error").slice(0, 3)));
    const load = performance.now() - t;
    const nodes = new Set<string>();
    for (let i = 0; i < clients; i++) {
      const reg = registration(`svc-${i % services}`, `v${(i % 2) + 1}`, `ns-${(i % services) % 10}`, 20000 + i, 30000 + i, 8080);
      reg.instance.name = `${reg.instance.name}-${i}`;
      reg.nodeId = reg.node.id = `sidecar~${reg.instance.name}.${reg.instance.namespace}`;
      cp.register(reg.instance.namespace, reg.instance.name, reg);
      nodes.add(reg.nodeId);
    }
    // Initial sync: every client connects at once and must get (and ACK) its first config.
    t = performance.now();
    const firstAcks = new Promise<void>((resolve) => {
      const seen = new Set<string>();
      const off = cp.pusher.onAck((st) => {
        seen.add(st.node);
        if (seen.size === nodes.size) {
          off();
          resolve();
        }
      });
    });
    for (const n of nodes) sims.push(simulatedProxy(cp.url, n, cp.mintProxyToken({ node: n, namespace: n.slice(n.lastIndexOf(".") + 1), serviceAccount: "default" })));
    if (process.env.BENCH_DEBUG) console.error(`loaded in ${load.toFixed(0)} ms; waiting for first ACKs`);
    await firstAcks;
    if (process.env.BENCH_DEBUG) console.error(`first ACKs in ${(performance.now() - t).toFixed(0)} ms`);
    const initial = performance.now() - t;
    const applyMs: number[] = [];
    const totalMs: number[] = [];
    const bytesBefore = streamBytes;
    // CPU time of this process (control plane and simulated proxies) per change: less sensitive
    // than wall time to other work sharing the cores.
    const cpuBefore = process.cpuUsage();
    const profiler = process.env.BENCH_PROFILE ? await startProfile() : null;
    const target = `svc-${services - 1}`;
    for (let i = 0; i < rounds; i++) {
      // One VirtualService of 1,000 changes; it is visible to (so re-pushed to) every proxy.
      const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${target}, namespace: ns-${(services - 1) % 10}}
spec:
  hosts: [${target}]
  http:
  - route: [{destination: {host: ${target}, subset: v${(i % 2) + 1}}}]
    timeout: ${i + 1}s
`;
      const [a, tt] = await timedApply(cp, vs, nodes);
      applyMs.push(a);
      totalMs.push(tt);
    }
    if (profiler) await profiler.stop(process.env.BENCH_PROFILE!);
    const changeBytes = (streamBytes - bytesBefore) / rounds / clients;
    const cpu = process.cpuUsage(cpuBefore);
    const changeCpuMs = (cpu.user + cpu.system) / 1000 / rounds;
    const configBytes = JSON.stringify(cp.proxyConfig([...nodes][0]!)).length;
    const churn = churnSeconds > 0 ? await endpointChurn(cp, services, clients) : undefined;
    return { load, apply: stats(applyMs), total: stats(totalMs), initial, configBytes, changeBytes, changeCpuMs, churn };
  } finally {
    for (const s of sims) s.close();
    await cp.close();
  }
}

console.log(`# config push (${values.whole ? "whole configs" : "delta push"}; rounds: ${rounds}, debounce 50 ms; node ${process.version}, ${(await import("node:os")).cpus().length} CPUs)`);
if (values.bookinfo) {
  const b = await bookinfo();
  console.log(`bookinfo, 6 real proxies: first config to all ${ms(b.initial)} (incl. process start); apply (validate+store) p50 ${ms(b.apply.p50)}; apply → all ACKed p50 ${ms(b.total.p50)} p90 ${ms(b.total.p90)} max ${ms(b.total.max)}`);
}
for (const scale of values.scales.split(",").filter(Boolean)) {
  const [services, clients] = scale.split("x").map(Number) as [number, number];
  const l = await large(services, clients);
  console.log(`${services} services, ${clients} simulated proxies: load ${ms(l.load)}; initial sync ${ms(l.initial)}; config per proxy ${(l.configBytes / 1024).toFixed(0)} KiB; read per proxy per change ${(l.changeBytes / 1024).toFixed(1)} KiB; CPU per change ${ms(l.changeCpuMs)}; apply (validate+store) p50 ${ms(l.apply.p50)}; apply → all ACKed p50 ${ms(l.total.p50)} p90 ${ms(l.total.p90)} p99 ${ms(l.total.p99)} max ${ms(l.total.max)}`);
  if (l.churn) console.log(`  endpoint churn (one instance of svc-${services - 1} registered or removed every 100 ms, ${l.churn.changes} changes): CPU per change ${ms(l.churn.cpuMs)}; read per proxy per change ${(l.churn.bytes / 1024).toFixed(1)} KiB; pushes per proxy ${l.churn.pushes.toFixed(1)}; last change → all ACKed ${ms(l.churn.settleMs)}`);
}
