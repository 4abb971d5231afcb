// The fixed-rate phase of bench/run.ts and of bench/protocols.ts' h2c rows: short windows at a fixed
// rate with the targets interleaved (A B A B … within a round), so that the VM's drift over a round
// hits every target alike. An HTTP/1.1 window is one run of bench/load/fixed-rate.ts, which reads the
// target's CPU time (bench/lib/proc.ts) from its first request sent to its last response received.
import { join } from "node:path";
import type { RunningTarget } from "../targets/target.ts";
import { run } from "./spawn.ts";

export interface RateWindow {
  /** The target's CPU time over the window, µs. */
  cpuUs: number;
  sent: number;
  errors: number;
  /** Each request's latency, µs, sorted. */
  latenciesUs: number[];
}

/** A target's CPU per request at the rate in one round: its windows together, and each window's. */
export type RateFigures = Pick<RateRound, "cpuUsPerReq" | "windowsUsPerReq">;

/** One round's fixed-rate figures of a target: its windows merged. */
export interface RateRound {
  /** CPU time over requests of all the round's windows. */
  cpuUsPerReq: number;
  /** CPU per request of each window, in the order they ran (window i of every target ran back to back). */
  windowsUsPerReq: number[];
  p50: number;
  p90: number;
  p99: number;
  errors: number;
}

/** `ms` milliseconds at `rate` requests per second over 16 keep-alive connections, from CPU 1. */
async function rateWindow(root: string, t: RunningTarget, rate: number, ms: number): Promise<RateWindow> {
  const node = join(root, "node_modules", ".bin", "node");
  const args = [join(root, "bench", "load", "fixed-rate.ts"), "--port", String(t.port), "--rate", String(rate), "--connections", "16", "--duration-ms", String(ms), "--authority", t.authority, "--cpu-pids", t.pids().join(","), "--latencies"];
  const out = await run("taskset", ["-c", "1", node, ...args, ...(t.headers ?? []).flatMap((h) => ["--header", h])]);
  const r = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as { sent: number; errors: number; cpu_us: number; latencies_us: number[] };
  return { cpuUs: r.cpu_us, sent: r.sent, errors: r.errors, latenciesUs: r.latencies_us };
}

/** `windows` windows of `ms` per target, the targets in turn within each; each target's windows merged. */
export function rateRound(root: string, targets: readonly RunningTarget[], rate: number, windows: number, ms: number): Promise<Map<string, RateRound>> {
  return interleavedWindows(targets, windows, (t) => rateWindow(root, t, rate, ms));
}

/**
 * `windows` windows per target (`window` runs one), the targets in turn within each (A B A B …; window
 * w in the order `orderOf(w)`, by default the targets'); each target's windows merged. The HTTP/1.1 rows (fixed-rate.ts) and the h2c rows (h2load) both run theirs here.
 */
export async function interleavedWindows<T extends { name: string }>(targets: readonly T[], windows: number, window: (t: T) => Promise<RateWindow>, orderOf: (w: number) => readonly T[] = () => targets): Promise<Map<string, RateRound>> {
  const got = new Map<string, RateWindow[]>(targets.map((t) => [t.name, []]));
  for (let w = 0; w < windows; w++) {
    for (const t of orderOf(w)) got.get(t.name)?.push(await window(t));
  }
  const rounds = new Map<string, RateRound>();
  for (const [name, ws] of got) {
    const sent = ws.reduce((s, w) => s + w.sent, 0);
    const latencies = ws.flatMap((w) => w.latenciesUs).sort((a, b) => a - b);
    const q = (p: number): number => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) / 1000;
    rounds.set(name, {
      cpuUsPerReq: sent ? ws.reduce((s, w) => s + w.cpuUs, 0) / sent : 0,
      windowsUsPerReq: ws.map((w) => (w.sent ? w.cpuUs / w.sent : 0)),
      p50: q(0.5),
      p90: q(0.9),
      p99: q(0.99),
      errors: ws.reduce((s, w) => s + w.errors, 0),
    });
  }
  return rounds;
}

/**
 * a's CPU per request at the fixed rate over b's, round by round (each round's windows together) and
 * window by window (window i of a and b ran back to back), printed as the bench prints them.
 */
export function windowRatios(a: readonly RateFigures[], b: readonly RateFigures[]): { rounds: number[]; windows: number[]; text: string } {
  const rounds = a.map((r, i) => r.cpuUsPerReq / (b[i]?.cpuUsPerReq || 1));
  const windows = a.flatMap((r, i) => r.windowsUsPerReq.map((x, j) => x / (b[i]?.windowsUsPerReq[j] || 1)));
  const w = quartiles(windows);
  const text = `${rounds.map((x) => x.toFixed(3)).join(" ")}; median ${median(rounds).toFixed(3)}; windows (${windows.length}): median ${w.median.toFixed(3)}, IQR ${w.q1.toFixed(3)}–${w.q3.toFixed(3)}, min–max ${w.min.toFixed(3)}–${w.max.toFixed(3)}`;
  return { rounds, windows, text };
}

/** The middle value; of an even count the mean of the two middle ones (the lower one would favour the numerator of a ratio). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Quartiles of a sample (nearest rank): min, lower quartile, median, upper quartile, max. */
export function quartiles(xs: readonly number[]): { min: number; q1: number; median: number; q3: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.round(p * (s.length - 1))] ?? 0;
  return { min: at(0), q1: at(0.25), median: at(0.5), q3: at(0.75), max: at(1) };
}
