// Readiness probing of a local app, with Kubernetes' probe semantics: after initialDelaySeconds,
// one check every periodSeconds (each bounded by timeoutSeconds); successThreshold successes in a
// row make the instance ready, failureThreshold failures in a row make it not ready.
// One deviation, so `amime up` does not keep a developer waiting up to periodSeconds for an app
// that is already listening: until an instance is ready for the first time, it is checked every
// `startupIntervalMs` (250 ms). The probe budget (initialDelay + period × failureThreshold, the
// time Kubernetes gives a probe to fail) is how long it may take to become ready before
// `onNeverReady` reports it (at least 10 s).
import { connect } from "node:net";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { ResolvedProbe } from "../../model/specs/workload.ts";
import { httpModule } from "../../core/builtins.ts";


export type ProbeSpec = Omit<ResolvedProbe, "port">;

export interface ProberOptions {
  clock: Clock;
  /** One check; resolves true on success. Never rejects. */
  check: () => Promise<boolean>;
  onChange: (ready: boolean) => void;
  /** Called once if the instance is not ready when the probe budget runs out. */
  onNeverReady?: (budgetMs: number) => void;
  startupIntervalMs?: number;
  /** Floor of the probe budget (default 10 s): a 1 s period must not flag an app still starting. */
  minBudgetMs?: number;
}

export class ReadinessProber {
  private readonly spec: ProbeSpec;
  private readonly opts: ProberOptions;
  private timer: TimerHandle | null = null;
  private budgetTimer: TimerHandle | null = null;
  private stopped = false;
  private everReady = false;
  private successes = 0;
  private failures = 0;
  ready = false;

  constructor(spec: ProbeSpec, opts: ProberOptions) {
    this.spec = spec;
    this.opts = opts;
  }

  /** Time Kubernetes would give this probe to declare failure. */
  get budgetMs(): number {
    const k8s = (this.spec.initialDelaySeconds + this.spec.periodSeconds * this.spec.failureThreshold) * 1000;
    return Math.max(k8s, this.opts.minBudgetMs ?? 10_000);
  }

  start(): void {
    this.schedule(this.spec.initialDelaySeconds * 1000);
    this.budgetTimer = this.opts.clock.setTimeout(() => {
      if (!this.everReady && !this.stopped) this.opts.onNeverReady?.(this.budgetMs);
    }, this.budgetMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.budgetTimer?.cancel();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    const ok = await this.opts.check();
    if (this.stopped) return;
    if (ok) {
      this.successes++;
      this.failures = 0;
      if (!this.ready && this.successes >= this.spec.successThreshold) this.set(true);
    } else {
      this.failures++;
      this.successes = 0;
      if (this.ready && this.failures >= this.spec.failureThreshold) this.set(false);
    }
    const period = this.spec.periodSeconds * 1000;
    this.schedule(this.everReady ? period : Math.min(period, this.opts.startupIntervalMs ?? 250));
  }

  private set(ready: boolean): void {
    this.ready = ready;
    if (ready) this.everReady = true;
    this.opts.onChange(ready);
  }
}

/** One HTTP GET (2xx/3xx = success, as the kubelet) or TCP connect to 127.0.0.1:port. */
export function checkOnce(kind: "httpGet" | "tcpSocket", port: number, path: string, timeoutMs: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => {
      finish(false);
      cleanup();
    }, timeoutMs);
    let cleanup: () => void = () => {};
    if (kind === "tcpSocket") {
      const s = connect({ host, port });
      cleanup = () => s.destroy();
      s.once("connect", () => {
        s.destroy();
        finish(true);
      });
      s.once("error", () => finish(false));
      return;
    }
    const req = httpModule().request({ host, port, path, method: "GET", agent: false, headers: { "user-agent": "amime-probe/0.1", connection: "close" } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      finish(status >= 200 && status < 400);
    });
    cleanup = () => req.destroy();
    req.once("error", () => finish(false));
    req.end();
  });
}
