// Istio's standard metrics to a Datadog agent's DogStatsD port (a `dogstatsd` provider under
// Telemetry `metrics`): on each reporting interval, what changed since the last one becomes
// DogStatsD lines — counters as increments (`|c`), each histogram bucket that saw observations as
// one distribution sample (`|d`) of the bucket's mean standing for that many — tagged with the
// series' Istio labels, packed into datagrams and sent over UDP by the shared batch loop.
// UDP has no answers: a line counts as sent when the kernel takes it; a socket error (ECONNREFUSED
// after the agent's port sent ICMP "unreachable") is retried with backoff, then dropped and counted.
import { createSocket, type Socket } from "node:dgram";
import { BatchExporter, type SendOutcome } from "../export/batch-exporter.ts";
import type { MetricSink, MetricSinkContext } from "../export/metric-sink.ts";
import { parseLabelText } from "../metrics/prometheus-text.ts";
import { counterLine, distributionLine, metricName, packDatagrams, tagsOf } from "./format.ts";

/** What a point had at the last collect: a counter's value, or a histogram's bucket counts and sums. */
type Last = number | { counts: number[]; sums: number[] };

export class DogStatsdExporter implements MetricSink {
  readonly counters: BatchExporter<string>;
  private readonly ctx: MetricSinkContext;
  private readonly host: string;
  private readonly port: number;
  private readonly prefix: string;
  /** Metric name and label text → what was reported so far. */
  private readonly last = new Map<string, Last>();
  /** Label text → its tags (`|#k:v,…`). */
  private readonly tags = new Map<string, string>();
  private socket: Socket | null = null;

  /** `target` is the agent's `host:port` (DogStatsD's 8125); `prefix` goes before every name (Envoy's `envoy`). */
  constructor(ctx: MetricSinkContext, target: string, prefix: string) {
    this.ctx = ctx;
    const i = target.lastIndexOf(":");
    this.host = target.slice(0, i).replace(/^\[|\]$/g, "");
    this.port = Number(target.slice(i + 1));
    this.prefix = prefix;
    this.counters = new BatchExporter<string>({ name: "dogstatsd", send: (lines) => this.send(lines), clock: ctx.clock, flushIntervalMs: 0 });
  }

  private tagsOf(labels: string): string {
    let t = this.tags.get(labels);
    if (t === undefined) {
      const pairs = parseLabelText(labels);
      t = tagsOf(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
      this.tags.set(labels, t);
    }
    return t;
  }

  /** The lines of what changed since the last collect. */
  lines(): string[] {
    const out: string[] = [];
    for (const f of this.ctx.store.families()) {
      const name = metricName(this.prefix, f.name);
      if (f.kind === "counter") {
        for (const p of f.points) {
          const key = f.name + "\u0000" + p.labels;
          const d = p.value - ((this.last.get(key) as number | undefined) ?? 0);
          if (d > 0) out.push(counterLine(name, d, this.tagsOf(p.labels)));
          this.last.set(key, p.value);
        }
        continue;
      }
      for (const p of f.points) {
        const key = f.name + "\u0000" + p.labels;
        let l = this.last.get(key) as { counts: number[]; sums: number[] } | undefined;
        if (l === undefined) {
          l = { counts: [], sums: [] };
          this.last.set(key, l);
        }
        const h = p.hist;
        for (let b = 0; b < h.counts.length; b++) {
          const dn = (h.counts[b] as number) - (l.counts[b] ?? 0);
          if (dn > 0) out.push(distributionLine(name, ((h.sums[b] as number) - (l.sums[b] ?? 0)) / dn, dn, this.tagsOf(p.labels)));
          l.counts[b] = h.counts[b] as number;
          l.sums[b] = h.sums[b] as number;
        }
      }
    }
    return out;
  }

  collect(): void {
    for (const line of this.lines()) this.counters.add(line);
  }

  flush(): Promise<void> {
    return this.counters.flush();
  }

  async close(): Promise<void> {
    this.collect();
    await this.counters.close();
    this.socket?.close();
    this.socket = null;
  }

  /** A connected socket: the kernel then reports ECONNREFUSED when the agent's port is closed. */
  private open(): Promise<Socket | null> {
    if (this.socket !== null) return Promise.resolve(this.socket);
    const s = createSocket(this.host.includes(":") ? "udp6" : "udp4");
    s.unref();
    return new Promise((resolve) => {
      // A name that does not resolve: no socket this time, the batch is tried again.
      const failed = (): void => {
        s.close();
        resolve(null);
      };
      s.once("error", failed);
      s.connect(this.port, this.host, () => {
        s.off("error", failed);
        s.on("error", () => {}); // reported to the send callbacks
        this.socket = s;
        resolve(s);
      });
    });
  }

  /** Every datagram of the batch; the first error stops it and the batch is tried again (the ones before it most likely went nowhere either). */
  private async send(lines: string[]): Promise<SendOutcome> {
    const s = await this.open();
    if (s === null) return "retry";
    for (const d of packDatagrams(lines)) {
      const err = await new Promise<Error | null>((resolve) => s.send(d, (e) => resolve(e ?? null)));
      if (err !== null) return "retry";
    }
    return "ok";
  }
}
