// The access log sink. Lines are formatted on the request path (a string, no I/O) and pushed into
// a bounded in-memory buffer; a flush scheduled on the next turn of the event loop writes them in
// one call. A slow disk or a blocked stdout pipe fills the buffer, and further lines are dropped
// and counted (amime_access_log_dropped_total) — logging never blocks or slows a request.
import type { WriteStream } from "node:fs";
import { fs } from "../../../core/builtins.ts";

export interface AccessLoggerOptions {
  /** "/dev/stdout", "/dev/stderr" or a file (appended, created if missing). */
  path: string;
  /** Most bytes held while waiting to write (default 1 MiB). */
  maxBufferBytes?: number;
  /** Scheduler for flushes (default setImmediate). */
  schedule?: (fn: () => void) => void;
}

interface Sink {
  write(s: string, cb: () => void): boolean;
  once(ev: "drain", cb: () => void): void;
  end?(cb: () => void): void;
}

export class AccessLogger {
  readonly path: string;
  written = 0;
  dropped = 0;
  private readonly maxBufferBytes: number;
  private readonly schedule: (fn: () => void) => void;
  private readonly sink: Sink;
  private readonly stream: WriteStream | null = null;
  private buffer: string[] = [];
  private bufferBytes = 0;
  private scheduled = false;
  private waitingDrain = false;
  private pendingWrites = 0;
  private idle: (() => void)[] = [];

  constructor(o: AccessLoggerOptions) {
    this.path = o.path;
    this.maxBufferBytes = o.maxBufferBytes ?? 1024 * 1024;
    this.schedule = o.schedule ?? ((fn) => void setImmediate(fn));
    if (o.path === "/dev/stdout" || o.path === "") this.sink = process.stdout;
    else if (o.path === "/dev/stderr") this.sink = process.stderr;
    else {
      this.stream = fs.createWriteStream(o.path, { flags: "a" });
      // A file that cannot be opened must not crash the proxy: its lines count as dropped.
      this.stream.on("error", () => undefined);
      this.sink = this.stream;
    }
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Queue one line (with its trailing newline). Never blocks; false = dropped. */
  log(line: string): boolean {
    if (this.bufferBytes + line.length > this.maxBufferBytes) {
      this.dropped++;
      return false;
    }
    this.buffer.push(line);
    this.bufferBytes += line.length;
    if (!this.scheduled && !this.waitingDrain) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
    return true;
  }

  private flush(): void {
    this.scheduled = false;
    if (this.buffer.length === 0 || this.waitingDrain) return;
    const chunk = this.buffer.join("");
    const n = this.buffer.length;
    this.buffer = [];
    this.bufferBytes = 0;
    this.pendingWrites++;
    const ok = this.sink.write(chunk, () => {
      this.written += n;
      this.pendingWrites--;
      this.settle();
    });
    if (!ok) {
      this.waitingDrain = true;
      this.sink.once("drain", () => {
        this.waitingDrain = false;
        if (this.buffer.length > 0) this.flush();
      });
    }
  }

  private settle(): void {
    if (this.pendingWrites === 0 && this.buffer.length === 0) for (const f of this.idle.splice(0)) f();
  }

  /** Resolves once every accepted line has been handed to the OS. */
  drained(): Promise<void> {
    if (this.buffer.length > 0 && !this.waitingDrain) this.flush();
    if (this.pendingWrites === 0 && this.buffer.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  async close(): Promise<void> {
    await this.drained();
    const s = this.stream;
    if (s !== null) await new Promise<void>((r) => s.end(() => r()));
  }
}
