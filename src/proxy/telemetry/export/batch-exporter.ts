// The one queue → batch → send → retry loop every telemetry exporter runs (spans, OTLP logs and
// metrics, DogStatsD, Fluentd forward), off the request path. Items go into a bounded queue
// (add() never blocks: a full queue drops and counts); a timer sends what is queued in batches,
// one send at a time; a send that fails in a way worth retrying is tried again after a backoff
// that doubles (retryBaseMs, 2×, 4×…) a bounded number of times; then the batch is dropped and
// counted. The counters are what `amime_telemetry_export_*_total{exporter}` reports.
import type { Clock, TimerHandle } from "../../../core/clock.ts";

/** What one send came to: accepted, failed for good, or failed in a way worth retrying. */
export type SendOutcome = "ok" | "fail" | "retry";

export interface BatchExporterOptions<T> {
  /** The `exporter` label of this exporter's counters (`otlp_metrics`, `dogstatsd`…). */
  name: string;
  /** Sends one batch; never throws (a thrown error counts as "fail"). */
  send: (batch: T[]) => Promise<SendOutcome>;
  clock: Clock;
  /** Items held at most (default 4096); past it add() drops. */
  maxQueue?: number;
  /** Items per send (default 512). */
  maxBatch?: number;
  /** How long an item may wait before a send (default 1000 ms). */
  flushIntervalMs?: number;
  /** Retries of one batch after a retryable failure (default 3). */
  maxRetries?: number;
  /** First backoff (default 500 ms), doubling. */
  retryBaseMs?: number;
}

/** What an exporter has done so far, for the metrics endpoint. */
export interface ExportCounters {
  readonly name: string;
  /** Items the backend accepted. */
  readonly sent: number;
  /** Items dropped: queue full, failed for good, retries used up, or exporter closed. */
  readonly dropped: number;
  /** Batches sent again after a retryable failure. */
  readonly retries: number;
  /** Sends that failed (each try counts). */
  readonly failedSends: number;
  /** Items waiting. */
  readonly queued: number;
}

export class BatchExporter<T> implements ExportCounters {
  readonly name: string;
  sent = 0;
  dropped = 0;
  retries = 0;
  failedSends = 0;
  private readonly send: (batch: T[]) => Promise<SendOutcome>;
  private readonly clock: Clock;
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private queue: T[] = [];
  private timer: TimerHandle | null = null;
  private backoff: { timer: TimerHandle; wake: () => void } | null = null;
  private inFlight: Promise<void> | null = null;
  private closed = false;

  constructor(o: BatchExporterOptions<T>) {
    this.name = o.name;
    this.send = o.send;
    this.clock = o.clock;
    this.maxQueue = o.maxQueue ?? 4096;
    this.maxBatch = o.maxBatch ?? 512;
    this.flushIntervalMs = o.flushIntervalMs ?? 1000;
    this.maxRetries = o.maxRetries ?? 3;
    this.retryBaseMs = o.retryBaseMs ?? 500;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** add() would take an item now (callers that build an item at a cost check first). */
  get accepting(): boolean {
    return !this.closed && this.queue.length < this.maxQueue;
  }

  /** Count one item dropped before it was built (the queue was not accepting); returns false. */
  drop(): false {
    this.dropped++;
    return false;
  }

  /** Queue one item. Never blocks; false = dropped (queue full or exporter closed). */
  add(item: T): boolean {
    if (this.closed || this.queue.length >= this.maxQueue) {
      this.dropped++;
      return false;
    }
    this.queue.push(item);
    if (this.timer === null && this.inFlight === null) this.timer = this.clock.setTimeout(() => this.onTimer(), this.flushIntervalMs);
    return true;
  }

  private onTimer(): void {
    this.timer = null;
    void this.flush();
  }

  /** Send what is queued now (one send per batch, in order, retries included); resolves when done. */
  async flush(): Promise<void> {
    while (this.inFlight !== null) await this.inFlight;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight = this.deliver(batch);
      await this.inFlight;
      this.inFlight = null;
    }
  }

  /** Stop accepting; a batch waiting out a backoff gets one last try now; the rest is sent once. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    const b = this.backoff;
    if (b !== null) {
      this.backoff = null;
      b.timer.cancel();
      b.wake();
    }
    await this.flush();
  }

  private async deliver(batch: T[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let outcome: SendOutcome;
      try {
        outcome = await this.send(batch);
      } catch {
        outcome = "fail";
      }
      if (outcome === "ok") {
        this.sent += batch.length;
        return;
      }
      this.failedSends++;
      if (outcome === "fail" || attempt >= this.maxRetries || this.closed) {
        this.dropped += batch.length;
        return;
      }
      this.retries++;
      await new Promise<void>((wake) => {
        const timer = this.clock.setTimeout(() => {
          this.backoff = null;
          wake();
        }, this.retryBaseMs * 2 ** attempt);
        this.backoff = { timer, wake };
      });
    }
  }
}
