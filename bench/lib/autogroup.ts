// `--nice N`: run a benchmark in a scheduler autogroup of its own at nice N (Linux, root for N < 0).
//
// With autogroups on (kernel.sched_autogroup_enabled = 1, the default), CFS shares each CPU between
// sessions first and between a session's processes second, so nice(1) on the bench's processes does
// nothing against other sessions' load. A new session (setsid) gets an autogroup of its own, whose
// nice is /proc/self/autogroup. The bench re-runs itself in a new session, sets that, and every
// process it starts (the proxies, the upstream, wrk) inherits the autogroup: all rows get the same
// priority, so the comparison stays fair, and the rest of the machine (other sessions' tests) gets
// what is left — at −19 very little, so their timed waits may fail while the bench runs.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { exitWithUsage } from "./args.ts";

const CHILD_MARK = "AMIME_BENCH_AUTOGROUP_NICE";

/**
 * With `nice` undefined: returns at once. Otherwise, in the first process: re-runs this script in a
 * new session and exits with its status (never returns); in that re-run: sets the session's
 * autogroup nice and returns.
 */
export async function inOwnAutogroup(nice: string | undefined): Promise<void> {
  if (nice === undefined) return;
  const n = Number(nice);
  if (!Number.isInteger(n) || n < -20 || n > 19) exitWithUsage(`--nice: an integer from -20 to 19 (got ${nice})`);
  if (!existsSync("/proc/self/autogroup") || readFileSync("/proc/sys/kernel/sched_autogroup_enabled", "utf8").trim() !== "1") {
    exitWithUsage("--nice needs the kernel's scheduler autogroups (/proc/sys/kernel/sched_autogroup_enabled = 1)");
  }
  if (process.env[CHILD_MARK] === String(n)) {
    try {
      writeFileSync("/proc/self/autogroup", String(n));
    } catch (e) {
      exitWithUsage(`--nice ${n}: cannot set this session's autogroup nice (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; below 0 needs root)`);
    }
    return;
  }
  // detached: the child calls setsid(), which gives it (and all it starts) a new autogroup.
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit", detached: true, env: { ...process.env, [CHILD_MARK]: String(n) } });
  const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((resolve) => child.on("exit", (c, sig) => resolve(c ?? (sig !== null ? 1 : 0))));
  process.exit(code);
}
