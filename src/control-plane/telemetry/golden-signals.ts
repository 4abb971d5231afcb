// Golden signals from two scrapes of a counter set: requests per second, error rate (5xx share)
// and latency quantiles from histogram bucket deltas, interpolated within the bucket as
// Prometheus's histogram_quantile does. Pure functions over plain data.
import type { TcpPoint } from "./tcp-signals.ts";

/** One label set's counters at one scrape. */
export interface SeriesPoint {
  labels: Record<string, string>;
  requests: number;
  /** Cumulative duration bucket counts, in `bounds` order, +Inf last. */
  buckets: number[];
}

export interface Snapshot {
  atMs: number;
  bounds: number[];
  series: Map<string, SeriesPoint>;
  /** The TCP counters of the same scrape (tcp-signals.ts); absent when none were kept. */
  tcp?: Map<string, TcpPoint>;
}

export interface Delta {
  labels: Record<string, string>;
  requests: number;
  buckets: number[];
  seconds: number;
  bounds: number[];
}

/** Increase from `a` to `b` per series; a counter that went down (proxy restart) counts from zero. */
export function deltas(a: Snapshot, b: Snapshot): Delta[] {
  const seconds = Math.max(0.001, (b.atMs - a.atMs) / 1000);
  const out: Delta[] = [];
  for (const [key, pb] of b.series) {
    const pa = a.series.get(key);
    const reset = pa === undefined || pb.requests < pa.requests;
    const requests = reset ? pb.requests : pb.requests - pa.requests;
    if (requests <= 0 && pa !== undefined) continue;
    const buckets = pb.buckets.map((v, i) => (reset ? v : Math.max(0, v - (pa.buckets[i] ?? 0))));
    out.push({ labels: pb.labels, requests, buckets, seconds, bounds: b.bounds });
  }
  return out;
}

/** histogram_quantile over cumulative buckets (+Inf last); NaN when empty. */
export function quantile(q: number, bounds: readonly number[], cumulative: readonly number[]): number {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  for (let i = 0; i < cumulative.length; i++) {
    const c = cumulative[i] as number;
    if (c >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1] ?? NaN;
      const upper = bounds[i] as number;
      const lower = i === 0 ? 0 : (bounds[i - 1] as number);
      const below = i === 0 ? 0 : (cumulative[i - 1] as number);
      const inBucket = c - below;
      return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
    }
  }
  return bounds[bounds.length - 1] ?? NaN;
}

export interface Signals {
  requests: number;
  rps: number;
  errors: number;
  errorRate: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

const isError = (code: string | undefined): boolean => code !== undefined && (code.startsWith("5") || code === "0");

/** Sum a group of deltas into golden signals (rates over the group's longest interval). */
export function signals(group: readonly Delta[]): Signals {
  let requests = 0;
  let errors = 0;
  let seconds = 0;
  let bounds: number[] = [];
  let cum: number[] = [];
  for (const d of group) {
    requests += d.requests;
    if (isError(d.labels.response_code)) errors += d.requests;
    seconds = Math.max(seconds, d.seconds);
    if (cum.length === 0) {
      bounds = d.bounds;
      cum = new Array<number>(d.buckets.length).fill(0);
    }
    for (let i = 0; i < cum.length; i++) cum[i] = (cum[i] as number) + (d.buckets[i] ?? 0);
  }
  const q = (p: number): number | null => {
    const v = quantile(p, bounds, cum);
    return Number.isNaN(v) ? null : Math.round(v * 100) / 100;
  };
  return {
    requests,
    rps: seconds > 0 ? Math.round((requests / seconds) * 1000) / 1000 : 0,
    errors,
    errorRate: requests > 0 ? Math.round((errors / requests) * 10000) / 10000 : 0,
    p50: q(0.5),
    p90: q(0.9),
    p95: q(0.95),
    p99: q(0.99),
  };
}
