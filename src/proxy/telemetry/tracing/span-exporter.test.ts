import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { systemClock } from "../../../core/clock.ts";
import type { Span } from "./span.ts";
import { SpanExporter } from "./span-exporter.ts";

const span: Span = { traceId: "463ac35c9f6413ad48485a3953bb6124", id: "a2fb4a1d1a96d312", name: "x", kind: "CLIENT", timestamp: 1_765_000_000_000_000, duration: 10, localEndpoint: { serviceName: "web.default" }, tags: {} };

async function listen(status: number, seen: number[]): Promise<Server> {
  const s = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push(status);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return s;
}

describe("SpanExporter", () => {
  it("a collector that is down: retried with backoff, then dropped and counted", async () => {
    const s = await listen(200, []);
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const ex = new SpanExporter({ endpoint: `http://127.0.0.1:${port}/v1/traces`, format: "otlp", encoding: "protobuf", clock: systemClock, maxRetries: 2, retryBaseMs: 1 });
    ex.add(span);
    await ex.flush();
    assert.deepEqual({ exported: ex.batches.sent, dropped: ex.batches.dropped, retries: ex.batches.retries, failed: ex.batches.failedSends }, { exported: 0, dropped: 1, retries: 2, failed: 3 });
    await ex.close();
  });

  it("a refusal that is not retryable (400) drops the batch at once", async () => {
    const seen: number[] = [];
    const s = await listen(400, seen);
    const ex = new SpanExporter({ endpoint: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/traces`, format: "otlp", clock: systemClock, retryBaseMs: 1 });
    ex.add(span);
    await ex.flush();
    assert.deepEqual(seen, [400]);
    assert.deepEqual({ dropped: ex.batches.dropped, retries: ex.batches.retries }, { dropped: 1, retries: 0 });
    await ex.close();
    await new Promise<void>((r) => s.close(() => r()));
  });

  it("a bounded queue: spans past maxQueue are dropped and counted", async () => {
    const ex = new SpanExporter({ endpoint: "http://127.0.0.1:1/v1/traces", format: "zipkin", clock: systemClock, maxQueue: 2, maxRetries: 0 });
    for (let i = 0; i < 5; i++) ex.add(span);
    assert.equal(ex.batches.queued, 2);
    assert.equal(ex.batches.dropped, 3);
    await ex.close();
    assert.equal(ex.batches.dropped, 5);
  });
});
