// Open-loop load generator: sends requests at a fixed rate over N keep-alive connections and
// measures latency from each request's *scheduled* time (so a stalled proxy cannot hide its
// queueing: no coordinated omission). wrk is closed-loop, hence this tool.
//
// Usage: node bench/load/fixed-rate.ts --port P [--host 127.0.0.1] [--rate 1000] [--connections 16]
//        [--duration-ms 10000] [--path /] [--authority bench] [--header "Name: value"]…
//        [--cpu-pids PID,PID…] [--latencies]
// Prints one JSON line: {sent, ok, errors, p50_ms, p90_ms, p99_ms, max_ms, achieved_rps}; with
// --cpu-pids also cpu_us: those processes' CPU time from the first request sent to the last response
// received (bench/lib/proc.ts; connection setup and this tool's start are outside it); with
// --latencies also latencies_us: every request's latency, whole µs, for a caller that merges windows.
import { connect, type Socket } from "node:net";
import { benchArgs } from "../lib/args.ts";
import { cpuMicrosOf } from "../lib/proc.ts";

const { values } = benchArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    rate: { type: "string", default: "1000" },
    connections: { type: "string", default: "16" },
    "duration-ms": { type: "string", default: "10000" },
    path: { type: "string", default: "/" },
    authority: { type: "string", default: "bench" },
    header: { type: "string", multiple: true, default: [] },
    "cpu-pids": { type: "string", default: "" },
    latencies: { type: "boolean", default: false },
  },
});
const port = Number(values.port);
const rate = Number(values.rate);
const nConn = Number(values.connections);
const durationMs = Number(values["duration-ms"]);
const cpuPids = values["cpu-pids"].split(",").filter((p) => p !== "").map(Number);
const extraHeaders = values.header.map((h) => `${h}\r\n`).join("");
const request = Buffer.from(`GET ${values.path} HTTP/1.1\r\nHost: ${values.authority}\r\nUser-Agent: amime-bench\r\n${extraHeaders}\r\n`);

interface Conn {
  socket: Socket;
  busy: boolean;
  scheduledAt: number;
  buf: Buffer;
}

const latencies = new Float64Array(Math.ceil((rate * durationMs) / 1000) + 16);
let nLat = 0;
let sent = 0;
let errors = 0;
const backlog: number[] = []; // scheduled times waiting for a free connection
const conns: Conn[] = [];

function onResponseComplete(c: Conn): void {
  latencies[nLat++] = performance.now() - c.scheduledAt;
  c.busy = false;
  const next = backlog.shift();
  if (next !== undefined) send(c, next);
}

// Minimal response framing: Content-Length bodies only (the bench upstream always sends it).
function onData(c: Conn, chunk: Buffer): void {
  c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
  for (;;) {
    const headEnd = c.buf.indexOf("\r\n\r\n");
    if (headEnd < 0) return;
    const head = c.buf.toString("latin1", 0, headEnd);
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const len = m ? Number(m[1]) : 0;
    const total = headEnd + 4 + len;
    if (c.buf.length < total) return;
    if (!head.startsWith("HTTP/1.1 2")) errors++;
    c.buf = c.buf.subarray(total);
    if (c.busy) onResponseComplete(c);
  }
}

function send(c: Conn, scheduledAt: number): void {
  c.busy = true;
  c.scheduledAt = scheduledAt;
  sent++;
  c.socket.write(request);
}

async function openConnections(): Promise<void> {
  await Promise.all(
    Array.from({ length: nConn }, () =>
      new Promise<void>((resolve, reject) => {
        const socket = connect({ host: values.host, port, noDelay: true }, () => resolve());
        const c: Conn = { socket, busy: false, scheduledAt: 0, buf: Buffer.alloc(0) };
        socket.on("data", (d) => onData(c, d));
        socket.on("error", (e) => {
          errors++;
          reject(e);
        });
        conns.push(c);
      }),
    ),
  );
}

await openConnections();
const cpuStart = cpuMicrosOf(cpuPids);
const interval = 1000 / rate;
const start = performance.now();
let nextAt = start;
const total = Math.floor((rate * durationMs) / 1000);
let scheduled = 0;
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const now = performance.now();
    while (scheduled < total && nextAt <= now) {
      const free = conns.find((c) => !c.busy);
      if (free) send(free, nextAt);
      else backlog.push(nextAt);
      scheduled++;
      nextAt += interval;
    }
    if (scheduled >= total) {
      // Wait for outstanding responses (bounded).
      const deadline = performance.now() + 5000;
      const drain = (): void => {
        if ((nLat >= sent && backlog.length === 0) || performance.now() > deadline) resolve();
        else setTimeout(drain, 5);
      };
      drain();
      return;
    }
    setTimeout(tick, 1); // ~1 ms granularity; a busy loop would steal the upstream's core
  };
  tick();
});
const elapsed = performance.now() - start;
const cpuUs = cpuMicrosOf(cpuPids) - cpuStart;
for (const c of conns) c.socket.destroy();
const sorted = Array.from(latencies.subarray(0, nLat)).sort((a, b) => a - b);
const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const result = { sent, ok: nLat - errors, errors, p50_ms: q(0.5), p90_ms: q(0.9), p99_ms: q(0.99), max_ms: sorted.at(-1) ?? 0, achieved_rps: (nLat / elapsed) * 1000 };
const cpu = cpuPids.length > 0 ? { cpu_us: cpuUs } : {};
const raw = values.latencies ? { latencies_us: sorted.map((ms) => Math.round(ms * 1000)) } : {};
process.stdout.write(`${JSON.stringify({ ...result, ...cpu, ...raw })}\n`);
