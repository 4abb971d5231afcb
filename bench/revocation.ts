// Revocation propagation (issue 12: "p99 ≤ 1 s at bookinfo size"): time from
// `POST`/`DELETE /api/v1/ca/revocations` (what `amime ca revoke`/`unrevoke` send) returning to
// every connected proxy having ACKed a config version that carries the change.
//
// Starts `amime up -f samples/bookinfo` (7 sidecars + the ingress gateway, real processes), then
// alternately revokes and un-revokes an identity no workload uses (so no certificate is re-issued
// and the mesh keeps serving), `--ops` times. Before each call it reads every connected proxy's
// ACKed version from `/api/v1/proxies`; after the call returns it polls that list every 2 ms until
// every connected proxy is SYNCED on a version different from the one it had. It then checks that
// the pushed config of one proxy has (or no longer has) the identity in its `revocations`, so a
// version bump that did not carry the change fails the run.
//
// Usage: node bench/revocation.ts [--ops 30]
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { benchArgs } from "./lib/args.ts";
import { get, randomPortBase, ROOT, UpRun } from "../test/e2e/up-harness.ts";

const { values } = benchArgs({ options: { ops: { type: "string", default: "30" } } });
const ops = Number(values.ops);

interface Proxy { node: string; connected: boolean; state: string; ackedVersion: string | null }

function call(url: string, method: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers } }, (res) => {
      let out = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (out += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: out }));
    });
    req.on("error", reject);
    req.end(text);
  });
}

async function proxies(cp: string, auth: Record<string, string>): Promise<Proxy[]> {
  return (JSON.parse((await get(`${cp}/api/v1/proxies`, auth)).body) as Proxy[]).filter((p) => p.connected);
}

const at = (s: number[], q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? 0;

const run = new UpRun(["-f", join(ROOT, "samples", "bookinfo"), "--port-base", String(await randomPortBase())]);
try {
  const state = await run.waitStarted(60_000);
  const cp = state.controlPlane;
  const auth = run.auth();
  const identity = `spiffe://cluster.local/ns/default/sa/bench-revoked-${process.pid}`;
  // Every proxy SYNCED before the first operation.
  for (;;) {
    const ps = await proxies(cp, auth);
    if (ps.length >= state.instances.length && ps.every((p) => p.state === "SYNCED")) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const samples: number[] = [];
  let count = 0;
  for (let i = 0; i < ops; i++) {
    const revoke = i % 2 === 0;
    const before = new Map((await proxies(cp, auth)).map((p) => [p.node, p.ackedVersion]));
    const r = await call(`${cp}/api/v1/ca/revocations`, revoke ? "POST" : "DELETE", { identity }, auth);
    const t0 = performance.now();
    if (r.status !== 200 || !(JSON.parse(r.body) as { changed: boolean }).changed) throw new Error(`${revoke ? "revoke" : "unrevoke"}: ${r.status} ${r.body}`);
    let ps: Proxy[];
    for (;;) {
      ps = await proxies(cp, auth);
      if (ps.every((p) => p.state === "SYNCED" && p.ackedVersion !== null && p.ackedVersion !== before.get(p.node))) break;
      await new Promise((res) => setTimeout(res, 2));
    }
    samples.push(performance.now() - t0);
    count = ps.length;
    const cfg = JSON.parse((await get(`${cp}/api/v1/proxies/${encodeURIComponent(ps[0]!.node)}/config`, auth)).body) as { revocations?: { identities?: string[] } };
    const listed = cfg.revocations?.identities?.includes(identity) ?? false;
    if (listed !== revoke) throw new Error(`op ${i}: ${ps[0]!.node}'s ACKed config ${revoke ? "lacks" : "still has"} ${identity}`);
  }
  samples.sort((a, b) => a - b);
  const f = (x: number): string => `${x.toFixed(0)} ms`;
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(`revoke/unrevoke → all ${count} proxies ACKed, ${samples.length} ops: p50 ${f(at(samples, 0.5))}, p99 ${f(at(samples, 0.99))}, max ${f(samples.at(-1) ?? 0)} (load average ${load})`);
} finally {
  await run.stop("SIGINT").catch(() => run.killAll());
  run.cleanup();
}
