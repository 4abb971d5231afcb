// Reading a V8 .cpuprofile (node --cpu-prof): self time per function, summed over the profile's
// nodes, for `bench/run.ts --profile`. Sample counts are turned into time with timeDeltas.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  /** file:line (relative to `root` when under it). */
  where: string;
  selfMs: number;
  percent: number;
}

/** Functions by self time, biggest first. `(idle)` is left out of the percentages. */
export function topSelfTime(file: string, root: string, limit = 30): { rows: SelfTime[]; totalMs: number; idleMs: number } {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    // The delta of sample i+1 is the time spent in sample i's frame.
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const sums = new Map<string, SelfTime>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n === undefined) continue;
    const f = n.callFrame;
    const name = f.functionName || "(anonymous)";
    if (name === "(idle)") {
      idle += us;
      continue;
    }
    total += us;
    const url = f.url.startsWith("file://") ? relative(root, new URL(f.url).pathname) : f.url;
    const where = url === "" ? "" : `${url}:${f.lineNumber + 1}`;
    const key = `${name} ${where}`;
    const cur = sums.get(key);
    if (cur === undefined) sums.set(key, { name, where, selfMs: us / 1000, percent: 0 });
    else cur.selfMs += us / 1000;
  }
  const rows = [...sums.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, limit);
  for (const r of rows) r.percent = total > 0 ? (r.selfMs * 100_000) / total : 0;
  return { rows, totalMs: total / 1000, idleMs: idle / 1000 };
}
