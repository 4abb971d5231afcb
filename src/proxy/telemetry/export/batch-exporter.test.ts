import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../../testing/fake-clock.ts";
import { BatchExporter, type SendOutcome } from "./batch-exporter.ts";

/** A backend whose answers are scripted; it records each batch it was sent. */
function backend(answers: SendOutcome[]): { sent: number[][]; send: (b: number[]) => Promise<SendOutcome> } {
  const sent: number[][] = [];
  return { sent, send: (b) => (sent.push([...b]), Promise.resolve(answers.shift() ?? "ok")) };
}

/** Lets the exporter's promise chain run (sends resolve on the microtask queue). */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("BatchExporter", () => {
  it("holds items until the flush interval, then sends them in batches of maxBatch, in order", async () => {
    const clock = new FakeClock();
    const b = backend([]);
    const ex = new BatchExporter<number>({ name: "t", send: b.send, clock, maxBatch: 2, flushIntervalMs: 1000 });
    for (const n of [1, 2, 3]) ex.add(n);
    clock.advance(999);
    await settle();
    assert.deepEqual(b.sent, []);
    clock.advance(1);
    await settle();
    assert.deepEqual(b.sent, [[1, 2], [3]]);
    assert.deepEqual({ sent: ex.sent, dropped: ex.dropped, queued: ex.queued }, { sent: 3, dropped: 0, queued: 0 });
  });

  it("a full queue drops and counts; add() says so", () => {
    const ex = new BatchExporter<number>({ name: "t", send: backend([]).send, clock: new FakeClock(), maxQueue: 2 });
    assert.deepEqual([ex.add(1), ex.add(2), ex.add(3)], [true, true, false]);
    assert.equal(ex.accepting, false);
    assert.equal(ex.drop(), false);
    assert.deepEqual({ dropped: ex.dropped, queued: ex.queued }, { dropped: 2, queued: 2 });
  });

  it("retries a retryable failure after 500 ms, then 1 s, 2 s; past maxRetries the batch is dropped and counted", async () => {
    const clock = new FakeClock();
    const b = backend(["retry", "retry", "retry", "retry"]);
    const ex = new BatchExporter<number>({ name: "t", send: b.send, clock, flushIntervalMs: 0 });
    ex.add(7);
    clock.advance(0);
    await settle();
    assert.equal(b.sent.length, 1);
    assert.deepEqual(clock.pendingDelays(), [500]);
    clock.advance(500);
    await settle();
    assert.deepEqual(clock.pendingDelays(), [1000]);
    clock.advance(1000);
    await settle();
    assert.deepEqual(clock.pendingDelays(), [2000]);
    clock.advance(2000);
    await settle();
    assert.equal(b.sent.length, 4);
    assert.deepEqual({ sent: ex.sent, dropped: ex.dropped, retries: ex.retries, failed: ex.failedSends }, { sent: 0, dropped: 1, retries: 3, failed: 4 });
  });

  it("a failure for good is not retried; a thrown error counts as one", async () => {
    const clock = new FakeClock();
    const ex = new BatchExporter<number>({ name: "t", send: () => Promise.reject(new Error("boom")), clock });
    ex.add(1);
    ex.add(2);
    await ex.flush();
    assert.deepEqual({ dropped: ex.dropped, retries: ex.retries, failed: ex.failedSends }, { dropped: 2, retries: 0, failed: 1 });
  });

  it("close() cuts a backoff short: the batch gets one last try, and nothing is accepted after", async () => {
    const clock = new FakeClock();
    const b = backend(["retry", "ok"]);
    const ex = new BatchExporter<number>({ name: "t", send: b.send, clock, flushIntervalMs: 0 });
    ex.add(1);
    clock.advance(0);
    await settle();
    assert.deepEqual(clock.pendingDelays(), [500]);
    await ex.close();
    assert.deepEqual({ sent: ex.sent, tries: b.sent.length }, { sent: 1, tries: 2 });
    assert.equal(ex.add(2), false);
    assert.equal(ex.dropped, 1);
  });
});
