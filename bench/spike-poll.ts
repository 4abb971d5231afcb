// The sidecar's RSS spikes, ms by ms (issue 15). bench/peak-probe.ts samples smaps every 20–100 ms; the
// spikes that set VmHWM at 1,000 rps last 1–30 ms (a TurboFan job's zone memory, malloc'd in a glibc
// arena and given back with MADV_DONTNEED when the job's zones are freed), so they fall between its
// samples. Started before peak-probe, this waits for the next sidecar peak-probe starts (a new process
// running /tmp/amime-peak-*/node), reads its /proc/PID/status every ≈ 0.3 ms until it exits and prints:
// when the load started (RSS first above --load-mb), the times VmHWM rose, and every spike (RSS more than
// --spike-mb above its lowest value of the previous 100 ms, once the load has started), in ms since the
// load started. Run it on the
// load's core so that it takes nothing from the sidecar's; `--parent` (peak-probe's pid) keeps it to that
// probe's sidecar when other probes run on the machine:
//
//   node bench/peak-probe.ts & taskset -c 1 node bench/spike-poll.ts --parent $!
//
// Usage: node bench/spike-poll.ts [--parent PID] [--load-mb 56] [--spike-mb 0.4] [--json FILE] [--timeout-s 60]
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { benchArgs, exitWithUsage } from "./lib/args.ts";

const USAGE = "Usage: node bench/spike-poll.ts [--parent PID] [--load-mb 56] [--spike-mb 0.4] [--json FILE] [--timeout-s 60]";
const { values } = benchArgs(
  {
    options: {
      parent: { type: "string" },
      "load-mb": { type: "string", default: "56" },
      "spike-mb": { type: "string", default: "0.4" },
      json: { type: "string" },
      "timeout-s": { type: "string", default: "60" },
    },
  },
  USAGE,
);
const positive = (name: "load-mb" | "spike-mb" | "timeout-s"): number => {
  const n = Number(values[name]);
  if (!(n > 0)) exitWithUsage(`--${name} takes a positive number, not ${values[name]}`, USAGE);
  return n;
};
const loadMb = positive("load-mb");
const spikeMb = positive("spike-mb");
const timeoutMs = positive("timeout-s") * 1000;
if (values.parent !== undefined && !/^[1-9]\d*$/.test(values.parent)) exitWithUsage(`--parent takes a pid, not ${values.parent}`, USAGE);
const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const isPid = (name: string): boolean => /^\d+$/.test(name);
const before = new Set(readdirSync("/proc").filter(isPid));
function newSidecar(): string | null {
  for (const p of readdirSync("/proc")) {
    // Without --parent, only a process started after this one.
    if (!isPid(p) || (values.parent === undefined && before.has(p))) continue;
    try {
      if (!/\/amime-peak-[^/]+\/node$/.test(readlinkSync(`/proc/${p}/exe`))) continue;
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after its ")".
      const ppid = readFileSync(`/proc/${p}/stat`, "latin1").split(") ")[1]?.split(" ")[1];
      if (values.parent === undefined || ppid === values.parent) return p;
    } catch {
      // Gone, or not ours to read.
    }
  }
  return null;
}

const waitStart = performance.now();
let pid = newSidecar();
while (pid === null) {
  if (performance.now() - waitStart > timeoutMs) exitWithUsage(`no new /tmp/amime-peak-*/node process in ${values["timeout-s"]} s`, USAGE);
  sleep(2);
  pid = newSidecar();
}

/** [ms since the sidecar was found, VmRSS MB, VmHWM MB] */
const samples: [number, number, number][] = [];
const t0 = performance.now();
for (;;) {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    break;
  }
  const rss = /VmRSS:\s+(\d+)/.exec(status);
  const hwm = /VmHWM:\s+(\d+)/.exec(status);
  if (rss === null || hwm === null) break; // exiting: no memory left to read
  samples.push([performance.now() - t0, Number(rss[1]) / 1024, Number(hwm[1]) / 1024]);
  sleep(0.25);
}
if (samples.length === 0) exitWithUsage(`process ${pid} exited before a sample`, USAGE);

const loadAt = samples.find((s) => s[1] > loadMb)?.[0] ?? 0;
const rel = (t: number): number => Math.round(t - loadAt);

const rises: { t: number; hwm: number }[] = [];
let lastHwm = 0;
for (const [t, , hwm] of samples) {
  if (hwm > lastHwm + 0.05) rises.push({ t: rel(t), hwm: +hwm.toFixed(2) });
  if (hwm > lastHwm) lastHwm = hwm;
}

interface Spike { start: number; end: number; at: number; max: number; base: number }
const spikes: Spike[] = [];
const window: number[] = []; // indices of samples, their RSS increasing: the running minimum of the last 100 ms
for (let i = 0; i < samples.length; i++) {
  const [t, rss] = samples[i]!;
  while (window.length > 0 && samples[window[window.length - 1]!]![1] >= rss) window.pop();
  window.push(i);
  while (samples[window[0]!]![0] < t - 100) window.shift();
  const base = samples[window[0]!]![1];
  if (rss - base <= spikeMb) continue;
  const last = spikes[spikes.length - 1];
  if (last !== undefined && rel(t) - last.end < 30) {
    last.end = rel(t);
    if (rss > last.max) Object.assign(last, { max: rss, at: rel(t) });
  } else spikes.push({ start: rel(t), end: rel(t), at: rel(t), max: rss, base });
}

const mb = (n: number): string => n.toFixed(2);
console.log(`pid ${pid}: ${samples.length} samples over ${Math.round(samples[samples.length - 1]![0])} ms; load from ${Math.round(loadAt)} ms; VmHWM ${mb(lastHwm)} MB`);
console.log(`VmHWM rose (ms into the load: MB): ${rises.filter((r) => r.t > -100).map((r) => `${r.t}: ${r.hwm}`).join(", ")}`);
for (const s of spikes) {
  if (s.base < loadMb) continue; // the load's first rise, not a spike
  console.log(`  spike ${s.start}–${s.end} ms: ${mb(s.max)} MB at ${s.at}, +${mb(s.max - s.base)} over ${mb(s.base)}`);
}
if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ pid, loadAt, rises, spikes }));
