// Golden-signal time series for the dashboard's charts, from the metrics store's history (every
// scrape of every sidecar): between two consecutive scrapes of a target, the increase of each
// series; those increases are summed per time step and per group (a version, a response code, a
// destination), then turned into rate, error rate and latency quantiles per step. Pure.
import { deltas, signals, type Delta, type Snapshot } from "../../control-plane/telemetry/golden-signals.ts";

export interface ChartSeries {
  label: string;
  rps: (number | null)[];
  errorRate: (number | null)[];
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
}

export interface Chart {
  /** Seconds since the epoch, one per step (uPlot's x axis). */
  times: number[];
  series: ChartSeries[];
}

type Labels = Record<string, string>;

/** Series of `history` (per target, its snapshots oldest first) selected by `select`, grouped by `groupOf`. */
export function chartOf(history: readonly (readonly Snapshot[])[], select: (l: Labels) => boolean, groupOf: (l: Labels) => string, stepMs: number): Chart {
  const cells = new Map<number, Map<string, Delta[]>>();
  for (const snaps of history) {
    for (let i = 1; i < snaps.length; i++) {
      const b = snaps[i] as Snapshot;
      const step = Math.floor(b.atMs / stepMs) * stepMs;
      for (const d of deltas(snaps[i - 1] as Snapshot, b)) {
        if (!select(d.labels)) continue;
        let row = cells.get(step);
        if (row === undefined) cells.set(step, (row = new Map()));
        const g = groupOf(d.labels);
        let list = row.get(g);
        if (list === undefined) row.set(g, (list = []));
        list.push(d);
      }
    }
  }
  const steps = [...cells.keys()].sort((a, b) => a - b);
  const groups = [...new Set([...cells.values()].flatMap((r) => [...r.keys()]))].sort();
  const series = groups.map((label): ChartSeries => {
    const s: ChartSeries = { label, rps: [], errorRate: [], p50: [], p95: [], p99: [] };
    for (const t of steps) {
      const list = cells.get(t)?.get(label);
      if (list === undefined) {
        s.rps.push(0);
        s.errorRate.push(null);
        s.p50.push(null);
        s.p95.push(null);
        s.p99.push(null);
        continue;
      }
      // Rates per step: two targets scraped in the same step add up over the step's own length.
      const sig = signals(list.map((d) => ({ ...d, seconds: Math.max(d.seconds, stepMs / 1000) })));
      s.rps.push(sig.rps);
      s.errorRate.push(sig.errorRate);
      s.p50.push(sig.p50);
      s.p95.push(sig.p95);
      s.p99.push(sig.p99);
    }
    return s;
  });
  return { times: steps.map((t) => t / 1000), series };
}

/** Who a detail page is about: a service (host), or a workload version of an app. */
export interface Subject {
  namespace: string;
  /** Destination service host (service detail). */
  service?: string;
  /** App and version (workload detail). */
  app?: string;
  version?: string;
}

export interface DetailCharts {
  inboundByVersion: Chart;
  inboundByCode: Chart;
  outboundByDestination: Chart;
  outboundByCode: Chart;
}

const l = (x: Labels, k: string): string => x[k] ?? "unknown";

/** Inbound (what its servers reported) and outbound (what it called, as its client side reported). */
export function detailCharts(history: readonly (readonly Snapshot[])[], who: Subject, stepMs: number): DetailCharts {
  const inbound = (x: Labels): boolean => {
    if (x.reporter !== "destination") return false;
    if (who.service !== undefined) return l(x, "destination_service") === who.service;
    return l(x, "destination_app") === who.app && l(x, "destination_workload_namespace") === who.namespace && (who.version === undefined || l(x, "destination_version") === who.version);
  };
  const outbound = (x: Labels): boolean => {
    if (x.reporter !== "source") return false;
    if (who.service !== undefined) {
      // A service's outbound calls are those of the apps behind it.
      const app = who.service.split(".")[0];
      return l(x, "source_app") === app && l(x, "source_workload_namespace") === who.namespace;
    }
    return l(x, "source_app") === who.app && l(x, "source_workload_namespace") === who.namespace && (who.version === undefined || l(x, "source_version") === who.version);
  };
  return {
    inboundByVersion: chartOf(history, inbound, (x) => l(x, "destination_version"), stepMs),
    inboundByCode: chartOf(history, inbound, (x) => l(x, "response_code"), stepMs),
    outboundByDestination: chartOf(history, outbound, (x) => l(x, "destination_service").split(".")[0] ?? "unknown", stepMs),
    outboundByCode: chartOf(history, outbound, (x) => l(x, "response_code"), stepMs),
  };
}
