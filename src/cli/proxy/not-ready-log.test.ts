import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { logWhileNotReady } from "./not-ready-log.ts";

describe("logWhileNotReady", () => {
  it("says every 10 s what the sidecar still waits for, until stopped", () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    let waits = ["the first config (stream to https://cp:15012 open)", "the workload certificate"];
    const l = logWhileNotReady(() => waits, (line) => lines.push(line), clock);
    clock.advance(9_999);
    assert.deepEqual(lines, []);
    clock.advance(1);
    assert.deepEqual(lines, ["not ready after 10 s: waiting for the first config (stream to https://cp:15012 open) and the workload certificate"]);
    waits = ["the workload certificate"];
    clock.advance(10_000);
    assert.equal(lines.at(-1), "not ready after 20 s: waiting for the workload certificate");
    l.stop();
    clock.advance(60_000);
    assert.equal(lines.length, 2);
    assert.equal(clock.pending(), 0);
  });
});
