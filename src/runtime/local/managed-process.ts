// A supervised child: started through the guard (spawn.ts), restarted after it exits as its
// restartPolicy says, with exponential backoff (backoff.ts). Apps, sidecars and the gateway are
// each one of these.
import type { RestartPolicy } from "../../model/specs/workload.ts";
import { RestartBackoff, shouldRestart } from "./backoff.ts";
import { GuardedProcess, type Exit, type SpawnSpec } from "./spawn.ts";

export interface ManagedProcessOptions {
  spec: () => SpawnSpec;
  policy: RestartPolicy;
  /** A new process is running. */
  onStart?: (proc: GuardedProcess) => void;
  /** It exited; `restartInMs` null = it stays down. Not called for exits stop() caused. */
  onExit?: (exit: Exit, restartInMs: number | null) => void;
  backoff?: RestartBackoff;
}

export class ManagedProcess {
  private readonly opts: ManagedProcessOptions;
  private readonly backoff: RestartBackoff;
  private proc: GuardedProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  restarts = 0;

  constructor(opts: ManagedProcessOptions) {
    this.opts = opts;
    this.backoff = opts.backoff ?? new RestartBackoff();
  }

  get current(): GuardedProcess | null {
    return this.proc?.running ? this.proc : null;
  }

  start(): void {
    if (this.stopping) return;
    const proc = new GuardedProcess(this.opts.spec());
    this.proc = proc;
    this.opts.onStart?.(proc);
    void proc.exited.then((exit) => {
      if (this.stopping || this.proc !== proc) return;
      const ranFor = performance.now() - proc.startedAt;
      const again = shouldRestart(this.opts.policy, exit.code);
      const delay = again ? this.backoff.next(ranFor) : null;
      this.opts.onExit?.(exit, delay);
      if (delay === null) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.restarts++;
        this.start();
      }, delay);
    });
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.proc) await this.proc.stop(graceMs);
  }
}
