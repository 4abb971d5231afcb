// The Forward protocol client against a real TCP server that decodes what arrives with msgpack
// (npm @msgpack/msgpack) as a Fluentd forward input would: Forward mode `[tag, entries, option]`,
// EventTime ext type 0, and `{ack: chunk}` answers — withheld to check the resend.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ExtData } from "@msgpack/msgpack";
import { systemClock } from "../../../core/clock.ts";
import { FakeClock } from "../../../testing/fake-clock.ts";
import type { AccessLogEntry } from "../access-log/log-entry.ts";
import { forwardInput, type ForwardMessage as Message } from "../../../testing/fluentd-forward-input.ts";
import { FluentdForwarder } from "./forward-client.ts";

const entry = (path: string, startWallMs: number): AccessLogEntry => ({ path, startWallMs }) as unknown as AccessLogEntry;

describe("Fluentd forward client", () => {
  it("sends Forward mode messages with EventTime and a chunk id, and counts the acked records", async () => {
    const rx = await forwardInput(() => false);
    const f = new FluentdForwarder({ target: `127.0.0.1:${rx.port}`, tag: "mesh.access", record: (_l, e) => ({ path: e.path }), clock: systemClock });
    try {
      f.log("", entry("/a", 1_767_225_600_123.5));
      f.log("", entry("/b", 1_767_225_601_000));
      await f.drained();
      await rx.until(1);
      const [tag, entries, option] = rx.messages[0] as Message;
      assert.equal(tag, "mesh.access");
      assert.deepEqual(option.size, 2);
      assert.match(option.chunk ?? "", /^[A-Za-z0-9+/]{22}==$/);
      assert.deepEqual(entries.map((e) => e[1]), [{ path: "/a" }, { path: "/b" }]);
      const t = entries[0]?.[0] as ExtData;
      assert.equal(t.type, 0);
      const b = Buffer.from(t.data as Uint8Array);
      assert.deepEqual([b.readUInt32BE(0), b.readUInt32BE(4)], [1_767_225_600, 123_500_000]);
      assert.deepEqual({ sent: f.batches.sent, dropped: f.batches.dropped }, { sent: 2, dropped: 0 });
    } finally {
      await f.close();
      void rx.close();
    }
  });

  it("no ack within the timeout: the chunk is sent again with the same id", async () => {
    const rx = await forwardInput((n) => n === 1);
    // On a fake clock: with real time, a stall of this process for the 200 ms between the resend
    // and its ack (a loaded machine) timed the ack out too and sent a third time.
    const clock = new FakeClock();
    const f = new FluentdForwarder({ target: `127.0.0.1:${rx.port}`, tag: "t", record: () => ({ k: 1 }), clock, ackTimeoutMs: 200, retryBaseMs: 10 });
    try {
      f.log("", entry("/x", 1_767_225_600_000));
      const drained = f.drained();
      await rx.until(1);
      clock.advance(200);
      await new Promise<void>((r) => setImmediate(r));
      clock.advance(10);
      await drained;
      await rx.until(2);
      assert.equal(rx.messages[1]?.[2].chunk, rx.messages[0]?.[2].chunk);
      assert.deepEqual({ sent: f.batches.sent, retries: f.batches.retries, dropped: f.batches.dropped }, { sent: 1, retries: 1, dropped: 0 });
    } finally {
      await f.close();
      void rx.close();
    }
  });

  it("no server: retried, then dropped and counted", async () => {
    const rx = await forwardInput(() => false);
    const port = rx.port;
    await rx.close();
    const f = new FluentdForwarder({ target: `127.0.0.1:${port}`, tag: "t", record: () => ({}), clock: systemClock, maxRetries: 2, retryBaseMs: 1 });
    f.log("", entry("/x", 0));
    f.log("", entry("/y", 0));
    await f.drained();
    assert.deepEqual({ sent: f.batches.sent, dropped: f.batches.dropped, retries: f.batches.retries, failed: f.batches.failedSends }, { sent: 0, dropped: 2, retries: 2, failed: 3 });
    await f.close();
  });

  it("a connection not made within the timeout is a failed send, not a batch loop waiting forever", { timeout: 10_000 }, async () => {
    const rx = await forwardInput();
    const clock = new FakeClock();
    const f = new FluentdForwarder({ target: `127.0.0.1:${rx.port}`, tag: "t", record: () => ({}), clock, ackTimeoutMs: 1000, maxRetries: 1, retryBaseMs: 10 });
    try {
      f.log("", entry("/x", 0));
      const drained = f.drained();
      // The connect is under way (drained() started it); its time runs out before it completes.
      clock.advance(1000);
      await new Promise<void>((r) => setImmediate(r));
      // A failed send: after its backoff, the batch is sent again on a new connection, and acked.
      clock.advance(10);
      let wait: NodeJS.Timeout | undefined;
      const stuck = new Promise<string>((r) => (wait = setTimeout(() => r("the batch loop still waits on the first connect"), 5000)));
      assert.equal(await Promise.race([drained.then(() => "drained"), stuck]), "drained");
      clearTimeout(wait);
      assert.deepEqual({ sent: f.batches.sent, dropped: f.batches.dropped, retries: f.batches.retries, failed: f.batches.failedSends }, { sent: 1, dropped: 0, retries: 1, failed: 1 });
      assert.equal(rx.messages.length, 1);
      await f.close();
    } finally {
      void rx.close();
    }
  });
});
