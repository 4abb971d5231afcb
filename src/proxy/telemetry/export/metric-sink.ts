// What every metrics exporter (OTLP metrics, DogStatsD) offers the sidecar: a snapshot of the
// metrics store taken on its reporting interval into its own bounded queue, sent off the request
// path by the shared batch loop, and the counters of that loop.
import type { Clock } from "../../../core/clock.ts";
import type { IstioMetrics } from "../metrics/istio-metrics.ts";
import type { ExportCounters } from "./batch-exporter.ts";

export interface MetricSink {
  readonly counters: ExportCounters;
  /** Take the interval's snapshot of the store into the queue (sent on the next turn). */
  collect(): void;
  /** Send what is queued; resolves when done. */
  flush(): Promise<void>;
  /** A last snapshot, sent once; then nothing more is accepted. */
  close(): Promise<void>;
}

/** What a sink reads: the store, the clock, who this proxy is (resource attributes). */
export interface MetricSinkContext {
  store: IstioMetrics;
  clock: Clock;
  /** `service.name` (`<canonical service>.<namespace>`), the node id… */
  resource: Readonly<Record<string, string>>;
  /** Roots trusted besides the system's for an https collector. */
  meshRoots?: () => string | undefined;
}
