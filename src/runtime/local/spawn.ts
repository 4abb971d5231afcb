// Spawning the mesh's child processes (apps, sidecars, the gateway) so that none outlives
// `amime up`:
// - each child runs under a tiny `/bin/sh` guard in its own process group (detached), so stopping
//   an instance signals the whole group, including anything the app forked;
// - the guard watches the `amime up` process: if it disappears (even SIGKILLed, when no signal
//   handler runs), the guard sends SIGTERM to its group, then SIGKILL 5 s later. No prctl, no
//   native code: a `kill -0` poll once a second.
// The guard exits with the app's exit status (128 + n when the app died of signal n).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";

/** $1 = pid to watch, the rest = the command. */
const GUARD = [
  'p=$1; shift',
  '"$@" &',
  'c=$!',
  // The watcher ignores TERM so that stopping the group does not stop it before its job is done.
  "( trap '' TERM INT HUP; while kill -0 \"$p\" 2>/dev/null; do sleep 1; done; kill -TERM 0; i=0; while [ $i -lt 10 ] && kill -0 \"$c\" 2>/dev/null; do sleep 0.5; i=$((i+1)); done; kill -KILL 0 ) &",
  'w=$!',
  "trap 'kill -TERM \"$c\" 2>/dev/null' TERM INT HUP",
  'wait "$c"; s=$?',
  // A trapped signal interrupts `wait`: keep waiting until the app itself is gone.
  'while kill -0 "$c" 2>/dev/null; do wait "$c"; s=$?; done',
  'kill -KILL "$w" 2>/dev/null',
  'exit "$s"',
].join("\n");

export interface SpawnSpec {
  command: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** The process whose death stops the child (default: this one). */
  watchPid?: number;
}

export interface Exit {
  /** The app's exit code; null when it died of a signal. */
  code: number | null;
  signal: string | null;
}

export class GuardedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly startedAt = performance.now();
  private exitInfo: Exit | null = null;

  constructor(spec: SpawnSpec) {
    const fd = openSync(spec.logFile, "a");
    try {
      this.child = spawn("/bin/sh", ["-c", GUARD, "amime-guard", String(spec.watchPid ?? process.pid), spec.command, ...spec.args], {
        cwd: spec.cwd,
        env: spec.env,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      this.child.once("error", () => {
        this.exitInfo = { code: 127, signal: null };
        resolve(this.exitInfo);
      });
      this.child.once("exit", (code, signal) => {
        // The guard reports a signalled app as 128+n; give callers the signal's name instead.
        this.exitInfo = code !== null && code > 128 ? { code: null, signal: signalName(code - 128) } : { code, signal };
        // Sweep whatever the app left behind in its group (forked children, the watcher's sleep).
        this.signalGroup("SIGKILL");
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === null && this.child.pid !== undefined;
  }

  /** Signal the whole process group; false when it is already gone. */
  signalGroup(signal: NodeJS.Signals): boolean {
    const pid = this.child.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGTERM the group, SIGKILL it after graceMs; resolves when the guard has exited. */
  async stop(graceMs = 5000): Promise<Exit> {
    if (!this.running) return this.exitInfo ?? (await this.exited);
    this.signalGroup("SIGTERM");
    const timer = setTimeout(() => this.signalGroup("SIGKILL"), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

const SIGNALS: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM" };

function signalName(n: number): string {
  return SIGNALS[n] ?? `signal ${n}`;
}
