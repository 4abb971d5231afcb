// One container of a pod on the test node: its process (started by mount.ts's launcher), its
// probes, its restarts (the kubelet's back-off: 10 s doubling to 300 s) and its status, in the
// API's shape (state running / waiting / terminated, lastState, restartCount, started, ready).
import { spawn, type ChildProcess } from "node:child_process";
import { launchArgv } from "./mount.ts";

type State =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; signal?: number; reason: string; message?: string; startedAt: string; finishedAt: string } };

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6 };
const LOG_TAIL = 16 * 1024;

export class Container {
  readonly name: string;
  readonly image: string;
  state: State = { waiting: { reason: "ContainerCreating" } };
  lastState: State | Record<string, never> = {};
  restartCount = 0;
  started = false;
  ready = false;
  /** The last output lines (stdout and stderr), for failure messages. */
  log = "";
  private child: ChildProcess | null = null;
  /** Resolves once the container's namespaces and mounts are made (its program is being exec'd), or it ended. */
  made: Promise<void> = Promise.resolve();
  private exitWaiters: (() => void)[] = [];

  constructor(name: string, image: string) {
    this.name = name;
    this.image = image;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null;
  }

  wait(reason: string, message?: string): void {
    this.state = { waiting: message === undefined ? { reason } : { reason, message } };
  }

  /** Start the process; `onExit` gets its exit code (128+n for a signal). */
  run(netns: string | null, script: string, argv: readonly string[], env: Record<string, string>, onExit: (code: number) => void): void {
    const [cmd, ...rest] = launchArgv(netns, script, argv);
    const startedAt = new Date().toISOString();
    const child = spawn(cmd!, rest, { env, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    this.child = child;
    this.made = new Promise<void>((resolve) => {
      child.stdio[3]!.once("data", () => resolve());
      child.once("close", () => resolve());
    });
    this.state = { running: { startedAt } };
    const keep = (d: Buffer): void => {
      this.log = (this.log + d.toString()).slice(-LOG_TAIL);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.once("error", (e) => keep(Buffer.from(`${e.message}\n`)));
    child.once("close", (code, signal) => {
      this.child = null;
      const exitCode = code ?? 128 + (SIGNALS[signal ?? ""] ?? 0);
      const lastLine = this.log.trimEnd().split("\n").pop() ?? "";
      this.state = { terminated: { exitCode, ...(signal ? { signal: SIGNALS[signal] ?? 0 } : {}), reason: exitCode === 0 ? "Completed" : "Error", ...(exitCode === 0 ? {} : { message: lastLine.slice(0, 1000) }), startedAt, finishedAt: new Date().toISOString() } };
      this.started = false;
      this.ready = false;
      for (const w of this.exitWaiters.splice(0)) w();
      onExit(exitCode);
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs: number): Promise<void> {
    const child = this.child;
    if (child === null) return;
    const gone = new Promise<void>((r) => this.exitWaiters.push(r));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await gone;
    clearTimeout(t);
  }

  /** Before a restart: the finished run becomes lastState. */
  restarting(): void {
    this.lastState = this.state;
    this.restartCount++;
  }

  status(): object {
    return { name: this.name, image: this.image, imageID: `amime-test-node://${this.image}`, ...(this.pid !== null ? { containerID: `amime-test-node://${this.pid}` } : {}), state: this.state, lastState: this.lastState, ready: this.ready, started: this.started, restartCount: this.restartCount };
  }
}
