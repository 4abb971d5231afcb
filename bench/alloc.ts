// Bytes allocated per HTTP/1.1 request by the sidecar as deployed (issue 15): a measure that, unlike
// CPU time, does not depend on what else the machine runs.
//
// The sidecar runs the deployed config (bench/targets/deployed.ts), started as the runtimes start it
// (the built JavaScript tree with the sidecar's V8 flags) plus `--trace-gc-nvp`, pinned to CPU 0; the
// upstream (nginx) and wrk (one thread, 16 keep-alive connections) share CPU 1. After `--warmup`
// seconds of wrk, `--seconds` more: B/request = the sum of `allocated=` (bytes allocated since the
// collection before) over the collections V8 logged during that run / the requests wrk completed.
// `--rounds N` repeats the measured run and prints each round and the median.
//
// `--h2c`: the load is h2load with prior knowledge (16 connections × 10 streams, `-D` seconds)
// instead of wrk: bytes per h2c → HTTP/1.1 request. `--code DIR`: measure the sidecar of another
// checkout (built there), e.g. a worktree of the commit before a change.
//
// `--sites`: instead, V8's sampling heap profiler (256-byte interval, objects collected by either GC
// included) during one run, printed as bytes per request by site (function ← caller).
//
// Usage: node bench/alloc.ts [--seconds 6] [--warmup 5] [--rounds 3] [--h2c] [--code DIR] [--sites] [--top 25] [--json]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs } from "./lib/args.ts";
import { SIDECAR_NODE_FLAGS, sidecarEnv } from "../src/core/sidecar-node-flags.ts";
import { sidecarLaunch } from "../src/runtime/js-build/sidecar-launch.ts";
import { inspectorUrl, sampleAllocations } from "./lib/heap-sampling.ts";
import { freePort, run, stopProcess } from "./lib/spawn.ts";
import { DEPLOYED_AUTHORITY, deployedProxyConfig } from "./targets/deployed.ts";
import { startNginx } from "./targets/nginx.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = benchArgs({
  options: {
    seconds: { type: "string", default: "6" },
    warmup: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    sites: { type: "boolean", default: false },
    top: { type: "string", default: "25" },
    json: { type: "boolean", default: false },
    h2c: { type: "boolean", default: false },
    code: { type: "string" },
  },
});
const codeRoot = values.code ?? root;
const node = join(root, "node_modules", ".bin", "node");

async function wrk(port: number, seconds: number): Promise<number> {
  if (values.h2c) {
    const h2 = await run("taskset", ["-c", "1", "h2load", "-c", "16", "-m", "10", "-D", String(seconds), "-H", `:authority: ${DEPLOYED_AUTHORITY}`, `http://127.0.0.1:${port}/`]);
    return Number(/requests: \d+ total, \d+ started, (\d+) done/.exec(h2)?.[1] ?? 0);
  }
  const out = await run("taskset", ["-c", "1", "wrk", "-t1", "-c16", `-d${seconds}s`, "-H", `Host: ${DEPLOYED_AUTHORITY}`, `http://127.0.0.1:${port}/`]);
  return Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
}

/** The sum of `allocated=` over the --trace-gc-nvp lines in `log`. */
function allocatedIn(log: string): number {
  let sum = 0;
  for (const m of log.matchAll(/\ballocated=(\d+)/g)) sum += Number(m[1]);
  return sum;
}

const workDir = mkdtempSync(join(tmpdir(), "amime-alloc-"));
const upstream = await startNginx({ workDir, root, upstreamPort: 0, cpu: "1" }, "upstream", `location / { default_type text/plain; return 200 "hello from the bench upstream\\n"; }`);
try {
  const port = await freePort();
  const file = join(workDir, "proxy.json");
  writeFileSync(file, JSON.stringify(deployedProxyConfig(root, port, upstream.port, "deployed")));
  const entry = (await sidecarLaunch(codeRoot)).args.at(-1)!;
  const probe = values.sites ? "--inspect=127.0.0.1:0" : "--trace-gc-nvp";
  const child = spawn("taskset", ["-c", "0", node, ...SIDECAR_NODE_FLAGS, probe, entry, "proxy", "--config", file, "--admin-port", "0"], { cwd: codeRoot, env: sidecarEnv(process.env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (out.includes('"ready":true')) resolve();
      };
      child.stdout.on("data", check);
      child.once("exit", (code) => reject(new Error(`amime proxy exited ${code}: ${err.slice(0, 2000)}`)));
    });
    await wrk(port, Number(values.warmup));
    if (values.sites) {
      const url = inspectorUrl(err);
      if (!url) throw new Error(`no inspector address in the proxy's stderr: ${err.slice(0, 500)}`);
      let requests = 0;
      const sites = await sampleAllocations(url, async () => {
        requests = await wrk(port, Number(values.seconds));
      });
      const total = sites.reduce((s, x) => s + x.bytes, 0);
      if (values.json) process.stdout.write(`${JSON.stringify({ requests, bytesPerRequest: total / requests, sites: sites.slice(0, Number(values.top)).map((s) => ({ ...s, bytesPerRequest: s.bytes / requests })) })}\n`);
      else {
        process.stdout.write(`sampled ${Math.round(total / requests)} B/request over ${requests} requests; by site (function ← caller):\n`);
        for (const s of sites.slice(0, Number(values.top))) process.stdout.write(`${String(Math.round(s.bytes / requests)).padStart(6)}  ${s.site}\n`);
      }
    } else {
      const rounds: { requests: number; bytesPerRequest: number }[] = [];
      for (let i = 0; i < Number(values.rounds); i++) {
        const from = out.length;
        const requests = await wrk(port, Number(values.seconds));
        rounds.push({ requests, bytesPerRequest: Math.round(allocatedIn(out.slice(from)) / requests) });
      }
      const median = [...rounds].sort((a, b) => a.bytesPerRequest - b.bytesPerRequest)[rounds.length >> 1]!.bytesPerRequest;
      if (values.json) process.stdout.write(`${JSON.stringify({ rounds, medianBytesPerRequest: median })}\n`);
      else process.stdout.write(`bytes allocated per request: ${rounds.map((r) => `${r.bytesPerRequest} (${r.requests} requests)`).join(", ")}; median ${median} B\n`);
    }
  } finally {
    await stopProcess(child);
  }
} finally {
  await stopProcess(upstream.child, "SIGQUIT");
  rmSync(workDir, { recursive: true, force: true });
}
