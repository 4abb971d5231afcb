// Memory and start of one sidecar (issue 15): how long from spawn to ready, how much memory idle,
// at a steady 1,000 rps, and after a burst of short-lived connections (then 30 and 60 s later).
//
// The sidecar runs the deployed config (bench/targets/deployed.ts: Bookinfo's productpage sidecar,
// Istio metrics, tracing at 1 %; `--services N` adds N services to it), pinned to CPU 0, started as
// the runtimes start one (`--from built`, the default: the built JavaScript tree with the sidecar's
// V8 flags, src/runtime/js-build/) or from the TypeScript sources (`--from sources`: bin/amime.js).
// `--node-args "…"` replaces the V8 flags ("" for none). The upstream (nginx) and the load share CPU 1.
//
// Reported: ready (spawn → the ready line), RSS (VmRSS) 3 s after ready, peak RSS (VmHWM) after 15 s
// at 1,000 rps over 16 keep-alive connections (bench/load/fixed-rate.ts) and the CPU µs per request
// of that phase (an indication only: CPU comparisons belong to bench/run.ts), RSS after `--churn`
// short-lived connections (bench/load/churn.ts) and 30 / 60 s later, and private memory
// (Private_Dirty: what this process alone holds; the rest of RSS is mostly the `node` executable's
// pages, shared by every Node process on the host). Right after the 1,000 rps phase, its PSS (each
// page divided by the number of processes mapping it) alone, then with 1 and with 9 more idle sidecars
// of the same config started beside it, as on a host running 2 or 10 pods with sidecars: what one
// sidecar costs a host, where RSS counts the shared executable in full in every process. PSS is an
// extra column; the goal of issue 15 is RSS. The sidecars run a copy of the `node` executable made
// for the run, so that its pages are shared among them only, not with every other Node process on the
// machine (as one container image's are among the pods that run it).
//
// `--via push`: the sidecar takes the same mesh's config from a control plane started in the bench's
// process (bench/targets/pushed.ts: `amime proxy --xds`, delta pushes over TLS and a workload
// certificate, as `amime up` runs it) instead of from a file (`--config`, the default). That row
// has no PSS phase (its peers would each need a registration).
//
// Usage: node bench/memory.ts [--from built|sources] [--node-args="--max-semi-space-size=1 --single-threaded"]
//        [--services 1000] [--via file|push] [--churn 20000] [--json]
import { chmodSync, copyFileSync, readFileSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import type { ChildProcessByStdio } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { SIDECAR_NODE_FLAGS, sidecarEnv } from "../src/core/sidecar-node-flags.ts";
import { sidecarLaunch } from "../src/runtime/js-build/sidecar-launch.ts";
import { benchArgs, exitWithUsage } from "./lib/args.ts";
import { cpuMicros, peakRssMb } from "./lib/proc.ts";
import { freePort, run, startProxyUntilReady, stopProcess } from "./lib/spawn.ts";
import type { ProxyConfig } from "../src/model/proxy-config.ts";
import { DEPLOYED_AUTHORITY, deployedProxyConfig } from "./targets/deployed.ts";
import { startNginx } from "./targets/nginx.ts";
import { startPushedMesh, type PushedMesh } from "./targets/pushed.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const USAGE = `Usage: node bench/memory.ts [--from built|sources] [--node-args="--max-semi-space-size=1 --single-threaded"]
       [--services 1000] [--via file|push] [--churn 20000] [--json]`;
const { values } = benchArgs(
  {
    options: {
      from: { type: "string", default: "built" },
      "node-args": { type: "string" },
      services: { type: "string", default: "0" },
      via: { type: "string", default: "file" },
      churn: { type: "string", default: "20000" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  },
  USAGE,
);
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const badArg = (message: string): never => exitWithUsage(message, USAGE);
if (values.from !== "built" && values.from !== "sources") badArg(`--from built or --from sources, not ${values.from}`);
if (values.via !== "file" && values.via !== "push") badArg(`--via file or --via push, not ${values.via}`);
if (!/^\d+$/.test(values.services)) badArg(`--services takes a count of services, not ${values.services}`);
if (!/^[1-9]\d*$/.test(values.churn)) badArg(`--churn takes a count of connections, not ${values.churn}`);
const nodeArgs = values["node-args"] !== undefined ? values["node-args"].split(" ").filter((a) => a !== "") : [...SIDECAR_NODE_FLAGS];
const RATE = 1000;
const FIXED_MS = 15_000;

const rssMb = (pid: number, field: "VmRSS"): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const privateMb = (pid: number): number => Number(/Private_Dirty:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0) / 1024;
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const node = join(root, "node_modules", ".bin", "node");

const workDir = mkdtempSync(join(tmpdir(), "amime-memory-"));
const sidecarNode = join(workDir, "node");
copyFileSync(realpathSync(node), sidecarNode);
chmodSync(sidecarNode, 0o755);
const upstream = await startNginx({ workDir, root, upstreamPort: 0, cpu: "1" }, "upstream", `location / { default_type text/plain; return 200 "hello from the bench upstream\\n"; }`);
let pushed: PushedMesh | undefined;
try {
  const port = await freePort();
  let config: ProxyConfig | undefined;
  let source: { args: string[]; env?: NodeJS.ProcessEnv };
  if (values.via === "push") {
    pushed = await startPushedMesh(root, workDir, port, upstream.port, Number(values.services));
    source = { args: pushed.args, env: pushed.env };
  } else {
    const file = join(workDir, "proxy.json");
    config = deployedProxyConfig(root, port, upstream.port, "deployed", Number(values.services));
    writeFileSync(file, JSON.stringify(config));
    source = { args: ["--config", file] };
  }
  const entry = values.from === "built" ? (await sidecarLaunch(root)).args.at(-1)! : join(root, "bin", "amime.js");
  pushed?.register();
  const { child, readyMs } = await startSidecar(entry, source, "0");
  config ??= pushed!.config();
  // taskset execs the proxy: same pid.
  const pid = child.pid!;
  try {
    await wait(3000);
    const idle = { rss: rssMb(pid, "VmRSS"), private: privateMb(pid) };
    const cpuBefore = cpuMicros(pid);
    const load = JSON.parse(await run("taskset", ["-c", "1", node, join(root, "bench", "load", "fixed-rate.ts"), "--port", String(port), "--rate", String(RATE), "--connections", "16", "--duration-ms", String(FIXED_MS), "--authority", DEPLOYED_AUTHORITY])) as { ok: number; errors: number; p50_ms: number; p99_ms: number };
    const cpuPerRequest = (cpuMicros(pid) - cpuBefore) / Math.max(1, load.ok);
    const steady = { peak: peakRssMb(pid), private: privateMb(pid) };
    const pss = values.via === "file" ? await pssWithPeers(pid, entry, workDir, upstream.port) : null;
    const churn = JSON.parse(await run("taskset", ["-c", "1", node, join(root, "bench", "load", "churn.ts"), "--port", String(port), "--total", values.churn, "--authority", DEPLOYED_AUTHORITY])) as { connections: number; errors: number; ms: number };
    const afterBurst = rssMb(pid, "VmRSS");
    await wait(30_000);
    const after30 = rssMb(pid, "VmRSS");
    await wait(30_000);
    const after60 = { rss: rssMb(pid, "VmRSS"), private: privateMb(pid) };
    const result = {
      from: values.from, via: values.via, nodeArgs: nodeArgs.join(" "), services: Number(values.services),
      clusters: config.clusters.length, endpoints: Object.values(config.endpoints).reduce((n, e) => n + e.length, 0),
      readyMs: Math.round(readyMs), idleRssMb: round(idle.rss), idlePrivateMb: round(idle.private),
      peakRssMbAt1000: round(steady.peak), privateMbAt1000: round(steady.private), cpuUsPerRequestAt1000: round(cpuPerRequest),
      pssMbAfter1000: pss === null ? null : { alone: round(pss[0]!.pss), with2: round(pss[1]!.pss), with10: round(pss[2]!.pss), rssMb: round(pss[2]!.rss) },
      p50MsAt1000: round(load.p50_ms), p99MsAt1000: round(load.p99_ms), loadErrors: load.errors,
      burst: churn, rssAfterBurstMb: round(afterBurst), rssAfter30sMb: round(after30), rssAfter60sMb: round(after60.rss), privateAfter60sMb: round(after60.private),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      process.stdout.write(`sidecar from ${result.from} [${result.nodeArgs || "no flags"}], config from a ${values.via === "push" ? "control plane's push" : "file"}, ${result.clusters} clusters, ${result.endpoints} endpoints\n`);
      process.stdout.write(`  ready ${result.readyMs} ms; idle ${result.idleRssMb} MB (private ${result.idlePrivateMb})\n`);
      process.stdout.write(`  1,000 rps for ${FIXED_MS / 1000} s: peak ${result.peakRssMbAt1000} MB (private ${result.privateMbAt1000}), ${result.cpuUsPerRequestAt1000} µs CPU/request, p50 ${result.p50MsAt1000} ms, p99 ${result.p99MsAt1000} ms, ${load.errors} errors\n`);
      const p = result.pssMbAfter1000;
      if (p !== null) process.stdout.write(`  PSS right after: ${p.alone} MB alone, ${p.with2} MB with 2 sidecars on the host, ${p.with10} MB with 10 (RSS ${p.rssMb} MB)\n`);
      process.stdout.write(`  ${churn.connections} short-lived connections in ${churn.ms} ms (${churn.errors} errors): ${result.rssAfterBurstMb} MB, +30 s ${result.rssAfter30sMb} MB, +60 s ${result.rssAfter60sMb} MB (private ${result.privateAfter60sMb})\n`);
    }
  } finally {
    await stopProcess(child);
  }
} finally {
  await pushed?.close();
  upstream.child.kill("SIGQUIT");
  rmSync(workDir, { recursive: true, force: true });
}

/** Start `amime proxy` (`--config file`, or `--xds …`) pinned to `cpu`; resolves at its ready line. */
async function startSidecar(entry: string, source: { args: string[]; env?: NodeJS.ProcessEnv }, cpu: string): Promise<{ child: ChildProcessByStdio<null, Readable, Readable>; readyMs: number }> {
  const started = await startProxyUntilReady(cpu, sidecarNode, [...nodeArgs, entry, "proxy", ...source.args, "--admin-port", "0"], { cwd: root, env: sidecarEnv(source.env ?? process.env) });
  started.child.stdout.resume();
  return started;
}

/**
 * PSS of sidecar `pid` alone, then with 1 and with 9 more idle sidecars of the same config beside it
 * (started on CPU 1, stopped before returning). Read within seconds of the 1,000 rps phase, before the
 * sidecar's idle collection (src/proxy/memory/idle-gc.ts: a whole quiet interval after traffic).
 */
async function pssWithPeers(pid: number, entry: string, dir: string, upstreamPort: number): Promise<{ pss: number; rss: number }[]> {
  const sample = (): { pss: number; rss: number } => ({ pss: Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0) / 1024, rss: rssMb(pid, "VmRSS") });
  const samples = [sample()];
  const peers: ChildProcessByStdio<null, Readable, Readable>[] = [];
  try {
    const taken = new Set<number>();
    // The ports are picked one after another and kept distinct: a port from "bind 0, then close" may
    // come back from the next such bind, and eight picked at once gave two peers the same one
    // (EADDRINUSE in a quiet run with --services 1000). A picked port is in the kernel's ephemeral
    // range, so another process's outgoing connection may take it before the peer binds it (EADDRINUSE
    // with helpers' benches running): that peer starts again on a new port, up to three times.
    const pick = async (): Promise<number> => {
      for (;;) {
        const port = await freePort();
        if (taken.has(port)) continue;
        taken.add(port);
        return port;
      }
    };
    const startPeer = async (name: string): Promise<ChildProcessByStdio<null, Readable, Readable>> => {
      for (let attempt = 1; ; attempt++) {
        const file = join(dir, `${name}.json`);
        writeFileSync(file, JSON.stringify(deployedProxyConfig(root, await pick(), upstreamPort, "deployed", Number(values.services))));
        try {
          return (await startSidecar(entry, { args: ["--config", file] }, "1")).child;
        } catch (err) {
          if (attempt === 3 || !String(err).includes("EADDRINUSE")) throw err;
        }
      }
    };
    for (const more of [1, 8]) {
      // Every peer that started is stopped below, also when another failed to start.
      const base = peers.length;
      const started = await Promise.allSettled(Array.from({ length: more }, (_, i) => startPeer(`peer-${base + i}`)));
      for (const s of started) if (s.status === "fulfilled") peers.push(s.value);
      const failed = started.find((s) => s.status === "rejected");
      if (failed !== undefined) throw failed.reason;
      samples.push(sample());
    }
  } finally {
    await Promise.all(peers.map((p) => stopProcess(p)));
  }
  return samples;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
