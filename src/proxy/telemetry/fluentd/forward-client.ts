// Access logs to Fluentd / Fluent Bit over the Forward protocol (v1), in Forward mode: each batch
// is one msgpack message `[tag, [[time, record], …], {size, chunk}]` on a TCP connection, times as
// EventTime (ext type 0: seconds and nanoseconds, big-endian uint32s). With `chunk` set, the
// server answers `{ack: chunk}` once it has the events; no answer within the ack timeout (or a
// broken connection) means the batch is sent again (same chunk id) after a backoff, through the
// shared batch loop — bounded queue, retries, then dropped and counted. Off the request path:
// log() only builds the record and queues it.
import type { Socket } from "node:net";
import { decode, encode, ExtData } from "@msgpack/msgpack";
import { cryptoModule, net } from "../../../core/builtins.ts";
import type { Clock, TimerHandle } from "../../../core/clock.ts";
import type { AccessLogEntry } from "../access-log/log-entry.ts";
import { BatchExporter, type SendOutcome } from "../export/batch-exporter.ts";

const { connect } = net;

/** Forward protocol's EventTime extension type. */
export const EVENT_TIME_EXT = 0;

export interface FluentdForwarderOptions {
  /** `host:port` of the forward input (24224 by convention). */
  target: string;
  tag: string;
  /** The record of one request (its labels, or the default JSON fields). */
  record: (line: string, e: AccessLogEntry) => Record<string, unknown>;
  clock: Clock;
  /** How long to wait for the connection and for `{ack}` (default 5000 ms). */
  ackTimeoutMs?: number;
  maxQueue?: number;
  maxBatch?: number;
  flushIntervalMs?: number;
  maxRetries?: number;
  retryBaseMs?: number;
}

type Entry = [ExtData, Record<string, unknown>];

/** EventTime of a wall-clock time in ms. */
export function eventTime(wallMs: number): ExtData {
  const b = Buffer.alloc(8);
  const sec = Math.floor(wallMs / 1000);
  b.writeUInt32BE(sec >>> 0, 0);
  b.writeUInt32BE(Math.round((wallMs - sec * 1000) * 1_000_000) >>> 0, 4);
  return new ExtData(EVENT_TIME_EXT, b);
}

export class FluentdForwarder {
  readonly target: string;
  readonly batches: BatchExporter<Entry>;
  private readonly host: string;
  private readonly port: number;
  private readonly tag: string;
  private readonly record: (line: string, e: AccessLogEntry) => Record<string, unknown>;
  private readonly clock: Clock;
  private readonly ackTimeoutMs: number;
  /** A batch keeps its chunk id across retries, so the server can tell a resend. */
  private readonly chunks = new WeakMap<Entry[], string>();
  private socket: Socket | null = null;

  constructor(o: FluentdForwarderOptions) {
    this.target = o.target;
    const i = o.target.lastIndexOf(":");
    this.host = o.target.slice(0, i).replace(/^\[|\]$/g, "");
    this.port = Number(o.target.slice(i + 1));
    this.tag = o.tag;
    this.record = o.record;
    this.clock = o.clock;
    this.ackTimeoutMs = o.ackTimeoutMs ?? 5000;
    this.batches = new BatchExporter<Entry>({ ...o, name: "fluentd", send: (batch) => this.send(batch) });
  }

  /** Queue one request's record. Never blocks; false = dropped. */
  log(line: string, e: AccessLogEntry): boolean {
    if (!this.batches.accepting) return this.batches.drop();
    return this.batches.add([eventTime(e.startWallMs), this.record(line, e)]);
  }

  drained(): Promise<void> {
    return this.batches.flush();
  }

  async close(): Promise<void> {
    await this.batches.close();
    this.socket?.destroy();
    this.socket = null;
  }

  private connected(): Promise<Socket | null> {
    if (this.socket !== null && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve) => {
      const s = connect({ host: this.host, port: this.port });
      s.setNoDelay(true);
      // destroy() without an error emits no 'error': the timeout itself settles the connect, or a
      // connect that never completes (SYNs dropped, a stalled process) would wedge the batch loop.
      const timer = this.clock.setTimeout(() => {
        s.destroy();
        resolve(null);
      }, this.ackTimeoutMs);
      s.once("error", () => {
        timer.cancel();
        resolve(null);
      });
      s.once("connect", () => {
        timer.cancel();
        s.removeAllListeners("error");
        s.on("error", () => {}); // the pending send sees the close
        this.socket = s;
        resolve(s);
      });
    });
  }

  private async send(batch: Entry[]): Promise<SendOutcome> {
    let chunk = this.chunks.get(batch);
    if (chunk === undefined) {
      chunk = cryptoModule().randomBytes(16).toString("base64");
      this.chunks.set(batch, chunk);
    }
    const s = await this.connected();
    if (s === null) return "retry";
    const id = chunk;
    return new Promise<SendOutcome>((resolve) => {
      let got = Buffer.alloc(0);
      let timer: TimerHandle | null = null;
      const done = (outcome: SendOutcome): void => {
        timer?.cancel();
        s.off("data", onData);
        s.off("close", onClose);
        if (outcome !== "ok") {
          // No ack: the connection is dropped so a late answer cannot be taken for the resend's.
          s.destroy();
          if (this.socket === s) this.socket = null;
        }
        resolve(outcome);
      };
      const onData = (b: Buffer): void => {
        got = Buffer.concat([got, b]);
        let answer: unknown;
        try {
          answer = decode(got);
        } catch {
          return; // not all of it yet
        }
        got = Buffer.alloc(0);
        if (typeof answer === "object" && answer !== null && (answer as { ack?: unknown }).ack === id) done("ok");
      };
      const onClose = (): void => done("retry");
      s.on("data", onData);
      s.once("close", onClose);
      timer = this.clock.setTimeout(() => done("retry"), this.ackTimeoutMs);
      s.write(encode([this.tag, batch, { size: batch.length, chunk: id }]));
    });
  }
}
