import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { emptyConfig } from "../../testing/proxy-context.ts";
import { Sidecar } from "../sidecar.ts";
import { IdleGc } from "./idle-gc.ts";

const MB = 1024 * 1024;

/** An IdleGc on a fake clock over a fake heap: `traffic()` counts a request, `grow(n)` adds n MB. */
function setup() {
  const clock = new FakeClock();
  const state = { activity: 0, heap: 20 * MB, gcs: 0 };
  const idle = new IdleGc({
    clock,
    activity: () => state.activity,
    heapBytes: () => state.heap,
    // A collection gives back what the traffic grew.
    gc: () => {
      state.gcs++;
      state.heap = 12 * MB;
    },
  });
  idle.start();
  return { clock, state, idle, traffic: () => state.activity++, grow: (n: number) => (state.heap += n * MB) };
}

describe("IdleGc", () => {
  it("collects once after start when the proxy stays quiet (what the config's load left behind)", () => {
    const { clock, state } = setup();
    clock.advance(999);
    assert.equal(state.gcs, 0);
    clock.advance(1);
    assert.equal(state.gcs, 1, "the first quiet second after start");
    clock.advance(10_000);
    assert.equal(state.gcs, 1);
    clock.advance(60_000);
    assert.equal(state.gcs, 1, "quiet since: nothing more");
  });

  it("traffic from the first second on: no collection until the first quiet interval", () => {
    const { clock, state, traffic } = setup();
    traffic();
    clock.advance(1_000);
    assert.equal(state.gcs, 0);
    traffic();
    clock.advance(10_000);
    assert.equal(state.gcs, 0);
    clock.advance(10_000);
    assert.equal(state.gcs, 1);
  });

  it("a burst then a quiet interval: one collection; none while traffic goes on", () => {
    const { clock, state, traffic, grow } = setup();
    clock.advance(10_000);
    assert.equal(state.gcs, 1);
    for (let i = 0; i < 5; i++) {
      traffic();
      grow(6);
      clock.advance(10_000);
    }
    assert.equal(state.gcs, 1, "busy intervals: no collection");
    clock.advance(10_000);
    assert.equal(state.gcs, 2, "the first quiet interval after the burst");
    clock.advance(50_000);
    assert.equal(state.gcs, 2);
  });

  it("traffic that did not grow the heap by 4 MB: no collection", () => {
    const { clock, state, traffic, grow } = setup();
    clock.advance(10_000);
    for (let i = 0; i < 6; i++) {
      traffic();
      grow(0.5);
      clock.advance(20_000);
    }
    assert.equal(state.gcs, 1, "only the one after start");
  });

  it("stop(): no timer left", () => {
    const { clock, idle } = setup();
    idle.stop();
    assert.equal(clock.pending(), 0);
  });
});

describe("Sidecar with SidecarOptions.gc", () => {
  it("collects once when it stays quiet after start; close() stops the checks", async () => {
    const clock = new FakeClock();
    let gcs = 0;
    const s = await Sidecar.start(emptyConfig(), { clock, gc: () => gcs++ });
    try {
      assert.equal(s.activity(), 0);
      clock.advance(10_000);
      assert.equal(gcs, 1);
      s.ctx.downstream.downstream_rq_total++;
      assert.equal(s.activity(), 1, "downstream requests count as traffic");
    } finally {
      await s.close(0);
    }
    assert.equal(clock.pending(), 0);
  });

  it("without it: no checks", async () => {
    const s = await Sidecar.start(emptyConfig(), { clock: new FakeClock() });
    assert.equal(s.idleGc, null);
    await s.close(0);
  });
});
