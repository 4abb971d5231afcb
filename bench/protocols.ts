// HTTP/2 and gRPC rows for `npm run bench -- --protocols` (printed after the HTTP/1.1 table).
//
// HTTP/2 (h2load, prior-knowledge h2c, 16 connections × 10 streams, on CPU 1):
//   direct      nginx `listen … http2` answering itself (no proxy: the client/server floor)
//   amime       h2c → Amime (CPU 0) → HTTP/1.1 keep-alive to the nginx upstream
//   nginx       h2c → nginx `listen … http2` proxy (CPU 0) → the same upstream
// gRPC unary (@grpc/grpc-js closed loop, 16 concurrent calls, on CPU 1; server on CPU 1):
//   direct      client → server;   amime   client → Amime (cluster protocol http2) → server
// CPU µs/req is the proxy's CPU time over the run divided by the requests.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { childPids, cpuMicros } from "./lib/proc.ts";
import { freePort, pinned, run, stopProcess, waitForPort } from "./lib/spawn.ts";
import { benchProxyConfig } from "./targets/amime.ts";
import { nginxConfig } from "./targets/nginx.ts";

export interface ProtocolsContext {
  workDir: string;
  root: string;
  quick: boolean;
  log: (s: string) => void;
}

interface Row {
  name: string;
  rps: number;
  meanMs: number;
  cpuUsPerReq: number | undefined;
  failed: number;
}

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

async function startAmime(ctx: ProtocolsContext, upstreamPort: number, protocol: "http1" | "http2"): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const cfg = benchProxyConfig(port, upstreamPort) as { clusters: { protocol: string }[] };
  for (const c of cfg.clusters) c.protocol = protocol;
  const file = join(ctx.workDir, `amime-${protocol}.json`);
  writeFileSync(file, JSON.stringify(cfg));
  const child = pinned("0", join(ctx.root, "node_modules", ".bin", "node"), [join(ctx.root, "bin", "amime.js"), "proxy", "--config", file, "--admin-port", "-1"], { cwd: ctx.root });
  child.stdout?.resume();
  child.stderr?.resume();
  await waitForPort(port);
  return { child, port };
}

async function h2load(port: number, n: number): Promise<{ rps: number; meanMs: number; done: number; failed: number }> {
  const out = await run("taskset", ["-c", "1", "h2load", "-n", String(n), "-c", "16", "-m", "10", "-H", ":authority: bench", `http://127.0.0.1:${port}/`]);
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0);
  const m = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(out);
  const mean = /time for request:\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1] ?? "0ms";
  const meanMs = mean.endsWith("us") ? Number(mean.slice(0, -2)) / 1000 : mean.endsWith("ms") ? Number(mean.slice(0, -2)) : Number(mean.slice(0, -1)) * 1000;
  return { rps, meanMs, done: Number(m?.[1] ?? 0), failed: Number(m?.[3] ?? 0) };
}

const cpuOf = (pid: number): number => [pid, ...childPids(pid)].reduce((s, p) => s + cpuMicros(p), 0);

async function measureH2(name: string, port: number, pid: number | undefined, n: number): Promise<Row> {
  const c0 = pid === undefined ? 0 : cpuOf(pid);
  const r = await h2load(port, n);
  const c1 = pid === undefined ? 0 : cpuOf(pid);
  return { name, rps: r.rps, meanMs: r.meanMs, cpuUsPerReq: pid === undefined ? undefined : (c1 - c0) / (r.done || 1), failed: r.failed };
}

async function grpcLoad(ctx: ProtocolsContext, port: number, seconds: number): Promise<{ rps: number; p50_ms: number; p99_ms: number; calls: number; errors: number }> {
  const out = await run("taskset", ["-c", "1", join(ctx.root, "node_modules", ".bin", "node"), join(ctx.root, "bench", "load", "grpc.ts"), "client", "--port", String(port), "--authority", "bench", "--seconds", String(seconds)]);
  return JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
}

/** Runs the rows; returns the table as text (Markdown). */
export async function protocolsBench(ctx: ProtocolsContext, upstreamPort: number): Promise<string> {
  const n = ctx.quick ? 20_000 : 100_000;
  const seconds = ctx.quick ? 3 : 8;
  const procs: ChildProcess[] = [];
  const rows: Row[] = [];
  const grpcRows: { name: string; rps: number; p50: number; p99: number; cpu: number | undefined; errors: number }[] = [];
  try {
    const direct = await nginxH2(ctx, "h2-direct", `location / { default_type text/plain; return 200 "hello from the bench upstream\\n"; }`);
    procs.push(direct.child);
    const amime = await startAmime(ctx, upstreamPort, "http1");
    procs.push(amime.child);
    const nginx = await nginxH2(ctx, "h2-nginx", `location / { proxy_pass http://h2_upstream; proxy_http_version 1.1; proxy_set_header Connection ""; }`, `upstream h2_upstream { server 127.0.0.1:${upstreamPort}; keepalive 64; }`);
    procs.push(nginx.child);
    // Warm-up (JIT, pools), then one measured run each.
    for (const p of [amime.port, nginx.port]) await h2load(p, Math.floor(n / 4));
    rows.push(await measureH2("direct (nginx h2c)", direct.port, undefined, n));
    rows.push(await measureH2("amime h2c → h1", amime.port, amime.child.pid, n));
    rows.push(await measureH2("nginx h2c → h1", nginx.port, nginx.child.pid, n));
    ctx.log(`h2: ${rows.map((r) => `${r.name} ${r.rps.toFixed(0)} req/s`).join("; ")}`);

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
    for (const p of procs) await stopProcess(p, p.spawnargs.includes(NGINX) ? "SIGQUIT" : "SIGTERM").catch(() => {});
  }
  const fmt = (x: number | undefined, d = 1): string => (x === undefined ? "" : x.toFixed(d));
  let out = "\nHTTP/2 (h2load -c 16 -m 10, prior knowledge)\n| target | req/s | mean ms | CPU µs/req | failed |\n|---|---|---|---|---|\n";
  for (const r of rows) out += `| ${r.name} | ${r.rps.toFixed(0)} | ${fmt(r.meanMs, 2)} | ${fmt(r.cpuUsPerReq)} | ${r.failed} |\n`;
  out += "\ngRPC unary (@grpc/grpc-js, 16 concurrent calls, closed loop)\n| target | calls/s | p50 ms | p99 ms | CPU µs/call | errors |\n|---|---|---|---|---|---|\n";
  for (const r of grpcRows) out += `| ${r.name} | ${r.rps.toFixed(0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.cpu)} | ${r.errors} |\n`;
  return out;
}
