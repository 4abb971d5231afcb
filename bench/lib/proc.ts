// Process measurements from /proc: CPU time and peak RSS of a set of pids.
import { existsSync, readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * CPU time in microseconds used so far by the process: the sum over its threads of the run time
 * the scheduler accounted (`/proc/PID/task/TID/schedstat`, first field, nanoseconds). utime + stime
 * of `/proc/PID/stat` come in clock ticks (10 ms): a 2.5 s window at 1,000 rps holds ≈ 15–20 ticks
 * of a proxy's CPU, so one tick is 5–7 % of the figure; the scheduler's sum is the same quantity
 * (the kernel scales utime + stime to it) to the nanosecond. A thread that exits between two reads
 * takes its time with it: the proxies measured keep their threads (Node's V8 and libuv pools,
 * nginx's single-threaded processes). Without schedstat (a kernel without CONFIG_SCHED_INFO) it
 * falls back to the ticks.
 */
export function cpuMicros(pid: number): number {
  if (!HAVE_SCHEDSTAT) return tickMicros(pid);
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0; // the process is gone
  }
  let ns = 0;
  for (const tid of tids) {
    try {
      const line = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "latin1");
      ns += Number(line.slice(0, line.indexOf(" ")));
    } catch {
      // the thread exited since the listing
    }
  }
  return ns / 1000;
}

const HAVE_SCHEDSTAT = existsSync("/proc/self/schedstat");

/** utime + stime of `/proc/PID/stat` in microseconds (clock-tick resolution; threads included, exited ones too). */
function tickMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1_000_000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU time (µs) of several processes together. */
export function cpuMicrosOf(pids: readonly number[]): number {
  let us = 0;
  for (const pid of pids) us += cpuMicros(pid);
  return us;
}

/** Peak resident set size (VmHWM) in MiB. */
export function peakRssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Children of a pid (one level), for multi-process servers such as nginx. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
