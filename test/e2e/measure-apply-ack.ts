// Measures, on the bookinfo local mesh, the time from `POST /api/v1/apply` (what `amime apply`
// sends) to every connected proxy having ACKed the resulting push. Not a test: run it by hand,
//   node_modules/.bin/node test/e2e/measure-apply-ack.ts
// and copy the numbers into docs/performance.md.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { get, postYaml, randomPortBase, ROOT, UpRun } from "./up-harness.ts";

const NET = join(ROOT, "samples", "networking", "bookinfo");
const files = ["virtual-service-reviews-test-v2.yaml", "virtual-service-reviews-90-10.yaml"].map((f) => readFileSync(join(NET, f), "utf8"));
const run = new UpRun(["-f", join(ROOT, "samples", "bookinfo"), "--port-base", String(await randomPortBase())]);
try {
  const state = await run.waitStarted(60_000);
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const r = await postYaml(`${state.controlPlane}/api/v1/apply`, files[i % 2] ?? "", run.auth());
    const version = (JSON.parse(r.body) as { version: string }).version;
    for (;;) {
      const proxies = (JSON.parse((await get(`${state.controlPlane}/api/v1/proxies`, run.auth())).body) as { connected: boolean; state: string; sentVersion: string }[]).filter((p) => p.connected);
      if (proxies.some((p) => p.sentVersion === version) && proxies.every((p) => p.state === "SYNCED")) break;
      await new Promise((res) => setTimeout(res, 2));
    }
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const pct = (p: number): string => (samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0).toFixed(1);
  console.log(`apply → all ${state.instances.length + 1} proxies ACKed, ${samples.length} applies: p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, max ${pct(1)} ms`);
} finally {
  await run.stop("SIGINT").catch(() => run.killAll());
  run.cleanup();
}
