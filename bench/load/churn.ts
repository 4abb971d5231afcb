// Short-lived connections: `--total` connections, `--concurrency` at a time, each sending one request
// with `Connection: close` and reading until the server closes. What a burst of new clients (or
// clients without keep-alive) does to a proxy's memory (bench/memory.ts).
//
// Usage: node bench/load/churn.ts --port P [--host 127.0.0.1] [--total 20000] [--concurrency 16] [--authority bench]
// Prints one JSON line: {connections, errors, ms}
import { connect } from "node:net";
import { benchArgs } from "../lib/args.ts";

const { values } = benchArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    total: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "16" },
    authority: { type: "string", default: "bench" },
  },
});
const port = Number(values.port);
const total = Number(values.total);
const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${values.authority}\r\nUser-Agent: amime-bench\r\nConnection: close\r\n\r\n`);
const started = performance.now();
let opened = 0;
let closed = 0;
let errors = 0;

function next(): void {
  if (opened >= total) return;
  opened++;
  const s = connect(port, values.host, () => s.write(request));
  s.on("data", () => {});
  s.on("error", () => errors++);
  s.on("close", () => {
    if (++closed === total) process.stdout.write(`${JSON.stringify({ connections: closed, errors, ms: Math.round(performance.now() - started) })}\n`);
    else next();
  });
}
for (let i = 0; i < Number(values.concurrency); i++) next();
