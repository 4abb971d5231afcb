// HTTP/2 and gRPC rows for `npm run bench -- --protocols` (printed after the HTTP/1.1 table).
//
// HTTP/2 (h2load, prior-knowledge h2c, on CPU 1): at saturation (16 connections × 10 streams, a
// fixed number of requests) and at a fixed 1,000 rps (10 connections × 100 rps each) in short windows
// with the targets interleaved (A B A B …, bench/lib/rate-windows.ts, as the HTTP/1.1 rows' rate phase:
// `--windows` of 2.5 s per target and round), in interleaved rounds (medians):
//   direct      nginx `listen … http2` answering itself (no proxy: the client/server floor)
//   amime       h2c → Amime (CPU 0) → HTTP/1.1 keep-alive to the nginx upstream, with the config
//               of the HTTP/1.1 rows (`--amime-config`: the sidecar as deployed unless told otherwise)
//   amime-cmp   the same from another checkout (`--compare DIR`): the A/B of a change
//   nginx       h2c → nginx `listen … http2` proxy (CPU 0) → the same upstream
// gRPC unary (@grpc/grpc-js closed loop, 16 concurrent calls, on CPU 1; server on CPU 1):
//   direct      client → server;   amime   client → Amime (cluster protocol http2) → server
//               (the hand-written bench config, whose cluster can be switched to HTTP/2)
// CPU µs/req is the proxy's CPU time over the run divided by the requests.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { childPids, cpuMicros } from "./lib/proc.ts";
import { interleavedWindows, median, windowRatios, type RateFigures, type RateRound, type RateWindow } from "./lib/rate-windows.ts";
import { freePort, pinned, run, stopProcess, waitForPort } from "./lib/spawn.ts";
import { sidecarEnv } from "../src/core/sidecar-node-flags.ts";
import { sidecarLaunch } from "../src/runtime/js-build/sidecar-launch.ts";
import { benchProxyConfig, proxyNodeArgs, type AmimeConfigKind } from "./targets/amime.ts";
import { DEPLOYED_AUTHORITY, deployedProxyConfig } from "./targets/deployed.ts";
import { nginxConfig } from "./targets/nginx.ts";

export interface ProtocolsContext {
  workDir: string;
  root: string;
  quick: boolean;
  log: (s: string) => void;
  /** Interleaved rounds of the HTTP/2 rows (medians reported). */
  rounds: number;
  /** Another checkout whose proxy is measured beside this one ("amime-cmp"). */
  compare?: string;
  /** The h2c → HTTP/1.1 rows' Amime config (default: the sidecar as deployed). */
  config?: AmimeConfigKind;
  /** Fixed-rate windows per target and round, and their length. */
  windows: number;
  windowMs: number;
}

interface Row {
  name: string;
  rps: number;
  meanMs: number;
  cpuUsPerReq: number | undefined;
  /** CPU per request at the fixed 1,000 rps: the round's windows together. */
  cpuUsPerReqAtRate: number | undefined;
  /** CPU per request of each of the round's windows at the rate. */
  windowsAtRate: number[];
  failed: number;
}

const H2_RATE = 1000;

const NGINX = "/usr/sbin/nginx";

async function nginxH2(ctx: ProtocolsContext, name: string, body: string, upstream = ""): Promise<{ child: ChildProcess; port: number }> {
  const prefix = join(ctx.workDir, name);
  const port = await freePort();
  // The shared config writer, with the listener switched to cleartext HTTP/2 (prior knowledge).
  const conf = nginxConfig(prefix, port, body, upstream).replace(`listen 127.0.0.1:${port} reuseport;`, `listen 127.0.0.1:${port} reuseport http2;`);
  writeFileSync(join(prefix, "nginx.conf"), conf);
  const child = pinned(name === "h2-direct" ? "1" : "0", NGINX, ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-g", "daemon off;"]);
  await waitForPort(port);
  return { child, port };
}

const AMIME = "amime h2c → h1";
const AMIME_CMP = "amime-cmp h2c → h1";

/** `xs` with the two sidecars (amime, amime-cmp) in each other's place when `swap` (and both are there). */
function sidecarsSwapped<T extends { name: string }>(xs: readonly T[], swap: boolean): readonly T[] {
  const i = xs.findIndex((t) => t.name === AMIME);
  const j = xs.findIndex((t) => t.name === AMIME_CMP);
  if (!swap || i < 0 || j < 0) return xs;
  const out = [...xs];
  out[i] = xs[j] as T;
  out[j] = xs[i] as T;
  return out;
}

/** Processes the bench itself is stopping (their exit is expected). */
const stopping = new WeakSet<ChildProcess>();

/** `cmp`: the amime-cmp proxy, from `ctx.compare` (with AMIME_BENCH_CMP_NODE_ARGS). */
/** The HTTP/1.1 upstream rows run `ctx.config`; the gRPC row (protocol http2) the bench config with an HTTP/2 cluster. */
async function startAmime(ctx: ProtocolsContext, upstreamPort: number, protocol: "http1" | "http2", cmp = false, nodeArgs: readonly string[] = []): Promise<{ child: ChildProcess; port: number; authority: string }> {
  const codeRoot = cmp ? (ctx.compare ?? ctx.root) : ctx.root;
  const port = await freePort();
  const kind = protocol === "http2" ? "bench" : (ctx.config ?? "deployed");
  const cfg = (kind === "bench" ? benchProxyConfig(port, upstreamPort) : deployedProxyConfig(ctx.root, port, upstreamPort, kind)) as { clusters: { protocol: string }[] };
  if (kind === "bench") for (const c of cfg.clusters) c.protocol = protocol;
  const file = join(ctx.workDir, `amime-${protocol}-${port}.json`);
  writeFileSync(file, JSON.stringify(cfg));
  // As a runtime starts a sidecar (the built tree, the sidecar's V8 flags), as the HTTP/1.1 rows do.
  const launch = await sidecarLaunch(codeRoot);
  const child = pinned("0", join(ctx.root, "node_modules", ".bin", "node"), [...proxyNodeArgs(cmp, launch.args, nodeArgs), "proxy", "--config", file, "--admin-port", "-1"], { cwd: codeRoot, env: sidecarEnv(process.env) });
  child.stdout?.resume();
  // A proxy that dies mid-run would otherwise show only as failed requests and 0 µs of CPU.
  let errTail = "";
  child.stderr?.on("data", (d: Buffer) => (errTail = (errTail + d.toString()).slice(-2000)));
  child.once("exit", (code, signal) => {
    if (!stopping.has(child)) ctx.log(`${cmp ? "amime-cmp" : "amime"} proxy (${protocol}) exited during the run (code ${code}, signal ${signal}): ${errTail.trim() || "no stderr"}`);
  });
  await waitForPort(port);
  return { child, port, authority: kind === "bench" ? "bench" : DEPLOYED_AUTHORITY };
}

/** `n` requests as fast as possible (16 connections × 10 streams), or with `ms`: 1,000 rps for that long. */
async function h2load(port: number, n: number, ms?: number, authority = "bench"): Promise<{ rps: number; meanMs: number; done: number; failed: number }> {
  const load = ms === undefined ? ["-n", String(n), "-c", "16", "-m", "10"] : ["-c", "10", "-m", "1", `--rps=${H2_RATE / 10}`, "-D", `${ms}ms`];
  const out = await run("taskset", ["-c", "1", "h2load", ...load, "-H", `:authority: ${authority}`, `http://127.0.0.1:${port}/`]);
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0);
  const m = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(out);
  const mean = /time for request:\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1] ?? "0ms";
  const meanMs = mean.endsWith("us") ? Number(mean.slice(0, -2)) / 1000 : mean.endsWith("ms") ? Number(mean.slice(0, -2)) : Number(mean.slice(0, -1)) * 1000;
  return { rps, meanMs, done: Number(m?.[1] ?? 0), failed: Number(m?.[3] ?? 0) };
}

interface H2Target {
  name: string;
  port: number;
  /** The proxy's pid (its CPU is measured); none for the direct row. */
  pid: number | undefined;
  authority: string;
}

const cpuOf = (pid: number): number => [pid, ...childPids(pid)].reduce((s, p) => s + cpuMicros(p), 0);

type SaturationH2 = Omit<Row, "cpuUsPerReqAtRate" | "windowsAtRate">;

/** A target's saturation phase: `n` requests, its CPU per request. */
async function saturationH2(t: H2Target, n: number): Promise<SaturationH2> {
  const c0 = t.pid === undefined ? 0 : cpuOf(t.pid);
  const r = await h2load(t.port, n, undefined, t.authority);
  const c1 = t.pid === undefined ? 0 : cpuOf(t.pid);
  return { name: t.name, rps: r.rps, meanMs: r.meanMs, cpuUsPerReq: t.pid === undefined ? undefined : (c1 - c0) / (r.done || 1), failed: r.failed };
}

/** One window at the fixed rate (new connections each, as the 8-s phase had): the target's CPU over h2load's run. */
async function rateWindowH2(t: H2Target & { pid: number }, ms: number): Promise<RateWindow> {
  const c0 = cpuOf(t.pid);
  const r = await h2load(t.port, 0, ms, t.authority);
  return { cpuUs: cpuOf(t.pid) - c0, sent: r.done, errors: r.failed, latenciesUs: [] };
}

function medianRow(rows: Row[]): Row {
  const m = (f: (r: Row) => number | undefined): number | undefined => (rows[0] === undefined || f(rows[0]) === undefined ? undefined : median(rows.map((r) => f(r) ?? 0)));
  return {
    name: rows[0]?.name ?? "",
    rps: m((r) => r.rps) ?? 0,
    meanMs: m((r) => r.meanMs) ?? 0,
    cpuUsPerReq: m((r) => r.cpuUsPerReq),
    cpuUsPerReqAtRate: m((r) => r.cpuUsPerReqAtRate),
    windowsAtRate: rows.flatMap((r) => r.windowsAtRate),
    failed: rows.reduce((s, r) => s + r.failed, 0),
  };
}

async function grpcLoad(ctx: ProtocolsContext, port: number, seconds: number): Promise<{ rps: number; p50_ms: number; p99_ms: number; calls: number; errors: number }> {
  const out = await run("taskset", ["-c", "1", join(ctx.root, "node_modules", ".bin", "node"), join(ctx.root, "bench", "load", "grpc.ts"), "client", "--port", String(port), "--authority", "bench", "--seconds", String(seconds)]);
  return JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
}

/**
 * `--profile --protocols`: the h2c → HTTP/1.1 row's proxy (this checkout, or `--compare DIR`'s)
 * under `nodeArgs` (--cpu-prof …): a warm-up, then `n` requests at saturation. Returns CPU µs/request.
 */
export async function profileH2(ctx: ProtocolsContext, upstreamPort: number, nodeArgs: readonly string[], n: number): Promise<{ rps: number; cpuUsPerReq: number }> {
  const amime = await startAmime(ctx, upstreamPort, "http1", ctx.compare !== undefined, nodeArgs);
  try {
    const pid = amime.child.pid ?? 0;
    await h2load(amime.port, Math.floor(n / 4), undefined, amime.authority);
    const c0 = cpuOf(pid);
    const r = await h2load(amime.port, n, undefined, amime.authority);
    return { rps: r.rps, cpuUsPerReq: (cpuOf(pid) - c0) / (r.done || 1) };
  } finally {
    stopping.add(amime.child);
    await stopProcess(amime.child);
  }
}

/** Runs the rows; returns the table as text (Markdown). */
export async function protocolsBench(ctx: ProtocolsContext, upstreamPort: number): Promise<string> {
  const n = ctx.quick ? 20_000 : 100_000;
  const seconds = ctx.quick ? 3 : 8;
  const procs: ChildProcess[] = [];
  const rows: Row[] = [];
  const grpcRows: { name: string; rps: number; p50: number; p99: number; cpu: number | undefined; errors: number }[] = [];
  const samples = new Map<string, Row[]>();
  try {
    const direct = await nginxH2(ctx, "h2-direct", `location / { default_type text/plain; return 200 "hello from the bench upstream\\n"; }`);
    procs.push(direct.child);
    const amime = await startAmime(ctx, upstreamPort, "http1");
    procs.push(amime.child);
    const cmp = ctx.compare === undefined ? null : await startAmime(ctx, upstreamPort, "http1", true);
    if (cmp !== null) procs.push(cmp.child);
    const nginx = await nginxH2(ctx, "h2-nginx", `location / { proxy_pass http://h2_upstream; proxy_http_version 1.1; proxy_set_header Connection ""; }`, `upstream h2_upstream { server 127.0.0.1:${upstreamPort}; keepalive 64; }`);
    procs.push(nginx.child);
    // nginx answers any authority; Amime's rows send the one their config routes.
    const targets: H2Target[] = [
      { name: "direct (nginx h2c)", port: direct.port, pid: undefined, authority: "bench" },
      { name: AMIME, port: amime.port, pid: amime.child.pid, authority: amime.authority },
      ...(cmp === null ? [] : [{ name: AMIME_CMP, port: cmp.port, pid: cmp.child.pid, authority: cmp.authority }]),
      { name: "nginx h2c → h1", port: nginx.port, pid: nginx.child.pid, authority: "bench" },
    ];
    // Warm-up (JIT, pools), then interleaved rounds (one target after the other, each round). As for
    // the HTTP/1.1 rows (bench/run.ts), the first round is not measured: the warm-up is at saturation
    // only, and a sidecar's first phase at the rate ran on code not yet compiled for it (deoptimized
    // when the rate's new connections came; docs/performance.md, "Session 14: h2c → HTTP/1.1 …").
    for (const t of targets.slice(1)) await h2load(t.port, Math.floor(n / 4), undefined, t.authority);
    // Each round: every target's saturation phase in turn, then the rate's windows with the proxies
    // interleaved (the direct row has no proxy to measure at the rate).
    // With --compare the two sidecars swap places every other window and round: in a fixed order the
    // one that ran first (right after nginx) cost 7–11 % more than the same build run second in A/A runs,
    // at the rate and at saturation (presumably caches the second finds warm: the same node binary).
    const proxies = targets.filter((t): t is H2Target & { pid: number } => t.pid !== undefined);
    for (const t of targets) samples.set(t.name, []);
    for (let round = -1; round < ctx.rounds; round++) {
      const sats = new Map<string, SaturationH2>();
      for (const t of sidecarsSwapped(targets, round % 2 !== 0)) sats.set(t.name, await saturationH2(t, n));
      const atRate = await interleavedWindows(proxies, ctx.windows, (t) => rateWindowH2(t, ctx.windowMs), (w) => sidecarsSwapped(proxies, w % 2 !== 0));
      if (round < 0) continue;
      for (const t of targets) {
        const w: RateRound | undefined = atRate.get(t.name);
        const sat = sats.get(t.name) as SaturationH2;
        const r: Row = { ...sat, cpuUsPerReqAtRate: w?.cpuUsPerReq, windowsAtRate: w?.windowsUsPerReq ?? [], failed: sat.failed + (w?.errors ?? 0) };
        samples.get(t.name)?.push(r);
        ctx.log(`h2 round ${round + 1}/${ctx.rounds} ${t.name}: ${r.rps.toFixed(0)} req/s, cpu ${r.cpuUsPerReq?.toFixed(1) ?? "-"} µs/req, at ${H2_RATE} rps ${r.cpuUsPerReqAtRate?.toFixed(1) ?? "-"} µs/req (windows ${r.windowsAtRate.map((x) => x.toFixed(1)).join(" ")})`);
      }
    }
    for (const t of targets) rows.push(medianRow(samples.get(t.name) ?? []));

    const server = pinned("1", join(ctx.root, "node_modules", ".bin", "node"), [join(ctx.root, "bench", "load", "grpc.ts"), "server"], { cwd: ctx.root });
    procs.push(server);
    const grpcPort = await new Promise<number>((resolve, reject) => {
      server.stdout?.once("data", (d: Buffer) => resolve(Number(JSON.parse(d.toString()).port)));
      server.once("exit", () => reject(new Error("grpc bench server exited")));
    });
    const amimeGrpc = await startAmime(ctx, grpcPort, "http2");
    procs.push(amimeGrpc.child);
    await grpcLoad(ctx, amimeGrpc.port, 2);
    const d = await grpcLoad(ctx, grpcPort, seconds);
    grpcRows.push({ name: "direct", rps: d.rps, p50: d.p50_ms, p99: d.p99_ms, cpu: undefined, errors: d.errors });
    const c0 = cpuOf(amimeGrpc.child.pid ?? 0);
    const a = await grpcLoad(ctx, amimeGrpc.port, seconds);
    const c1 = cpuOf(amimeGrpc.child.pid ?? 0);
    grpcRows.push({ name: "amime (h2 → h2)", rps: a.rps, p50: a.p50_ms, p99: a.p99_ms, cpu: (c1 - c0) / (a.calls || 1), errors: a.errors });
  } finally {
    for (const p of procs) {
      stopping.add(p);
      await stopProcess(p, p.spawnargs.includes(NGINX) ? "SIGQUIT" : "SIGTERM").catch(() => {});
    }
  }
  const fmt = (x: number | undefined, d = 1): string => (x === undefined ? "" : x.toFixed(d));
  let out = `\nHTTP/2 (Amime's config: ${ctx.config ?? "deployed"}; h2load, prior knowledge; saturation: -c 16 -m 10; fixed rate: ${H2_RATE} rps over 10 connections in ${ctx.windows} window(s) of ${ctx.windowMs / 1000}s per target and round, interleaved; ${ctx.rounds} interleaved round(s), medians)\n`;
  out += `| target | req/s (sat.) | mean ms (sat.) | CPU µs/req (sat.) | CPU µs/req at ${H2_RATE} rps | failed |\n|---|---|---|---|---|---|\n`;
  for (const r of rows) out += `| ${r.name} | ${r.rps.toFixed(0)} | ${fmt(r.meanMs, 2)} | ${fmt(r.cpuUsPerReq)} | ${fmt(r.cpuUsPerReqAtRate)} | ${r.failed} |\n`;
  // Round by round, as bench/run.ts prints its A/Bs: steadier than the ratio of medians on a shared VM.
  for (const [a, b] of [[AMIME, AMIME_CMP], [AMIME, "nginx h2c → h1"]] as const) {
    const sa = samples.get(a);
    const sb = samples.get(b);
    if (sa === undefined || sb === undefined || sa.length === 0) continue;
    const failed = [...sa, ...sb].reduce((n, r) => n + r.failed, 0);
    if (failed > 0) {
      out += `${a} / ${b}: not compared, ${failed} request(s) failed (see the log)\n`;
      continue;
    }
    const sat = sa.map((r, i) => (r.cpuUsPerReq ?? 0) / ((sb[i] as Row).cpuUsPerReq || 1));
    const atRate = (rs: Row[]): RateFigures[] => rs.map((r) => ({ cpuUsPerReq: r.cpuUsPerReqAtRate ?? 0, windowsUsPerReq: r.windowsAtRate }));
    out += `${a} / ${b} CPU per request, per round: saturation ${sat.map((x) => x.toFixed(3)).join(" ")}; median ${median(sat).toFixed(3)}\n  at ${H2_RATE} rps ${windowRatios(atRate(sa), atRate(sb)).text}\n`;
  }
  out += "\ngRPC unary (@grpc/grpc-js, 16 concurrent calls, closed loop)\n| target | calls/s | p50 ms | p99 ms | CPU µs/call | errors |\n|---|---|---|---|---|---|\n";
  for (const r of grpcRows) out += `| ${r.name} | ${r.rps.toFixed(0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.cpu)} | ${r.errors} |\n`;
  return out;
}
