// When and where the sidecar's peak RSS at 1,000 rps is made (issue 15). bench/memory.ts gives the
// peak (VmHWM); this gives its make-up over time: it starts the deployed sidecar from a file as
// bench/memory.ts does (the bundle, the sidecar's flags and environment, pinned to CPU 0), waits 3 s,
// runs 1,000 rps over 16 connections (bench/load/fixed-rate.ts, nginx upstream, both on CPU 1) and
// reads /proc/PID/smaps every 20 ms for the first 3 s of load (compile bursts last tens of ms) and
// every 100 ms after, summed by kind of mapping:
//   exe r-xp / exe r--p   the node executable's code, and its read-only data (Node's JS sources, code cache)
//   V8 heap pages         anonymous mappings in whole 256 KB pages (V8's spaces; also thread stacks)
//   arenas, other anon    glibc's thread arenas (V8's compile jobs run on its worker), other anonymous
//   [heap]                the main thread's malloc arena
//   code range            V8's executable code space
//   libraries             shared libraries and other files
// Printed: idle (3 s after ready), the sample with the highest RSS in the first 3 s of load and over
// the whole load, the end, when VmHWM last rose, and RSS every 0.5 s.
//
// --via push: the sidecar takes the same mesh's config from a control plane in this process
// (bench/targets/pushed.ts, as bench/memory.ts --via push: delta pushes over TLS and a workload
// certificate, as `amime up` runs it) instead of from a file; the smaps kinds then show whether
// its extra over the file-fed sidecar stays a constant under load or grows.
//
// --add-args "…" adds V8/Node flags to the sidecar's (--node-args "…" replaces them), --env K=V adds to
// its environment; --duration-ms sets the load's length (15000, as bench/memory.ts); --signal-at
// MS[,MS…] sends SIGUSR2 that many ms into the load (with --add-args "--heapsnapshot-signal=SIGUSR2"
// for heap snapshots at load); --log-out FILE keeps the sidecar's stdout and stderr (for --trace-gc,
// --trace-opt, --trace-zone-stats); --log-times also marks in it when each piece of output arrived (a line
// "@@ MS", ms into the load, before it) and makes the sidecar's stdout line-buffered (coreutils' libstdbuf,
// preloaded), so that V8's traces, which carry no time, can be placed against VmHWM's rises (bench/spike-poll.ts:
// its times are ≈ 0.4 s earlier, the load generator's start); --series prints the make-up at fixed times.
//
// Usage: node bench/peak-probe.ts [--via file|push] [--add-args="…"] [--node-args="…"] [--env K=V]… [--duration-ms 15000]
//        [--signal-at MS,…] [--log-out FILE [--log-times]] [--series] [--json]
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SIDECAR_NODE_FLAGS, sidecarEnv } from "../src/core/sidecar-node-flags.ts";
import { sidecarLaunch } from "../src/runtime/js-build/sidecar-launch.ts";
import { benchArgs, exitWithUsage } from "./lib/args.ts";
import { freePort, run, startProxyUntilReady, stopProcess } from "./lib/spawn.ts";
import { DEPLOYED_AUTHORITY, deployedProxyConfig } from "./targets/deployed.ts";
import { startPushedMesh, type PushedMesh } from "./targets/pushed.ts";
import { startNginx } from "./targets/nginx.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const USAGE = `Usage: node bench/peak-probe.ts [--via file|push] [--add-args="…"] [--node-args="…"] [--env K=V]… [--duration-ms 15000]
       [--signal-at MS,…] [--log-out FILE [--log-times]] [--series] [--json]`;
const { values } = benchArgs(
  {
    options: {
      via: { type: "string", default: "file" },
      "node-args": { type: "string" },
      "add-args": { type: "string", default: "" },
      env: { type: "string", multiple: true, default: [] },
      "duration-ms": { type: "string", default: "15000" },
      "signal-at": { type: "string" },
      "log-out": { type: "string" },
      "log-times": { type: "boolean", default: false },
      series: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  },
  USAGE,
);
if (values.via !== "file" && values.via !== "push") exitWithUsage(`--via file or --via push, not ${values.via}`, USAGE);
if (!/^[1-9]\d*$/.test(values["duration-ms"])) exitWithUsage(`--duration-ms takes a number of ms, not ${values["duration-ms"]}`, USAGE);
const signalAt = (values["signal-at"] ?? "").split(",").filter((s) => s !== "").map(Number);
if (signalAt.some((n) => !Number.isInteger(n) || n < 0)) exitWithUsage(`--signal-at takes ms into the load, comma-separated, not ${values["signal-at"]}`, USAGE);
if (values["log-times"] && values["log-out"] === undefined) exitWithUsage("--log-times needs --log-out FILE", USAGE);
const STDBUF = "/usr/libexec/coreutils/libstdbuf.so";
if (values["log-times"] && !existsSync(STDBUF)) exitWithUsage(`--log-times needs coreutils' ${STDBUF} (line-buffered stdout)`, USAGE);
const badEnv = values.env.find((kv) => !/^[A-Za-z_]\w*=/.test(kv));
if (badEnv !== undefined) exitWithUsage(`--env takes NAME=value, not ${badEnv}`, USAGE);
const split = (s: string): string[] => s.split(" ").filter((a) => a !== "");
const nodeArgs = [...(values["node-args"] !== undefined ? split(values["node-args"]) : SIDECAR_NODE_FLAGS), ...split(values["add-args"])];
const extraEnv: Record<string, string> = Object.fromEntries(values.env.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
if (values["log-times"]) Object.assign(extraEnv, { LD_PRELOAD: STDBUF, _STDBUF_O: "L" });
const node = join(root, "node_modules", ".bin", "node");
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// `| head` closes stdout early: not an error of the probe.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
});

interface Sample {
  /** ms since the load started. */
  t: number;
  /** VmRSS and VmHWM, kB. */
  rss: number;
  hwm: number;
  /** Rss by kind of mapping, kB. */
  kinds: Record<string, number>;
}

const PAGE_256K = 256 * 1024;

function sample(pid: number, t0: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (f: string): number => Number(new RegExp(`${f}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  const kinds: Record<string, number> = {};
  let kind = "";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m !== null) {
      const [size, perms, path] = [parseInt(m[2]!, 16) - parseInt(m[1]!, 16), m[3]!, m[4]!];
      if (path.endsWith("/node")) kind = `exe ${perms}`;
      else if (path === "[heap]") kind = "[heap]";
      else if (path.startsWith("[")) kind = path;
      else if (path !== "") kind = "libraries";
      else if (perms.includes("x")) kind = "code range";
      else kind = size % PAGE_256K === 0 ? "V8 heap pages" : "arenas, other anon";
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r !== null) kinds[kind] = (kinds[kind] ?? 0) + Number(r[1]);
  }
  return { t: Math.round(performance.now() - t0), rss: kb("VmRSS"), hwm: kb("VmHWM"), kinds };
}

const maxRss = (xs: Sample[]): Sample => xs.reduce((a, s) => (s.rss > a.rss ? s : a), xs[0]!);

const workDir = mkdtempSync(join(tmpdir(), "amime-peak-"));
// A copy of node, as bench/memory.ts: its pages are this sidecar's alone.
const sidecarNode = join(workDir, "node");
copyFileSync(realpathSync(node), sidecarNode);
chmodSync(sidecarNode, 0o755);
const upstream = await startNginx({ workDir, root, upstreamPort: 0, cpu: "1" }, "upstream", `location / { default_type text/plain; return 200 "hello from the bench upstream\\n"; }`);
let pushed: PushedMesh | undefined;
try {
  const port = await freePort();
  let source: { args: string[]; env: NodeJS.ProcessEnv };
  if (values.via === "push") {
    pushed = await startPushedMesh(root, workDir, port, upstream.port, 0);
    source = { args: pushed.args, env: pushed.env };
  } else {
    const file = join(workDir, "proxy.json");
    writeFileSync(file, JSON.stringify(deployedProxyConfig(root, port, upstream.port, "deployed")));
    source = { args: ["--config", file], env: process.env };
  }
  const entry = (await sidecarLaunch(root)).args.at(-1)!;
  pushed?.register();
  const { child, readyMs } = await startProxyUntilReady("0", sidecarNode, [...nodeArgs, entry, "proxy", ...source.args, "--admin-port", "0"], { cwd: root, env: { ...sidecarEnv(source.env), ...extraEnv } });
  let log = "";
  // ms into the load (negative before it) for --log-times.
  let loadStart = performance.now() + 3000;
  const keep = (d: Buffer): void => {
    if (values["log-times"]) log += `\n@@ ${Math.round(performance.now() - loadStart)}\n`;
    if (values["log-out"] !== undefined) log += d.toString();
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const pid = child.pid!;
  try {
    await wait(3000);
    const t0 = performance.now();
    loadStart = t0;
    const idle = sample(pid, t0);
    const load = run("taskset", ["-c", "1", node, join(root, "bench", "load", "fixed-rate.ts"), "--port", String(port), "--rate", "1000", "--connections", "16", "--duration-ms", values["duration-ms"], "--authority", DEPLOYED_AUTHORITY]);
    let done = false;
    void load.then(
      () => (done = true),
      () => (done = true),
    );
    const timers = signalAt.map((ms) => setTimeout(() => process.kill(pid, "SIGUSR2"), ms));
    const samples: Sample[] = [];
    while (!done) {
      samples.push(sample(pid, t0));
      await wait(samples[samples.length - 1]!.t < 3000 ? 20 : 100);
    }
    for (const t of timers) clearTimeout(t);
    const result = JSON.parse(await load) as { ok: number; errors: number; p50_ms: number; p99_ms: number };
    const end = sample(pid, t0);
    const hwmRose = samples.find((s) => s.hwm >= end.hwm) ?? end;
    const early = maxRss(samples.filter((s) => s.t < 3000));
    const out = { via: values.via, args: nodeArgs.join(" "), env: extraEnv, readyMs: Math.round(readyMs), ok: result.ok, errors: result.errors, p50Ms: result.p50_ms, p99Ms: result.p99_ms, idle, earlyMax: early, max: maxRss(samples), end, hwmRoseAtMs: hwmRose.t };
    if (values["log-out"] !== undefined) writeFileSync(values["log-out"], log);
    if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      const mb = (k: number): string => (k / 1024).toFixed(1);
      const show = (name: string, s: Sample): void => {
        const parts = Object.entries(s.kinds).filter(([, v]) => v >= 100).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${mb(v)}`);
        process.stdout.write(`  ${name.padEnd(16)} t=${String(s.t).padStart(5)} ms  RSS ${mb(s.rss)}  HWM ${mb(s.hwm)}: ${parts.join(", ")}\n`);
      };
      process.stdout.write(`${values.via === "push" ? "pushed " : ""}[${out.args}] ${JSON.stringify(extraEnv)}: ready ${out.readyMs} ms; 1,000 rps: ${result.ok} ok, ${result.errors} errors, p50 ${result.p50_ms.toFixed(2)} ms, p99 ${result.p99_ms.toFixed(2)} ms\n`);
      show("idle", idle);
      show("first 3 s, max", early);
      show("max", out.max);
      show("end", end);
      if (values.series) for (const at of [300, 600, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 10000, 14000]) show(`t≈${at}`, samples.find((s) => s.t >= at) ?? end);
      process.stdout.write(`  VmHWM ${mb(end.hwm)} MB, reached at t≈${hwmRose.t} ms; RSS every 0.5 s: ${samples.filter((s, i) => i === 0 || Math.floor(s.t / 500) !== Math.floor(samples[i - 1]!.t / 500)).map((s) => mb(s.rss)).join(" ")}\n`);
    }
  } finally {
    await stopProcess(child);
  }
} finally {
  await pushed?.close();
  upstream.child.kill("SIGQUIT");
  rmSync(workDir, { recursive: true, force: true });
}
