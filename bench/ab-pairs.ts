// An A/B over fresh process pairs (issue 15; docs/performance.md, "Session 15: HTTP/1.1 at saturation").
// One `bench/run.ts --compare DIR` run starts one sidecar per arm, and its rounds re-measure those two
// processes; a sidecar's CPU per request moves by ±4–5 % from one start to the next (pairs of the same
// code in both arms: 0.945–1.037), so the rounds of one run are not independent samples of the code.
// This runs `bench/run.ts --targets amime --compare DIR --rounds 1 --windows 1 --json` `--pairs` times
// (a new pair of sidecars each time, ≈ 75 s each), prints each pair's amime / amime-cmp CPU per request
// (at saturation and at the fixed rate) as it comes, then their medians and ranges.
//
// It measures CPU: hold the bench lock around it, and keep it short (6 pairs ≈ 8 min):
//   flock /work/wt/bench.lock node_modules/.bin/node bench/ab-pairs.ts --compare DIR --pairs 6
//
// Usage: node bench/ab-pairs.ts --compare DIR [--pairs 6] [--amime-config deployed|log|off|bench] [--json]
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs, exitWithUsage } from "./lib/args.ts";
import { median, quartiles } from "./lib/rate-windows.ts";
import { run } from "./lib/spawn.ts";

const USAGE = "Usage: node bench/ab-pairs.ts --compare DIR [--pairs 6] [--amime-config deployed|log|off|bench] [--json]";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = benchArgs(
  {
    options: {
      compare: { type: "string" },
      pairs: { type: "string", default: "6" },
      "amime-config": { type: "string", default: "deployed" },
      json: { type: "boolean", default: false },
    },
  },
  USAGE,
);
if (values.compare === undefined) exitWithUsage("--compare DIR is required (a built checkout to compare with)", USAGE);
const pairs = Number(values.pairs);
if (!Number.isInteger(pairs) || pairs < 1) exitWithUsage(`--pairs: a positive whole number (got ${values.pairs})`, USAGE);

interface RunResult {
  results: Record<string, { cpu_us_per_req?: number; cpu_us_per_req_at_rate?: number; rps?: number }>;
}

const node = join(root, "node_modules", ".bin", "node");
const atSaturation: number[] = [];
const atRate: number[] = [];
const log = (s: string): void => void process.stderr.write(`${s}\n`);
for (let i = 1; i <= pairs; i++) {
  const out = await run(node, [join(root, "bench", "run.ts"), "--targets", "amime", "--compare", values.compare, "--amime-config", values["amime-config"], "--rounds", "1", "--windows", "1", "--json"], { cwd: root });
  // --json prints the results object, then the A/B lines (text) after it.
  const end = out.indexOf("\n}\n");
  const r = (JSON.parse(end < 0 ? out : out.slice(0, end + 2)) as RunResult).results;
  const a = r.amime;
  const b = r["amime-cmp"];
  if (a?.cpu_us_per_req === undefined || b?.cpu_us_per_req === undefined) throw new Error(`bench/run.ts gave no amime / amime-cmp rows: ${out.slice(0, 300)}`);
  atSaturation.push(a.cpu_us_per_req / b.cpu_us_per_req);
  atRate.push((a.cpu_us_per_req_at_rate ?? 0) / (b.cpu_us_per_req_at_rate || 1));
  log(`pair ${i}/${pairs}: saturation ${a.cpu_us_per_req.toFixed(1)} / ${b.cpu_us_per_req.toFixed(1)} µs = ${atSaturation.at(-1)!.toFixed(3)}; at the rate ${atRate.at(-1)!.toFixed(3)}`);
}

const summary = (xs: number[]): string => {
  const q = quartiles(xs);
  return `${xs.map((x) => x.toFixed(3)).join(" ")}; median ${median(xs).toFixed(3)}, range ${q.min.toFixed(3)}–${q.max.toFixed(3)}`;
};
if (values.json) {
  process.stdout.write(`${JSON.stringify({ pairs, saturation: atSaturation, at_rate: atRate, saturation_median: median(atSaturation), at_rate_median: median(atRate) }, null, 2)}\n`);
} else {
  process.stdout.write(`amime / amime-cmp CPU per request over ${pairs} fresh process pair(s):\n`);
  process.stdout.write(`  saturation ${summary(atSaturation)}\n`);
  process.stdout.write(`  at the rate ${summary(atRate)}\n`);
}
