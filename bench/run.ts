// The proxy benchmark: direct, Amime, nginx and HAProxy side by side in one run, same upstream.
//
// Layout (2 cores): every proxy is pinned to CPU 0; the upstream (nginx serving a small body),
// wrk and the fixed-rate generator share CPU 1. Targets stay up for the whole run and are
// measured in interleaved rounds (A B C D A B C D …), so drift on this VM hits all of them alike.
//
// Per target: throughput at saturation (wrk, 50 keep-alive connections as issue 15 measures it;
// `--connections N` to change), latency p50/p90/p99 at a
// fixed 1,000 rps over 16 keep-alive connections (open loop: bench/load/fixed-rate.ts), CPU µs per
// request at saturation and at the fixed rate, and peak RSS. CPU time is the scheduler's run time of
// every thread, in ns (bench/lib/proc.ts). The fixed-rate phase of a round runs in short windows with
// the targets interleaved (A B A B …, `--windows N`, bench/lib/rate-windows.ts), after a warm-up at
// that rate (a JIT compiles what a low rate runs: docs/performance.md, "Session 11"); the A/B lines
// give each round's ratio and the spread of the windows' ratios. At
// saturation also: how busy the target's core was over the wrk window (a closed loop over two cores
// can leave the proxy waiting for wrk and the upstream) and the upstream's CPU per request.
//
// Targets: direct (no proxy), amime (the sidecar as deployed: bench/targets/deployed.ts, Istio
// metrics on, tracing at 1 %), amime-log (plus the access log), amime-off (telemetry off), nginx,
// haproxy. `--amime-config bench` runs the hand-written config of bench/targets/amime.ts (no
// telemetry) in the amime (and amime-cmp) rows instead: what the A/Bs against older checkouts use.
//
// Usage: npm run bench [-- --quick] [-- --json] [-- --targets direct,amime,nginx,haproxy] [-- --rounds N] [-- --connections N]
//        npm run bench -- --compare DIR                 also "amime-cmp": the proxy of the checkout in DIR
//                                                   (e.g. `git worktree add /tmp/base HEAD~1`), same run;
//                                                   the amime-pair* rows in --targets get a "-cmp" row each
//        npm run bench -- --amime-config bench --targets direct,amime,amime-local-rl,amime-global-rl   the rate-limit rows
//        npm run bench -- --amime-config bench --targets direct,amime,amime-token,amime-authz   JWT + five AuthorizationPolicies
//                                                   (amime-token: the same requests, carrying the token, without the filters)
//        npm run bench -- --quick --targets direct,amime-pair,amime-pair-mtls,nginx-pair-tls,amime-pair-mtls-hs,nginx-pair-tls-hs
//                                                   a mesh hop as two proxies (bench/targets/mesh-pair.ts): plaintext vs
//                                                   mTLS vs two nginx with TLS; -hs rows: a handshake per request
//        npm run bench -- --protocols              also the HTTP/2 (h2load) and gRPC rows (bench/protocols.ts);
//                                                   with --compare, amime-cmp gets an HTTP/2 row too; the h2c → HTTP/1.1
//                                                   rows run the --amime-config config (the sidecar as deployed by default),
//                                                   their 1,000 rps in --windows interleaved windows, as the HTTP/1.1 rows
//        npm run bench -- --nice=-19 …             the whole run in a scheduler autogroup of its own at nice -19
//                                                   (root; bench/lib/autogroup.ts): steadier rounds while other
//                                                   sessions load the machine, which it starves meanwhile
//        npm run bench -- --profile [--seconds S]   Amime alone under `node --cpu-prof` at saturation:
//                                                   prints the functions with the most self time
//                                                   (add `--amime-config bench --targets amime-authz`: the authz row;
//                                                   `--protocols`: the h2c → HTTP/1.1 row, h2load, 20,000 requests
//                                                   per second of --seconds; with `--compare DIR`: DIR's proxy).
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs, exitWithUsage } from "./lib/args.ts";
import { inOwnAutogroup } from "./lib/autogroup.ts";
import { topSelfTime } from "./lib/cpu-profile.ts";
import { childPids, cpuMicrosOf, peakRssMb } from "./lib/proc.ts";
import { median, quartiles, rateRound, windowRatios, type RateFigures, type RateRound } from "./lib/rate-windows.ts";
import { run, stopProcess } from "./lib/spawn.ts";
import { amimeFrom, type AmimeConfigKind } from "./targets/amime.ts";
import { amimeAuthzTarget, amimeTokenTarget } from "./targets/amime-authz.ts";
import { amimeGlobalRlTarget, amimeLocalRlTarget } from "./targets/amime-ratelimit.ts";
import { directTarget } from "./targets/direct.ts";
import { amimePairFrom, meshPairTargets } from "./targets/mesh-pair.ts";
import { haproxyTarget } from "./targets/haproxy.ts";
import { nginxTarget, startNginx } from "./targets/nginx.ts";
import { profileH2, protocolsBench } from "./protocols.ts";
import type { RunningTarget, TargetFactory } from "./targets/target.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = benchArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    targets: { type: "string", default: "direct,amime,amime-log,amime-off,nginx,haproxy" },
    // The config of the "amime" and "amime-cmp" rows: deployed (translated, telemetry on), log, off, or bench.
    "amime-config": { type: "string", default: "deployed" },
    rate: { type: "string", default: "1000" },
    // wrk's keep-alive connections at saturation. 50, as issue 15 states its goals: with 16, nginx's
    // row is bounded by wrk and the upstream on the other core (its proxy idle 16–30 %), so it was not
    // the proxy's saturation (docs/performance.md, "Session 10: HTTP/1.1 throughput at saturation").
    connections: { type: "string", default: "50" },
    rounds: { type: "string" },
    profile: { type: "boolean", default: false },
    seconds: { type: "string", default: "20" },
    // Fixed-rate windows per target and round (interleaved between the targets).
    windows: { type: "string" },
    compare: { type: "string" },
    // HTTP/2 (h2load) and gRPC rows after the HTTP/1.1 table: bench/protocols.ts.
    protocols: { type: "boolean", default: false },
    // Run in a scheduler autogroup of its own at this nice (bench/lib/autogroup.ts): steadier rounds on a loaded machine.
    nice: { type: "string" },
  },
});
await inOwnAutogroup(values.nice);

const quick = values.quick;
const rate = Number(values.rate);
const connections = Number(values.connections);
if (!Number.isInteger(connections) || connections < 1) exitWithUsage(`--connections: a positive whole number (got ${values.connections})`);
const plan = quick
  ? { rounds: 1, warmupSec: 3, saturationSec: 3, windows: 3, windowMs: 1000 }
  : { rounds: 3, warmupSec: 15, saturationSec: 8, windows: 4, windowMs: 2500 };
if (values.rounds) plan.rounds = Number(values.rounds);
if (values.windows) plan.windows = Number(values.windows);
if (!Number.isInteger(plan.windows) || plan.windows < 1) exitWithUsage(`--windows: a positive whole number (got ${values.windows})`);

const amimeConfig = values["amime-config"] as AmimeConfigKind;
if (!["deployed", "log", "off", "bench"].includes(amimeConfig)) exitWithUsage(`--amime-config: deployed, log, off or bench (got ${amimeConfig})`);
const amimeTarget = amimeFrom("amime", null, amimeConfig);
// The rate-limit rows (hand-written bench config; compare with --amime-config bench) run only when named in --targets.
const factories: TargetFactory[] = [directTarget, amimeTarget, amimeFrom("amime-log", null, "log"), amimeFrom("amime-off", null, "off"), amimeLocalRlTarget, amimeGlobalRlTarget, amimeTokenTarget, amimeAuthzTarget, nginxTarget, haproxyTarget, ...meshPairTargets];
const wanted = new Set(values.targets.split(","));
if (values.compare !== undefined) {
  // A second Amime from another checkout (a git worktree of an older commit), measured beside this one.
  factories.splice(2, 0, amimeFrom("amime-cmp", values.compare, amimeConfig));
  if (wanted.has("amime")) wanted.add("amime-cmp");
  // The mesh-pair rows named in --targets get a `-cmp` row too (both sidecars from DIR).
  for (const name of [...wanted]) {
    const cmp = amimePairFrom(name, values.compare);
    if (cmp === null) continue;
    factories.push(cmp);
    wanted.add(cmp.name);
  }
}
const log = (s: string): void => void process.stderr.write(`${s}\n`);

interface Sample {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  /** CPU per request at saturation (the proxy's core busy): the figure compared with nginx. */
  cpuUsPerReq: number;
  /** CPU per request at the fixed rate (includes per-wakeup costs that batching hides at saturation): the round's windows together. */
  cpuUsPerReqAtRate: number;
  /** CPU per request of each fixed-rate window of the round. */
  windowsAtRate: number[];
  /**
   * Share of the wrk window the target's processes were on a CPU (%): below 100 the "saturation"
   * left the proxy's core partly idle (it waited for the other core: wrk and the upstream).
   */
  busyPct: number;
  /** The upstream's CPU per request at saturation: what the target's requests cost the other core. */
  upstreamUsPerReq: number;
  errors: number;
}

async function wrk(port: number, authority: string, seconds: number, headers: readonly string[] = []): Promise<{ rps: number; requests: number }> {
  const out = await run("taskset", ["-c", "1", "wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "-H", `Host: ${authority}`, ...headers.flatMap((h) => ["-H", h]), `http://127.0.0.1:${port}/`]);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const n = /(\d+) requests in/.exec(out);
  return { rps: rps ? Number(rps[1]) : 0, requests: n ? Number(n[1]) : 0 };
}

/** The saturation phase of a round for one target; its fixed-rate figures come from `rate` (the round's windows). */
type Saturation = Omit<Sample, "p50" | "p90" | "p99" | "cpuUsPerReqAtRate" | "windowsAtRate" | "errors">;

async function saturation(t: RunningTarget, upstreamPids: () => number[]): Promise<Saturation> {
  const c0 = cpuMicrosOf(t.pids());
  const u0 = cpuMicrosOf(upstreamPids());
  const w0 = performance.now();
  const sat = await wrk(t.port, t.authority, plan.saturationSec, t.headers);
  const w1 = performance.now();
  const c1 = cpuMicrosOf(t.pids());
  const u1 = cpuMicrosOf(upstreamPids());
  return {
    rps: sat.rps,
    cpuUsPerReq: sat.requests ? (c1 - c0) / sat.requests : 0,
    busyPct: (100 * (c1 - c0)) / ((w1 - w0) * 1000),
    upstreamUsPerReq: sat.requests ? (u1 - u0) / sat.requests : 0,
  };
}

const sampleOf = (sat: Saturation, r: RateRound | undefined): Sample => ({
  ...sat,
  p50: r?.p50 ?? 0,
  p90: r?.p90 ?? 0,
  p99: r?.p99 ?? 0,
  cpuUsPerReqAtRate: r?.cpuUsPerReq ?? 0,
  windowsAtRate: r?.windowsUsPerReq ?? [],
  errors: r?.errors ?? 0,
});

const workDir = mkdtempSync(join(tmpdir(), "amime-bench-"));
if (values.profile) {
  await profileAmime();
  rmSync(workDir, { recursive: true, force: true });
  process.exit(0);
}
const running: RunningTarget[] = [];
let upstreamStop: (() => Promise<void>) | null = null;
try {
  const ctxBase = { workDir, root };
  const up = await startNginx({ ...ctxBase, upstreamPort: 0, cpu: "1" }, "upstream", `location / { default_type text/plain; return 200 "hello from the bench upstream\\n"; }`);
  const upstreamPid = up.child.pid ?? 0;
  const upstreamPids = (): number[] => [upstreamPid, ...childPids(upstreamPid)];
  upstreamStop = () => stopProcess(up.child, "SIGQUIT");
  for (const f of factories) {
    if (!wanted.has(f.name)) continue;
    const why = f.unavailable();
    if (why) {
      log(`skip ${f.name}: ${why}`);
      continue;
    }
    running.push(await f.start({ ...ctxBase, upstreamPort: up.port, cpu: "0" }));
  }
  log(`targets: ${running.map((t) => `${t.name}:${t.port}`).join(" ")}; warming up ${plan.warmupSec}s each at saturation, then one unmeasured round`);
  // A sidecar quiet for a whole 10 s interval after traffic runs one full collection
  // (src/proxy/memory/idle-gc.ts), after which V8 compiles its request path again for ≈ 10 s of
  // traffic (docs/performance.md, "Session 11"). An unmeasured round after the warm-up (in which each
  // target sat idle while the others warmed up) brings every target into round 1 as into every later
  // round; in the rounds a target idles while the others run their saturation phase.
  const idleSec = (running.length - 1) * plan.saturationSec;
  if (idleSec >= 10 && running.some((t) => t.name.startsWith("amime"))) log(`note: with ${running.length} targets a sidecar idles ≈ ${idleSec}s between its phases: its idle collection may run and its next phase pay a recompilation (fewer --targets avoid it)`);
  for (const t of running) await wrk(t.port, t.authority, plan.warmupSec, t.headers);
  const samples = new Map<string, Sample[]>(running.map((t) => [t.name, []]));
  for (let r = -1; r < plan.rounds; r++) {
    const sats: Saturation[] = [];
    for (const t of running) sats.push(await saturation(t, upstreamPids));
    const atRate = await rateRound(root, running, rate, plan.windows, plan.windowMs);
    if (r < 0) continue; // the warm-up round
    running.forEach((t, i) => {
      const s = sampleOf(sats[i]!, atRate.get(t.name));
      samples.get(t.name)?.push(s);
      log(`round ${r + 1}/${plan.rounds} ${t.name.padEnd(8)} rps=${s.rps.toFixed(0)} cpu=${s.cpuUsPerReq.toFixed(1)}µs/req busy=${s.busyPct.toFixed(0)}% upstream=${s.upstreamUsPerReq.toFixed(1)}µs/req cpu@${rate}=${s.cpuUsPerReqAtRate.toFixed(1)}µs/req (windows ${s.windowsAtRate.map((x) => x.toFixed(1)).join(" ")}) p99@${rate}=${s.p99.toFixed(2)}ms errors=${s.errors}`);
    });
  }
  const results: Record<string, Record<string, number>> = {};
  for (const t of running) {
    const ss = samples.get(t.name) ?? [];
    results[t.name] = {
      rps: median(ss.map((s) => s.rps)),
      p50_ms: median(ss.map((s) => s.p50)),
      p90_ms: median(ss.map((s) => s.p90)),
      p99_ms: median(ss.map((s) => s.p99)),
      cpu_us_per_req: median(ss.map((s) => s.cpuUsPerReq)),
      cpu_us_per_req_at_rate: median(ss.map((s) => s.cpuUsPerReqAtRate)),
      busy_pct: median(ss.map((s) => s.busyPct)),
      upstream_us_per_req: median(ss.map((s) => s.upstreamUsPerReq)),
      rss_mb: t.pids().reduce((s, p) => s + peakRssMb(p), 0),
      errors: ss.reduce((s, x) => s + x.errors, 0),
    };
  }
  const direct = results.direct;
  const nginx = results.nginx;
  for (const [name, r] of Object.entries(results)) {
    if (direct && name !== "direct") {
      r.added_p50_ms = (r.p50_ms ?? 0) - (direct.p50_ms ?? 0);
      r.added_p99_ms = (r.p99_ms ?? 0) - (direct.p99_ms ?? 0);
    }
  }
  const amime = results.amime;
  if (amime && nginx) {
    amime.rps_vs_nginx = (amime.rps ?? 0) / (nginx.rps || 1);
    amime.cpu_vs_nginx = (amime.cpu_us_per_req ?? 0) / (nginx.cpu_us_per_req || 1);
    // At the fixed rate: the median of the rounds' ratios (each round's windows interleaved), and the spread of the windows' ratios.
    const ab = atRateRatios(samples.get("amime") ?? [], samples.get("nginx") ?? []);
    amime.cpu_at_rate_vs_nginx = median(ab.rounds);
    const w = quartiles(ab.windows);
    Object.assign(amime, { cpu_at_rate_vs_nginx_windows_min: w.min, cpu_at_rate_vs_nginx_windows_q1: w.q1, cpu_at_rate_vs_nginx_windows_q3: w.q3, cpu_at_rate_vs_nginx_windows_max: w.max });
    if (amime.added_p99_ms !== undefined && nginx.added_p99_ms !== undefined) amime.added_p99_vs_nginx = amime.added_p99_ms / (nginx.added_p99_ms || 1);
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ rate, connections: 16, saturation_connections: connections, quick, rounds: plan.rounds, rate_windows: plan.windows, rate_window_ms: plan.windowMs, results }, null, 2)}\n`);
  } else {
    const rows = [["target", "rps (sat.)", "CPU µs/req (sat.)", "busy % (sat.)", "p50 ms", "p90 ms", "p99 ms", "added p99", "CPU µs/req @rate", "peak RSS MB", "vs nginx"]];
    for (const [name, r] of Object.entries(results)) {
      const vs = name === "amime" && r.cpu_vs_nginx !== undefined ? `cpu ${r.cpu_vs_nginx.toFixed(2)}× rps ${(r.rps_vs_nginx ?? 0).toFixed(2)}×` : "";
      rows.push([name, (r.rps ?? 0).toFixed(0), (r.cpu_us_per_req ?? 0).toFixed(1), (r.busy_pct ?? 0).toFixed(0), (r.p50_ms ?? 0).toFixed(2), (r.p90_ms ?? 0).toFixed(2), (r.p99_ms ?? 0).toFixed(2), r.added_p99_ms === undefined ? "" : r.added_p99_ms.toFixed(2), (r.cpu_us_per_req_at_rate ?? 0).toFixed(1), (r.rss_mb ?? 0).toFixed(1), vs]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
    const line = (row: string[]): string => `| ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
    process.stdout.write(`${line(rows[0]!)}\n|${widths.map((w) => "-".repeat(w + 2)).join("|")}|\n${rows.slice(1).map(line).join("\n")}\n`);
    process.stdout.write(`saturation: wrk over ${connections} keep-alive connections; fixed rate ${rate} rps over 16 in ${plan.windows} window(s) of ${plan.windowMs / 1000}s per target and round, interleaved; ${plan.rounds} interleaved round(s), medians\n`);
  }
  // A/Bs of --compare, and each mTLS pair against two nginx with TLS (issue 12's 1.3× goal).
  const cmpPairs = running.filter((t) => t.name.startsWith("amime-pair") && t.name.endsWith("-cmp")).map((t) => [t.name.slice(0, -4), t.name] as const);
  const vsNginx = running.filter((t) => t.name.startsWith("amime-pair-mtls")).map((t) => [t.name, t.name.includes("-hs") ? "nginx-pair-tls-hs" : "nginx-pair-tls"] as const);
  for (const [a, b] of [["amime", "amime-cmp"] as const, ["amime", "nginx"] as const, ...cmpPairs, ...vsNginx]) {
    const ab = pairedRatios(samples.get(a), samples.get(b), `${a} / ${b}`);
    if (ab !== null) process.stdout.write(ab);
  }
  if (values.protocols) {
    for (const t of running) await t.stop().catch(() => {});
    running.length = 0;
    process.stdout.write(await protocolsBench({ workDir, root, quick, log, rounds: plan.rounds, windows: plan.windows, windowMs: plan.windowMs, config: amimeConfig, ...(values.compare !== undefined ? { compare: values.compare } : {}) }, up.port));
  }
} finally {
  for (const t of running) await t.stop().catch(() => {});
  await upstreamStop?.();
  rmSync(workDir, { recursive: true, force: true });
}

/**
 * An A/B round by round (`--compare`, or an mTLS pair against two nginx): a's CPU per request over
 * b's in the same round (they ran back to back, so they shared that round's machine load), and the
 * median of those ratios. On a shared VM that is steadier than the ratio of the two medians.
 */
function pairedRatios(a: Sample[] | undefined, b: Sample[] | undefined, label: string): string | null {
  if (a === undefined || b === undefined || a.length === 0 || a.length !== b.length) return null;
  const sat = a.map((s, i) => s.cpuUsPerReq / (b[i]?.cpuUsPerReq || 1));
  const fmt = (xs: number[]): string => `${xs.map((x) => x.toFixed(3)).join(" ")}; median ${median(xs).toFixed(3)}`;
  return `${label} CPU per request, per round: saturation ${fmt(sat)}\n  at ${rate} rps ${atRateRatios(a, b).text}\n`;
}

/** a's CPU per request at the fixed rate over b's: per round (its windows together) and per window (window i of a and b ran back to back). */
function atRateRatios(a: Sample[], b: Sample[]): ReturnType<typeof windowRatios> {
  const figures = (s: Sample): RateFigures => ({ cpuUsPerReq: s.cpuUsPerReqAtRate, windowsUsPerReq: s.windowsAtRate });
  return windowRatios(a.map(figures), b.map(figures));
}

/** `--profile`: warm Amime up, run wrk at saturation under --cpu-prof, print the top self times. */
async function profileAmime(): Promise<void> {
  const profDir = join(workDir, "prof");
  const ctxBase = { workDir, root };
  const up = await startNginx({ ...ctxBase, upstreamPort: 0, cpu: "1" }, "upstream", `location / { default_type text/plain; return 200 "hello from the bench upstream\\n"; }`);
  let t: RunningTarget | null = null;
  try {
    if (values.protocols) {
      const ctx = { workDir, root, quick, log, rounds: 1, windows: plan.windows, windowMs: plan.windowMs, config: amimeConfig, ...(values.compare !== undefined ? { compare: values.compare } : {}) };
      log(`h2c → HTTP/1.1 proxy of ${ctx.compare ?? root} under --cpu-prof, ${Number(values.seconds) * 20_000} requests at saturation`);
      const r = await profileH2(ctx, up.port, ["--cpu-prof", "--cpu-prof-dir", profDir], Number(values.seconds) * 20_000);
      log(`rps=${r.rps.toFixed(0)} cpu=${r.cpuUsPerReq.toFixed(1)}µs/req (profiler on: slower than a real run)`);
    } else {
      // `--targets amime-authz` profiles the JWT + AuthorizationPolicy row instead of plain amime.
      const target = values.targets.split(",").includes("amime-authz") ? amimeAuthzTarget : amimeTarget;
      t = await target.start({ ...ctxBase, upstreamPort: up.port, cpu: "0", nodeArgs: ["--cpu-prof", "--cpu-prof-dir", profDir] });
      log(`${target.name}:${t.port} under --cpu-prof; warming up ${plan.warmupSec}s, then ${values.seconds}s at saturation`);
      await wrk(t.port, t.authority, plan.warmupSec, t.headers);
      const c0 = cpuMicrosOf(t.pids());
      const sat = await wrk(t.port, t.authority, Number(values.seconds), t.headers);
      const c1 = cpuMicrosOf(t.pids());
      log(`rps=${sat.rps.toFixed(0)} cpu=${((c1 - c0) / (sat.requests || 1)).toFixed(1)}µs/req (profiler on: slower than a real run)`);
    }
  } finally {
    await t?.stop();
    up.child.kill("SIGQUIT");
  }
  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  if (file === undefined) throw new Error(`no profile written in ${profDir}`);
  const kept = join(tmpdir(), "amime-bench.cpuprofile");
  copyFileSync(join(profDir, file), kept);
  log(`profile kept in ${kept} (open it in Chrome DevTools → Performance)`);
  const { rows, totalMs, idleMs } = topSelfTime(kept, root, 40);
  process.stdout.write(`self time (whole run incl. warm-up): busy ${totalMs.toFixed(0)} ms, idle ${idleMs.toFixed(0)} ms\n`);
  for (const r of rows) process.stdout.write(`${r.percent.toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}\n`);
}
