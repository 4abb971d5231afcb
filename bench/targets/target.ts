// A benchmark target: something that listens on a port and forwards to the bench upstream.
export interface RunningTarget {
  name: string;
  port: number;
  /** Authority to send (virtual host the target routes). */
  authority: string;
  /** Extra request headers every load generator sends (`Name: value`), e.g. a bearer token. */
  headers?: string[];
  /** Processes whose CPU and memory count for this target (empty for "direct"). */
  pids(): number[];
  stop(): Promise<void>;
}

export interface StartContext {
  upstreamPort: number;
  workDir: string;
  /** CPU list for taskset, e.g. "0". */
  cpu: string;
  root: string;
  /** Extra flags for a Node target (e.g. `--cpu-prof`); other targets ignore them. */
  nodeArgs?: string[];
}

export interface TargetFactory {
  name: string;
  /** Why it cannot run here, or null when it can. */
  unavailable(): string | null;
  start(ctx: StartContext): Promise<RunningTarget>;
}
