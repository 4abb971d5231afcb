import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { emptyConfig } from "../../testing/proxy-context.ts";
import { Sidecar } from "../sidecar.ts";
import { IdleGc } from "./idle-gc.ts";

const MB = 1024 * 1024;

/**
 * An IdleGc on a fake clock over a fake heap: `traffic()` counts a request, `grow(n)` adds n MB;
 * `duringGc` runs inside each collection (a request arriving meanwhile). No aging collections unless asked.
 */
function setup(o: { agingCollections?: number; duringGc?: (n: number) => void } = {}) {
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
      o.duringGc?.(state.gcs);
    },
    agingCollections: o.agingCollections ?? 0,
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

  it("the start's collection is followed by the aging ones, each in a timer turn of its own, while quiet", () => {
    const { clock, state, traffic, grow } = setup({ agingCollections: 3 });
    clock.advance(999);
    assert.equal(state.gcs, 0);
    clock.advance(1);
    assert.equal(state.gcs, 4, "the start's and three more");
    assert.equal(clock.pendingDelays().filter((d) => d === 0).length, 0, "none left to run");
    traffic();
    grow(6);
    clock.advance(10_000);
    clock.advance(10_000);
    assert.equal(state.gcs, 5, "after a burst: one collection, no aging series");
  });

  it("traffic before the first collection: no aging series (only the start's collection ages the start's code)", () => {
    const { clock, state, traffic } = setup({ agingCollections: 3 });
    traffic();
    clock.advance(1_000);
    clock.advance(10_000);
    assert.equal(state.gcs, 1);
    assert.equal(clock.pendingDelays().filter((d) => d === 0).length, 0);
  });

  it("a request between the aging collections ends the series", () => {
    const { clock, state } = setup({ agingCollections: 3, duringGc: (n) => (n === 2 ? state.activity++ : undefined) });
    clock.advance(1_000);
    assert.equal(state.gcs, 2, "the start's, one aging collection, then traffic: no more");
    clock.advance(60_000);
    assert.equal(state.gcs, 2, "not resumed later");
  });

  it("stop() between the aging collections: none runs after it", () => {
    const { clock, state, idle } = setup({ agingCollections: 3, duringGc: (n) => (n === 1 ? idle.stop() : undefined) });
    clock.advance(1_000);
    assert.equal(state.gcs, 1);
    assert.equal(clock.pending(), 0);
  });
});

describe("Sidecar with SidecarOptions.gc", () => {
  it("collects when it stays quiet after start; close() stops the checks", async () => {
    const clock = new FakeClock();
    let gcs = 0;
    const s = await Sidecar.start(emptyConfig(), { clock, gc: () => gcs++ });
    try {
      assert.equal(s.activity(), 0);
      clock.advance(10_000);
      assert.equal(gcs, 4, "the start's collection and the three that age its code out");
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
