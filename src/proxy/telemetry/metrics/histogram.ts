// Fixed-bucket histograms as Istio reports them. Istio's telemetry v2 records its distributions
// (request duration, request and response size) as Envoy histograms with Envoy's default bucket
// bounds, which is what these are. Buckets are stored non-cumulative and summed only on render.

/** Envoy's default histogram bucket bounds (used by Istio for all its distributions). */
export const ISTIO_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
]);

export class Histogram {
  /** counts[i] = observations with bounds[i-1] < v <= bounds[i]; the last slot is +Inf. */
  readonly counts: number[];
  /** sums[i] = the sum of the observations in counts[i] (DogStatsD sends each bucket's mean). */
  readonly sums: number[];
  sum = 0;
  count = 0;
  private readonly bounds: readonly number[];

  constructor(bounds: readonly number[] = ISTIO_BUCKETS) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
    this.sums = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(v: number): void {
    const b = this.bounds;
    // Linear scan: 19 bounds, most observations land in the first few.
    let i = 0;
    while (i < b.length && v > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sums[i] = (this.sums[i] as number) + v;
    this.sum += v;
    this.count++;
  }

  /** Adds another histogram's observations (same bounds). */
  add(h: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) {
      this.counts[i] = (this.counts[i] as number) + (h.counts[i] ?? 0);
      this.sums[i] = (this.sums[i] as number) + (h.sums[i] ?? 0);
    }
    this.sum += h.sum;
    this.count += h.count;
  }

  /** Cumulative counts per bound (for `le` lines), +Inf last. */
  cumulative(): number[] {
    const out = new Array<number>(this.counts.length);
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i] as number;
      out[i] = acc;
    }
    return out;
  }

  get bucketBounds(): readonly number[] {
    return this.bounds;
  }
}

/** Prometheus `le` text of a bound: Go's %g-like shortest form (1e+06 for 1000000, as Envoy prints). */
export function formatBound(v: number): string {
  if (!Number.isFinite(v)) return "+Inf";
  if (Math.abs(v) >= 1e6) {
    const [m, e] = v.toExponential().split("e") as [string, string];
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(v);
}
