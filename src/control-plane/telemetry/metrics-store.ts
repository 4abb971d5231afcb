// MetricsStore: scrapes every sidecar's /stats/prometheus every few seconds and keeps, per target,
// a bounded window of snapshots of istio_requests_total, istio_request_duration_milliseconds and
// the TCP connection and byte counters (nothing else, to stay small). Rates and quantiles come from the first and last snapshot of the
// asked window (golden-signals.ts); services and the graph are built from those deltas (graph.ts).
import { get } from "node:http";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import { deltas, type Delta, type SeriesPoint, type Snapshot } from "./golden-signals.ts";
import { parsePrometheusText } from "./prometheus-parse.ts";
import { tcpDeltas, tcpPoints, type TcpDelta } from "./tcp-signals.ts";

export interface MetricsStoreOptions {
  clock: Clock;
  /** Scrape URLs (http://host:port/stats/prometheus), asked for at every scrape. */
  targets: () => readonly string[];
  intervalMs?: number;
  /** Oldest snapshot kept. */
  retentionMs?: number;
  timeoutMs?: number;
  /** Fetches a URL's text (tests may replace it). */
  fetchText?: (url: string, timeoutMs: number) => Promise<string>;
}

export interface TargetStatus {
  url: string;
  lastScrapeMs: number | null;
  lastError: string | null;
  snapshots: number;
}

interface TargetState {
  snapshots: Snapshot[];
  lastScrapeMs: number | null;
  lastError: string | null;
}

const REQUESTS = "istio_requests_total";
const DURATION = "istio_request_duration_milliseconds";

function seriesKey(labels: Record<string, string>): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join("\u001f");
}

/** The Istio families of one scrape (HTTP and TCP), folded into one point per label set. */
export function snapshotOf(text: string, atMs: number): Snapshot {
  const fams = parsePrometheusText(text);
  const series = new Map<string, SeriesPoint>();
  const boundsSet = new Set<number>();
  const bucketRows: { key: string; le: number; v: number }[] = [];
  for (const s of fams.get(REQUESTS)?.samples ?? []) {
    const key = seriesKey(s.labels);
    series.set(key, { labels: s.labels, requests: s.value, buckets: [] });
  }
  for (const s of fams.get(DURATION)?.samples ?? []) {
    if (s.name !== `${DURATION}_bucket`) continue;
    const { le, ...rest } = s.labels;
    if (le === undefined) continue;
    const bound = le === "+Inf" ? Infinity : Number(le);
    if (bound !== Infinity) boundsSet.add(bound);
    bucketRows.push({ key: seriesKey(rest), le: bound, v: s.value });
  }
  const bounds = [...boundsSet].sort((a, b) => a - b);
  const index = new Map(bounds.map((b, i) => [b, i]));
  for (const row of bucketRows) {
    const p = series.get(row.key);
    if (p === undefined) continue;
    if (p.buckets.length === 0) p.buckets = new Array<number>(bounds.length + 1).fill(0);
    const i = row.le === Infinity ? bounds.length : (index.get(row.le) as number);
    p.buckets[i] = row.v;
  }
  for (const p of series.values()) if (p.buckets.length === 0) p.buckets = new Array<number>(bounds.length + 1).fill(0);
  const tcp = tcpPoints(fams, seriesKey);
  return tcp.size > 0 ? { atMs, bounds, series, tcp } : { atMs, bounds, series };
}

export function fetchTextHttp(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      if ((res.statusCode ?? 0) !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

export class MetricsStore {
  readonly intervalMs: number;
  readonly retentionMs: number;
  private readonly clock: Clock;
  private readonly targets: () => readonly string[];
  private readonly timeoutMs: number;
  private readonly fetchText: (url: string, timeoutMs: number) => Promise<string>;
  private readonly state = new Map<string, TargetState>();
  private timer: TimerHandle | null = null;
  private running = false;

  constructor(o: MetricsStoreOptions) {
    this.clock = o.clock;
    this.targets = o.targets;
    this.intervalMs = o.intervalMs ?? 5000;
    this.retentionMs = o.retentionMs ?? 15 * 60_000;
    this.timeoutMs = o.timeoutMs ?? 2000;
    this.fetchText = o.fetchText ?? fetchTextHttp;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = (): void => {
      void this.scrapeOnce().finally(() => {
        if (this.running) this.timer = this.clock.setTimeout(tick, this.intervalMs);
      });
    };
    tick();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Scrape every target once, in parallel. */
  async scrapeOnce(): Promise<void> {
    const urls = [...new Set(this.targets())];
    for (const url of this.state.keys()) if (!urls.includes(url)) this.state.delete(url);
    await Promise.all(
      urls.map(async (url) => {
        const at = this.clock.wallNow();
        try {
          this.ingest(url, at, await this.fetchText(url, this.timeoutMs));
        } catch (e) {
          const st = this.targetState(url);
          st.lastError = (e as Error).message;
        }
      }),
    );
  }

  /** Add one scrape's text for a target (what scrapeOnce does per target). */
  ingest(url: string, atMs: number, text: string): void {
    const st = this.targetState(url);
    st.snapshots.push(snapshotOf(text, atMs));
    st.lastScrapeMs = atMs;
    st.lastError = null;
    const oldest = atMs - this.retentionMs;
    while (st.snapshots.length > 2 && (st.snapshots[0] as Snapshot).atMs < oldest) st.snapshots.shift();
  }

  private targetState(url: string): TargetState {
    let st = this.state.get(url);
    if (st === undefined) this.state.set(url, (st = { snapshots: [], lastScrapeMs: null, lastError: null }));
    return st;
  }

  status(): TargetStatus[] {
    return [...this.state].map(([url, s]) => ({ url, lastScrapeMs: s.lastScrapeMs, lastError: s.lastError, snapshots: s.snapshots.length }));
  }

  /** Per target, its snapshots of the last `windowMs` and the one before (for per-scrape series). */
  history(windowMs: number): Snapshot[][] {
    const out: Snapshot[][] = [];
    for (const st of this.state.values()) {
      const snaps = st.snapshots;
      const last = snaps[snaps.length - 1];
      if (last === undefined) continue;
      let i = snaps.length - 1;
      while (i > 0 && (snaps[i - 1] as Snapshot).atMs >= last.atMs - windowMs) i--;
      out.push(snaps.slice(Math.max(0, i - 1)));
    }
    return out;
  }

  /** Per target, the snapshots that bound the last `windowMs` (the oldest inside it, else the newest before it; and the newest). */
  private spans(windowMs: number): [Snapshot, Snapshot][] {
    const out: [Snapshot, Snapshot][] = [];
    for (const st of this.state.values()) {
      const snaps = st.snapshots;
      const last = snaps[snaps.length - 1];
      if (last === undefined || snaps.length < 2) continue;
      const from = last.atMs - windowMs;
      let first = snaps[0] as Snapshot;
      for (const s of snaps) {
        if (s.atMs >= from) break;
        first = s;
      }
      if (first === last) first = snaps[snaps.length - 2] as Snapshot;
      out.push([first, last]);
    }
    return out;
  }

  /** Per-series increases over the last `windowMs`, across all targets. */
  window(windowMs: number): Delta[] {
    return this.spans(windowMs).flatMap(([first, last]) => deltas(first, last));
  }

  /** Per-series TCP increases (connections, bytes) over the last `windowMs`, across all targets. */
  tcpWindow(windowMs: number): TcpDelta[] {
    return this.spans(windowMs).flatMap(([first, last]) => tcpDeltas(first.tcp, last.tcp, Math.max(0.001, (last.atMs - first.atMs) / 1000)));
  }
}
