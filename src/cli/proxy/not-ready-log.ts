// While a sidecar started with --xds is not ready, a line every WAIT_LOG_MS saying what it still waits
// for (its first config, its workload certificate), as Istio's agent logs each failed readiness check
// ("Envoy proxy is NOT ready: config not received from XDS server"): a stream open to a control plane
// that never sends this proxy's config (its instance not registered, a translation failing there) is
// otherwise a pod that is not ready and says nothing.
import { systemClock, type Clock, type TimerHandle } from "../../core/clock.ts";

export const WAIT_LOG_MS = 10_000;

export interface NotReadyLog {
  stop(): void;
}

/** Every `everyMs` until stop(): `log` the waits `waits()` names (none: nothing logged that time). */
export function logWhileNotReady(waits: () => readonly string[], log: (line: string) => void, clock: Clock = systemClock, everyMs = WAIT_LOG_MS): NotReadyLog {
  const started = clock.now();
  let timer: TimerHandle | null = null;
  const tick = (): void => {
    const what = waits();
    if (what.length > 0) log(`not ready after ${Math.round((clock.now() - started) / 1000)} s: waiting for ${what.join(" and ")}`);
    timer = clock.setTimeout(tick, everyMs).unref();
  };
  timer = clock.setTimeout(tick, everyMs).unref();
  return { stop: () => timer?.cancel() };
}
